package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/build"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/fcemu"
	"github.com/start-ecs/start-ecs/internal/harness"
)

const region = "cn-hangzhou"

// binaries are the three functions, built for this machine with the flags
// that ship.
type binaries struct {
	StartECS, Empty, Floor string
}

func buildAll(ctx context.Context, root, dir string) (binaries, error) {
	b := binaries{
		StartECS: filepath.Join(dir, "start-ecs"),
		Empty:    filepath.Join(dir, "empty"),
		Floor:    filepath.Join(dir, "floor"),
	}
	for pkg, out := range map[string]string{".": b.StartECS, "./internal/benchfn/empty": b.Empty, "./internal/benchfn/floor": b.Floor} {
		if err := build.Package(ctx, root, pkg, out, build.Options{}); err != nil {
			return b, err
		}
	}
	return b, nil
}

// sizes are the shipped binary's and zip's, as scripts/build.sh reports them.
type sizes struct {
	Binary, Zip int64
}

var buildLine = regexp.MustCompile(`: (\d+) bytes \(binary main: (\d+) bytes\)`)

func shippedSize(ctx context.Context, root, dir string) (*sizes, error) {
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "build.sh"), filepath.Join(dir, "dist")) //nolint:gosec // G204: the repository's own build script
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("scripts/build.sh: %w\n%s", err, out)
	}
	m := buildLine.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("scripts/build.sh said no sizes: %s", out)
	}
	z, _ := strconv.ParseInt(string(m[1]), 10, 64)
	bin, _ := strconv.ParseInt(string(m[2]), 10, 64)
	return &sizes{Binary: bin, Zip: z}, nil
}

// machine describes where the figures were taken.
type machine struct {
	Date, CPU, OS, Go, Load string
	Cores                   int
}

func describeMachine(now time.Time) machine {
	m := machine{Date: now.UTC().Format("2006-01-02 15:04 UTC"), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version(), Cores: runtime.NumCPU(), CPU: "unknown", Load: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.Load = strings.Join(f[:3], " ")
		}
	}
	return m
}

// fleet is n stopped instances in one region, tagged benchTag.
func fleet(n int) ecsemu.Fleet {
	f := ecsemu.Fleet{Instances: make([]ecsemu.Instance, n)}
	for i := range f.Instances {
		f.Instances[i] = ecsemu.Instance{InstanceID: fmt.Sprintf("i-bench%010d", i), RegionID: region, Status: ecsemu.Stopped, StoppedMode: "KeepCharging",
			Tags: map[string]string{benchTagKey: benchTagValue}}
	}
	return f
}

// The tag of every instance of fleet, which the tag-selection run selects.
const benchTagKey, benchTagValue = "bench", "scale"

// tagInvoke selects the whole fleet by its tag.
func tagInvoke() []byte {
	b, _ := json.Marshal(map[string]any{"regionId": region, "tags": []map[string]string{{"key": benchTagKey, "value": benchTagValue}}})
	return b
}

func directInvoke(f ecsemu.Fleet) []byte {
	ids := make([]string, len(f.Instances))
	for i, in := range f.Instances {
		ids[i] = in.InstanceID
	}
	b, _ := json.Marshal(map[string]any{"instanceIds": ids})
	return b
}

func newECS(f ecsemu.Fleet) *ecsemu.Server {
	s := ecsemu.New(ecsemu.Options{Fleet: f, Credentials: []ecsemu.Credential{harness.Role}, StartDelay: -1})
	s.Start()
	return s
}

func newFC(timeout time.Duration) (*fcemu.Server, error) {
	r := harness.Role
	return fcemu.NewWithConfig(fcemu.Config{FunctionName: "start-ecs", Timeout: timeout,
		Credentials: fcemu.Credentials{AccessKeyID: r.AccessKeyID, AccessKeySecret: r.AccessKeySecret, SecurityToken: r.SecurityToken}})
}

func functionEnv(ecsURL string, extra ...string) []string {
	return append([]string{"ECS_ENDPOINT=" + ecsURL, "DEFAULT_REGION_ID=" + region}, extra...)
}

