package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/fcemu"
	"github.com/start-ecs/start-ecs/internal/harness"
)

// docs/reliability.md's end-to-end part: a sample of the catalogue of bad inputs,
// faults, 50 concurrent invocations and a soak, through the real binary.

// checkSecrets fails if the function's whole output holds a secret: the
// role's secret or token (or a 16-character piece of them), the webhook
// secret, or a signed request's parameters.
func checkSecrets(t *testing.T, out string) {
	t.Helper()
	for _, marker := range []string{"Signature=", "SecurityToken=", webhookSecret} {
		if strings.Contains(out, marker) {
			t.Errorf("the function's output contains %.12s…", marker)
		}
	}
	for _, secret := range []string{harness.Role.AccessKeySecret, harness.Role.SecurityToken} {
		for i := 0; i+16 <= len(secret); i++ {
			if strings.Contains(out, secret[i:i+16]) {
				t.Errorf("the function's output contains a piece of a secret (at %d)", i)
				break
			}
		}
	}
}

// A sample of handler's catalogue (handler/catalogue_test.go), over HTTP to
// the binary: each a 400 naming the field, and nothing sent to ECS.
func TestBadInputsThroughTheBinary(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"WEBHOOK_SECRET": webhookSecret}, ecsemu.Options{})
	const id = "i-bp67acfmxazb4p0001"
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	cases := []struct {
		name, body string
		headers    map[string]string
		query      map[string]string
		field      string
	}{
		{"truncated JSON", `{"instanceIds":["` + id, nil, nil, "body"},
		{"deeply nested", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), nil, nil, "body"},
		{"duplicate key", `{"instanceIds":["` + id + `"],"instanceIds":["i-bp67acfmxazb4p0002"]}`, nil, nil, "instanceIds"},
		{"an ID a number", `{"instanceIds":["` + id + `",7]}`, nil, nil, "instanceIds[1]"},
		{"zero-width space", `{"instanceIds":["i-bp67\u200bacfmxazb4p0001"]}`, nil, nil, "instanceIds[0]"},
		{"NUL in an ID", `{"instanceIds":["` + id + `\u0000"]}`, nil, nil, "instanceIds[0]"},
		{"Cyrillic i", `{"instanceIds":["\u0456-bp67acfmxazb4p0001"]}`, nil, nil, "instanceIds[0]"},
		{"%26Action smuggled", "InstanceId.1=" + id + "%26Action%3DStopInstances", form, nil, "InstanceId.1"},
		{"Action=StopInstances", "Action=StopInstances&InstanceId.1=" + id, form, nil, "Action"},
		{"InstanceId.0", "InstanceId.0=" + id, form, nil, "InstanceId.0"},
		{"sparse indexes", "InstanceId.1=" + id + "&InstanceId.3=i-bp67acfmxazb4p0002", form, nil, "InstanceId.3"},
		{"query beside a body", `{"instanceIds":["` + id + `"]}`, nil, map[string]string{"InstanceId.1": "i-bp67acfmxazb4p0002"}, "InstanceId.1"},
		{"region empty", `{"regionId":"","instanceIds":["` + id + `"]}`, nil, nil, "regionId"},
		{"notAfter in milliseconds", `{"notAfter":1795654800000,"instanceIds":["` + id + `"]}`, nil, nil, "notAfter"},
		{"XML body", `<StartInstances><InstanceId>` + id + `</InstanceId></StartInstances>`, nil, nil, "body"},
		{"a BOM", "\ufeff{\"instanceIds\":[\"" + id + "\"]}", nil, nil, "body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			headers := bearer()
			for k, v := range tc.headers {
				headers[k] = v
			}
			a := httpResult(t, invoke(t, h, httpEvent(tc.body, headers, tc.query)))
			if a.StatusCode != http.StatusBadRequest {
				t.Fatalf("HTTP %d: %.300s", a.StatusCode, a.Body)
			}
			named := strings.Contains(a.Error.Message, tc.field)
			for _, e := range a.Error.Errors {
				named = named || e.Field == tc.field || strings.HasPrefix(e.Field, tc.field+"[")
			}
			if !named {
				t.Fatalf("the answer does not name %s: %.300s", tc.field, a.Body)
			}
		})
	}
	if n := len(h.ECS.Calls()); n != 0 {
		t.Fatalf("%d ECS calls for bad inputs", n)
	}
}