// cold is the cold-start figures of one function: every round, in ms.
type cold struct {
	Name          string
	FirstPoll     []float64
	FirstResponse []float64
}

// coldStarts starts each function rounds times, in a rotating order so that
// none always runs right after another, each with a 1-instance direct invoke
// queued before the exec.
func coldStarts(ctx context.Context, b binaries, rounds int) ([]*cold, error) {
	fns := []*cold{{Name: "empty"}, {Name: "floor"}, {Name: "start-ecs"}}
	paths := map[string]string{"empty": b.Empty, "floor": b.Floor, "start-ecs": b.StartECS}
	f := fleet(1)
	ecs := newECS(f)
	defer ecs.Close()
	payload := directInvoke(f)
	for r := range rounds {
		for i := range fns {
			c := fns[(i+r)%len(fns)]
			if err := ecs.SetInstance(f.Instances[0]); err != nil {
				return nil, err
			}
			poll, answer, err := coldOnce(ctx, paths[c.Name], ecs.URL(), payload)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.Name, err)
			}
			c.FirstPoll = append(c.FirstPoll, ms(poll))
			c.FirstResponse = append(c.FirstResponse, ms(answer))
		}
	}
	return fns, nil
}

func coldOnce(ctx context.Context, bin, ecsURL string, payload []byte) (poll, answer time.Duration, err error) {
	fc, err := newFC(30 * time.Second)
	if err != nil {
		return 0, 0, err
	}
	defer fc.Close()
	type res struct {
		r   *fcemu.Result
		at  time.Time
		err error
	}
	got := make(chan res, 1)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	go func() {
		r, err := fc.Invoke(ctx, fcemu.Invocation{Payload: payload})
		got <- res{r, time.Now(), err}
	}()
	fn, err := fc.StartFunction(ctx, bin, functionEnv(ecsURL))
	if err != nil {
		return 0, 0, err
	}
	fn.Forget()
	polled, err := fc.FirstPoll(ctx)
	if err != nil {
		return 0, 0, err
	}
	a := <-got
	if a.err != nil {
		return 0, 0, a.err
	}
	if a.r.IsError {
		return 0, 0, fmt.Errorf("the invocation failed: %s: %s", a.r.ErrorType, a.r.ErrorMessage)
	}
	return polled.Sub(fn.Started()), a.at.Sub(fn.Started()), nil
}

// warm is the warm 1-instance invocations of start-ecs.
type warm struct {
	Overhead       []float64 // ms: round trip minus the ECS emulator's time
	NewConnections int64     // TCP connections to ECS opened after the first invocation
	// EmptyRoundTrip is the empty function's warm round trip (ms): what the
	// runtime API emulator and the SDK's loop cost before any work.
	EmptyRoundTrip []float64
	// FloorOverhead is the floor function's warm overhead, measured like
	// start-ecs's: the least a function on the pinned libraries can do.
	FloorOverhead []float64
	// CPU is the CPU time (ms) each function (start-ecs, floor, empty)
	// used per warm invocation, its process's whole user and system time
	// over the warm invocations divided by their number.
	CPU []float64
}

// warmFn is one function kept warm for the warm figures: its runtime API
// emulator and, for those that call ECS, its ECS emulator with the one
// instance it starts each time.
type warmFn struct {
	fc    *fcemu.Server
	ecs   *ecsemu.Server // nil for the empty function
	fleet ecsemu.Fleet
	conns int64 // ECS connections after the first (cold) invocation
	fn    *fcemu.Process
}

func startWarm(ctx context.Context, bin string, callsECS bool) (*warmFn, error) {
	w := &warmFn{fleet: fleet(1)}
	var env []string
	if callsECS {
		w.ecs = newECS(w.fleet)
		env = functionEnv(w.ecs.URL())
	}
	var err error
	if w.fc, err = newFC(30 * time.Second); err != nil {
		w.close()
		return nil, err
	}
	if w.fn, err = w.fc.StartFunction(ctx, bin, env); err != nil {
		w.close()
		return nil, err
	}
	w.fn.Forget()
	return w, nil
}