// Faults one after the other in one process over 100 instances: persistent
// 5xx and HTML pages make an async invocation fail (UnfinishedError) with
// every instance logged once, a fault that clears does not, and the process
// serves the next invocation; nothing is started twice.
func TestFaultsThroughTheBinary(t *testing.T) {
	t.Parallel()
	f := manyStopped(100)
	h := startFleet(t, f, nil)
	t.Cleanup(func() { checkSecrets(t, h.Fn.Output()) })
	payload := mustJSON(map[string]any{"instanceIds": idsOf(f)})
	html := func(action string, status int, body []byte) (int, []byte) {
		if action != "StartInstances" {
			return status, body
		}
		return http.StatusOK, []byte("<html><body>proxy error</body></html>")
	}
	steps := []struct {
		name       string
		faults     ecsemu.Faults
		unfinished bool
	}{
		{"500 always", ecsemu.Faults{Internal: 1 << 30}, true},
		{"HTML page with status 200", ecsemu.Faults{Rewrite: html}, true},
		{"resets always", ecsemu.Faults{Reset: 1 << 30}, true},
		{"throttling that clears", ecsemu.Faults{Throttle: 2}, false},
		{"no fault", ecsemu.Faults{}, false},
	}
	for _, s := range steps {
		h.ECS.SetFaults(s.faults)
		h.ECS.ResetCalls()
		out := invoke(t, h, payload, func(i *fcemu.Invocation) { i.Timeout = 4 * time.Second })
		if out.IsError != s.unfinished || (out.IsError && out.ErrorType != "UnfinishedError") {
			t.Fatalf("%s: error %v (%s: %.200s), want %v", s.name, out.IsError, out.ErrorType, out.ErrorMessage, s.unfinished)
		}
		lines := out.LogsOf("instance")
		seen := map[string]bool{}
		for _, l := range lines {
			id, _ := l["instanceId"].(string)
			if seen[id] {
				t.Fatalf("%s: %s logged twice", s.name, id)
			}
			seen[id] = true
			if (l["outcome"] == string(hresult.Unfinished)) != s.unfinished {
				t.Fatalf("%s: %s %v %v", s.name, id, l["outcome"], l["code"])
			}
		}
		if len(seen) != 100 {
			t.Fatalf("%s: %d instances logged of 100", s.name, len(seen))
		}
		started := map[string]int{}
		for _, c := range h.ECS.Calls() {
			for _, id := range c.Started {
				if started[id]++; started[id] > 1 {
					t.Fatalf("%s: %s started twice", s.name, id)
				}
			}
		}
	}
	for _, in := range h.ECS.Instances() {
		if in.Status == ecsemu.Stopped {
			t.Errorf("%s is still Stopped after the faults cleared", in.InstanceID)
		}
	}
}