func (w *warmFn) close() {
	if w.fc != nil {
		w.fc.Close()
	}
	if w.ecs != nil {
		w.ecs.Close()
	}
}

// once invokes the function with its stopped instance and gives the round
// trip minus the ECS emulator's time on the invocation's calls (ms).
func (w *warmFn) once(ctx context.Context) (float64, error) {
	if w.ecs != nil {
		if err := w.ecs.SetInstance(w.fleet.Instances[0]); err != nil {
			return 0, err
		}
		w.ecs.ResetCalls()
	}
	payload := directInvoke(w.fleet)
	began := time.Now()
	r, err := w.fc.Invoke(ctx, fcemu.Invocation{Payload: payload})
	rt := time.Since(began)
	if err != nil {
		return 0, err
	}
	if w.ecs == nil {
		if r.IsError {
			return 0, fmt.Errorf("the empty function failed: %s", r.ErrorMessage)
		}
		return ms(rt), nil
	}
	if err := started(r, 1); err != nil {
		return 0, err
	}
	for _, c := range w.ecs.Calls() {
		rt -= c.Duration
	}
	return ms(rt), nil
}

// warmRuns keeps start-ecs, the floor and the empty function warm side by
// side and invokes each n times after a first (cold) one, in blocks of
// warmBlock invocations of one function, the three taking turns in a
// rotating order: the machine's drift touches all three alike, and each
// block runs with its function's caches warm as a busy function's would be.
// It gives start-ecs's and the floor's overhead (round trip minus the ECS
// emulator's time), the empty function's whole round trip, and the TCP
// connections start-ecs's warm invocations opened to ECS.
func warmRuns(ctx context.Context, b binaries, n int) (*warm, error) {
	bins := []struct {
		bin      string
		callsECS bool
	}{{b.StartECS, true}, {b.Floor, true}, {b.Empty, false}}
	fns := make([]*warmFn, len(bins))
	for i, x := range bins {
		f, err := startWarm(ctx, x.bin, x.callsECS)
		if err != nil {
			return nil, err
		}
		defer f.close()
		fns[i] = f
		if _, err := f.once(ctx); err != nil { // the cold one: it opens the connection the others reuse
			return nil, fmt.Errorf("first invocation of %s: %w", x.bin, err)
		}
		if f.ecs != nil {
			f.conns = f.ecs.Stats().Connections
		}
	}
	w := &warm{}
	outs := []*[]float64{&w.Overhead, &w.FloorOverhead, &w.EmptyRoundTrip}
	cpu := make([]time.Duration, len(fns))
	for i, f := range fns {
		var err error
		if cpu[i], err = f.fn.CPUTime(); err != nil {
			return nil, err
		}
	}
	for round := 0; len(w.Overhead) < n; round++ {
		for k := range fns {
			i := (round + k) % len(fns)
			for range min(warmBlock, n-len(*outs[i])) {
				d, err := fns[i].once(ctx)
				if err != nil {
					return nil, fmt.Errorf("warm invocation of %s: %w", bins[i].bin, err)
				}
				*outs[i] = append(*outs[i], d)
			}
		}
	}
	w.NewConnections = fns[0].ecs.Stats().Connections - fns[0].conns
	for i, f := range fns {
		after, err := f.fn.CPUTime()
		if err != nil {
			return nil, err
		}
		w.CPU = append(w.CPU, ms(after-cpu[i])/float64(n))
	}
	return w, nil
}

// warmBlock is how many warm invocations of one function run in a row.
const warmBlock = 25

// started checks that the answer says n instances started.
func started(r *fcemu.Result, n int) error {
	if r.IsError {
		return fmt.Errorf("the invocation failed: %s: %s", r.ErrorType, r.ErrorMessage)
	}
	// start-ecs's result and the floor's (ECS's own answer) both list the
	// instances under InstanceResponses.InstanceResponse, each with ECS's
	// Code.
	var res struct {
		InstanceResponses struct {
			InstanceResponse []struct{ Code string }
		}
	}
	if err := json.Unmarshal(r.Payload, &res); err != nil {
		return fmt.Errorf("the answer: %w", err)
	}
	ok := 0
	for _, ir := range res.InstanceResponses.InstanceResponse {
		if ir.Code == "200" {
			ok++
		}
	}
	if ok != n {
		return fmt.Errorf("the answer says %.300s, not %d started", r.Payload, n)
	}
	return nil
}

// scale is one invocation naming N instances against a throttled ECS.
type scale struct {
	N             int
	Rate          float64
	Burst         int           // the flow limit's bucket: calls ECS accepts at once
	Tags          bool          // the instances selected by tag, not named
	Pages         int           // DescribeInstances calls ECS accepted (the tag selection's pages)
	Accepted      int           // StartInstances calls ECS accepted
	Throttled     int           // StartInstances calls ECS throttled
	Wall          time.Duration // invoke → answer
	Ideal         time.Duration // calls (and pages) / rate
	Lost          int           // instances not Started in the answer, or not started by ECS
	StartedTwice  int           // instances in more than one accepted call
	PeakRSS       int64         // bytes, the function's VmHWM after the invocation
	AnswerOutcome map[result.Outcome]int
	Error         string // the function's error, when it returned one
}

// scaleRun invokes the function once for n stopped instances, named in the
// request or, with tags, selected by their tag (ECS then pages through them
// 100 at a time, one page after the other, under the same flow limit).
func scaleRun(ctx context.Context, bin string, n int, rate float64, burst int, latency time.Duration, tags bool) (*scale, error) {
	f := fleet(n)
	ecs := newECS(f)
	defer ecs.Close()
	// ECS's flow control allows so many calls a second: a token bucket
	// holding one second of calls. The throttle-bound ideal is the issue's:
	// the calls at the rate (100 calls at 20/s: 5 s); the bucket, full at the
	// start, lets a perfect client finish a second sooner.
	calls := (n + 99) / 100
	if tags {
		calls *= 2 // a page of DescribeInstances for each StartInstances call
	}
	ideal := time.Duration(float64(calls) / rate * float64(time.Second))
	payload := directInvoke(f)
	if tags {
		payload = tagInvoke()
	}
	s, outcome, err := invokeOnce(ctx, bin, ecs, payload, []string{"MAX_INSTANCES=" + strconv.Itoa(max(n, 1000))}, ideal, latency, rate, burst)
	if err != nil {
		return nil, err
	}
	s.N, s.Tags = n, tags
	calledIn := map[string]int{}
	for _, c := range ecs.Calls() {
		if c.Action == "DescribeInstances" && c.HTTPStatus == 200 {
			s.Pages++
		}
		if c.Action != "StartInstances" {
			continue
		}
		if c.HTTPStatus != 200 {
			s.Throttled++
			continue
		}
		s.Accepted++
		for _, id := range c.InstanceIDs {
			calledIn[id]++
		}
	}
	for _, in := range f.Instances {
		now, _ := ecs.Instance(in.InstanceID)
		if outcome[in.InstanceID] != result.Started || now.Status == ecsemu.Stopped {
			s.Lost++
		}
		if calledIn[in.InstanceID] > 1 {
			s.StartedTwice++
		}
	}
	return s, nil
}