// 50 invocations at once in one function process (the binary is built with
// the race detector under -race): each answer its own, each instance started
// once though two invocations name it.
func TestFiftyConcurrentInvocations(t *testing.T) {
	t.Parallel()
	f := manyStopped(50)
	h := startFleet(t, f, nil)
	t.Cleanup(func() { checkSecrets(t, h.Fn.Output()) })
	ids := idsOf(f)
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for i, id := range ids {
		wg.Go(func() {
			pair := []string{id, ids[(i+1)%len(ids)]}
			out, err := h.Invoke(context.Background(), fcemu.Invocation{Payload: mustJSON(map[string]any{"instanceIds": pair})})
			if err != nil {
				errs <- err
				return
			}
			var r hresult.Result
			if err := out.Decode(&r); err != nil {
				errs <- err
				return
			}
			if len(r.InstanceResponses.InstanceResponse) != 2 {
				errs <- fmt.Errorf("%s: %+v", id, r.InstanceResponses)
				return
			}
			for _, ir := range r.InstanceResponses.InstanceResponse {
				if ir.Outcome != hresult.Started && ir.Outcome != hresult.AlreadyRunning {
					errs <- fmt.Errorf("%s: %s %s", ir.InstanceID, ir.Outcome, ir.Code)
				}
			}
			if n := len(out.LogsOf("instance")); n != 2 {
				errs <- fmt.Errorf("%s: %d instance lines", id, n)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	started := map[string]int{}
	for _, c := range h.ECS.Calls() {
		for _, id := range c.Started {
			started[id]++
		}
	}
	for _, id := range ids {
		if started[id] != 1 {
			t.Errorf("%s: %d accepted starts", id, started[id])
		}
	}
}

// procFigures reads what a leak would grow in the function's process.
type procFigures struct {
	rssKiB, threads, fds int
}

func readProc(t *testing.T, pid int) procFigures {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var f procFigures
	for _, line := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		n, _ := strconv.Atoi(strings.Fields(v + " 0")[0])
		switch k {
		case "VmRSS":
			f.rssKiB = n
		case "Threads":
			f.threads = n
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("no /proc fds: %v", err)
	}
	f.fds = len(fds)
	return f
}

// The soak through the binary: sequential invocations (300 in the suite;
// 10,000 with START_ECS_LONG=1, or START_ECS_SOAK=n), each starting 5
// instances that are stopped again. The function's open file descriptors
// and threads (from /proc) stay within +5 of what they were after a warm-up,
// its resident memory within +24 MiB; every invocation answers, and the
// output holds no secret.
func TestSoakThroughTheBinary(t *testing.T) {
	t.Parallel()
	n := 300
	if os.Getenv("START_ECS_LONG") != "" {
		n = 10_000
	}
	if s := os.Getenv("START_ECS_SOAK"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	f := manyStopped(20)
	h := startFleet(t, f, nil)
	ids := idsOf(f)
	// Lines go to a follower, not kept: the test's memory stays flat too.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lines := h.Fn.Follow(ctx)
	h.Fn.Forget()
	var summaries int
	var leak string
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		for l := range lines {
			if m, ok := l.JSON(); ok && m["msg"] == "summary" {
				summaries++
			}
			if leak == "" {
				for _, s := range []string{harness.Role.AccessKeySecret[:16], harness.Role.SecurityToken[:16], "Signature=", "SecurityToken="} {
					if strings.Contains(l.Text, s) {
						leak = s[:6]
					}
				}
			}
		}
	}()

	const warmup = 100
	var before procFigures
	began := time.Now()
	for i := range n + warmup {
		if i == warmup {
			before = readProc(t, h.Fn.Pid())
			began = time.Now()
		}
		batch := ids[(i*5)%len(ids) : (i*5)%len(ids)+5]
		res, err := h.FC.Invoke(context.Background(), fcemu.Invocation{Payload: mustJSON(map[string]any{"instanceIds": batch})})
		if err != nil {
			t.Fatalf("invocation %d: %v", i, err)
		}
		if res.IsError || !strings.Contains(string(res.Payload), `"Started":5`) {
			t.Fatalf("invocation %d: %s %s %.300s", i, res.ErrorType, res.ErrorMessage, res.Payload)
		}
		for _, id := range batch {
			if err := h.ECS.SetInstance(ecsemu.Instance{InstanceID: id, RegionID: "cn-hangzhou", Status: ecsemu.Stopped}); err != nil {
				t.Fatal(err)
			}
		}
		h.ECS.ResetCalls()
	}
	took := time.Since(began)
	after := readProc(t, h.Fn.Pid())
	t.Logf("%d invocations through the binary in %v (%.0f/s): RSS %.1f → %.1f MiB, threads %d → %d, open fds %d → %d",
		n, took.Round(time.Millisecond), float64(n)/took.Seconds(), float64(before.rssKiB)/1024, float64(after.rssKiB)/1024,
		before.threads, after.threads, before.fds, after.fds)
	if after.fds > before.fds+5 {
		t.Errorf("open file descriptors grew from %d to %d", before.fds, after.fds)
	}
	if after.threads > before.threads+5 {
		t.Errorf("threads grew from %d to %d", before.threads, after.threads)
	}
	if after.rssKiB > before.rssKiB+24<<10 {
		t.Errorf("resident memory grew from %d to %d KiB", before.rssKiB, after.rssKiB)
	}
	// Let the last lines arrive, then stop following.
	time.Sleep(200 * time.Millisecond)
	cancel()
	<-followed
	if summaries < n {
		t.Errorf("%d summary lines for %d invocations", summaries, n+warmup)
	}
	if leak != "" {
		t.Errorf("the output holds a secret (%s…)", leak)
	}
}