// invokeOnce starts the function against ecs with env added, invokes it
// once with payload under latency and the flow limit (rate, burst), and
// returns what one run measures: wall, ideal, peak RSS, the outcomes the
// answer gave (by instance) or the error it returned. The caller counts
// ECS's calls.
func invokeOnce(ctx context.Context, bin string, ecs *ecsemu.Server, payload []byte, env []string, ideal, latency time.Duration, rate float64, burst int) (*scale, map[string]result.Outcome, error) {
	timeout := 3*ideal + 30*time.Second
	fc, err := newFC(timeout)
	if err != nil {
		return nil, nil, err
	}
	defer fc.Close()
	fn, err := fc.StartFunction(ctx, bin, functionEnv(ecs.URL(), env...))
	if err != nil {
		return nil, nil, err
	}
	fn.Forget()
	ecs.SetFaults(ecsemu.Faults{Latency: latency, Rate: rate, Burst: burst})
	began := time.Now()
	r, err := fc.Invoke(ctx, fcemu.Invocation{Payload: payload, Timeout: timeout})
	wall := time.Since(began)
	if err != nil {
		return nil, nil, err
	}
	s := &scale{Rate: rate, Burst: burst, Wall: wall, Ideal: ideal, AnswerOutcome: map[result.Outcome]int{}}
	if s.PeakRSS, err = fn.PeakRSS(); err != nil {
		return nil, nil, err
	}
	var res result.Result
	if r.IsError {
		// Unfinished instances make the invocation an error (safe to retry):
		// every instance it did not start counts as lost.
		s.Error = fmt.Sprintf("%s: %.200s", r.ErrorType, r.ErrorMessage)
	} else if err := json.Unmarshal(r.Payload, &res); err != nil {
		return nil, nil, fmt.Errorf("the answer: %w", err)
	}
	outcome := map[string]result.Outcome{}
	for _, ir := range res.InstanceResponses.InstanceResponse {
		outcome[ir.InstanceID] = ir.Outcome
		s.AnswerOutcome[ir.Outcome]++
	}
	return s, outcome, nil
}

// The schedule tick of scheduleRun: its moment, and the values due then
// and not.
const (
	schedTick   = "2027-02-22T08:00:00Z"
	schedDue    = "08:00 UTC"
	schedNotDue = "20:00 workdays UTC"
)

// scheduleRun invokes the function once as the schedule-tick timer fired
// at schedTick, over n stopped instances carrying start-schedule, one in
// 100 due (DESIGN §3.2): the lookup reads every page (Tag.1.Key alone),
// and only the due are started. Lost counts the due instances not
// Started, StartedTwice the not-due ones that were started.
func scheduleRun(ctx context.Context, bin string, n int, rate float64, burst int, latency time.Duration) (*scale, error) {
	f := fleet(n)
	due := map[string]bool{}
	for i := range f.Instances {
		v := schedNotDue
		if i%100 == 0 {
			v = schedDue
			due[f.Instances[i].InstanceID] = true
		}
		f.Instances[i].Tags = map[string]string{"start-schedule": v}
	}
	ecs := newECS(f)
	defer ecs.Close()
	// The pages come one after the other (each NextToken is the last
	// page's): latency each, and no faster than the rate once the bucket
	// is spent; then one call starts the due.
	pages := (n + 99) / 100
	calls := pages + (len(due)+99)/100
	ideal := max(time.Duration(pages)*latency, time.Duration(float64(max(calls-burst, 0))/rate*float64(time.Second)))
	payload, _ := json.Marshal(map[string]string{"triggerTime": schedTick, "triggerName": "schedule-tick",
		"payload": `{"regionId":"` + region + `","schedule":{"every":"5m"}}`})
	s, outcome, err := invokeOnce(ctx, bin, ecs, payload, []string{"MAX_EVENT_AGE=0"}, ideal, latency, rate, burst)
	if err != nil {
		return nil, err
	}
	s.N, s.Tags = n, true
	for _, c := range ecs.Calls() {
		switch {
		case c.Action == "DescribeInstances" && c.HTTPStatus == 200:
			s.Pages++
		case c.Action == "StartInstances" && c.HTTPStatus != 200:
			s.Throttled++
		case c.Action == "StartInstances":
			s.Accepted++
			for _, id := range c.InstanceIDs {
				if !due[id] {
					s.StartedTwice++ // a not-due instance started
				}
			}
		}
	}
	for id := range due {
		if outcome[id] != result.Started {
			s.Lost++
		}
	}
	return s, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// quantile of xs (not modified), by the nearest rank.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
