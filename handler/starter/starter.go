// Package starter does the ECS work of one invocation (DESIGN §7): it
// starts groups of instances (SuccessFirst, AllTogether, dry runs) through
// the one retry loop, under a bound on calls in flight and ECS's pace per
// scope, looks instances up (by ID and by tags, page by page), polls a
// wait, assumes the roles of other accounts, and classifies every answer
// into one Outcome per instance. It knows nothing of events or of the plan:
// it is given groups, scopes and tags, and answers with results.
package starter

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
)

// Group is one set of instances started together: at most 100 IDs in one region
// with one batch optimisation and one dry-run flag. SuccessFirst groups are
// chunks of a pool; an AllTogether group is one request's instances.
type Group struct {
	Scope             ecsapi.Scope
	InstanceIDs       []string
	BatchOptimization string
	DryRun            bool
}

// Backoff is the retry schedule: exponential from Base, capped at Max, with full
// jitter, and at most Attempts calls for one set of instances that ECS
// answers with a transient error other than throttling. Throttling is
// bounded by the deadline alone (DESIGN §7): Attempts throttled calls in a
// row with no call of the scope accepted mean a minute's quota is spent, and
// the next call waits for the next Window.
type Backoff struct {
	Base     time.Duration
	Max      time.Duration
	Attempts int
	// Window is the longest window of ECS's flow control; zero means
	// defaultThrottleWindow. Only tests shorten it.
	Window time.Duration
}

// DefaultBackoff suits ECS's throttling in a second's window, which clears
// within a second or two. A function, not a variable: no package can
// change every Starter's backoff behind its back.
func DefaultBackoff() Backoff {
	return Backoff{Base: 100 * time.Millisecond, Max: 2 * time.Second, Attempts: 8}
}

// defaultThrottleWindow is the window of ECS's per-minute quotas: a call
// throttled in it may not succeed before the next.
const defaultThrottleWindow = time.Minute

// Starter starts groups of instances and decides one Outcome for each (DESIGN §7).
// It is safe for concurrent use; every Start call has state of its own.
type Starter struct {
	ECS           ecsapi.ECS
	MaxConcurrent int
	Backoff       Backoff
	// PollInterval is how often a wait polls for Running (DESIGN §3.1);
	// zero means defaultPollInterval.
	PollInterval time.Duration
	// Roles assumes the roles of other accounts (nil: none can be).
	Roles *RoleCache
}

// defaultPollInterval is how often a wait asks ECS whether its instances run.
const defaultPollInterval = 2 * time.Second

// Warning is something in ECS's answers that the starter ignored rather than
// acted on (DESIGN §7): an entry for an instance the call did not name, or a
// second entry for one it did. The caller logs it at WARN.
type Warning struct {
	RegionID     string
	InstanceID   string // as ECS wrote it (scrubbed)
	Reason       string
	EcsRequestID string
}

// startAll runs every group, concurrently under the starter's bound, and returns one
// result per instance, keyed by regionId/instanceId, and the warnings to log.
// Work still undone when ctx ends is Unfinished.
func (s *Starter) startAll(ctx context.Context, creds ecsapi.Credentials, groups []Group) (map[string]result.InstanceResult, []Warning) {
	return s.start(ctx, s.newRun(creds), groups)
}

// start is Start with a run of the caller's (see NewRun).
func (s *Starter) start(ctx context.Context, r *Run, groups []Group) (map[string]result.InstanceResult, []Warning) {
	one := func(g Group) {
		switch {
		case g.DryRun:
			r.dryRun(ctx, g)
		case g.BatchOptimization == ecsapi.AllTogether:
			r.allTogether(ctx, g)
		default:
			r.successFirst(ctx, g.Scope, g.InstanceIDs)
		}
	}
	if len(groups) == 1 {
		// One group (one call, most invocations) runs here: a goroutine
		// of its own would only add a handoff.
		one(groups[0])
		return r.results, r.warnings
	}
	var wg sync.WaitGroup
	for _, g := range groups {
		wg.Go(func() { one(g) })
	}
	wg.Wait()
	return r.results, r.warnings
}

// newRun is the state of one Start, or of the tag lookups before it: bounded,
// retrying access to ECS for one invocation's credentials.
func (s *Starter) newRun(creds ecsapi.Credentials) *Run {
	b := s.Backoff
	if b.Attempts == 0 {
		b = DefaultBackoff()
	}
	return &Run{s: s, creds: creds, results: make(map[string]result.InstanceResult), lanes: make(map[ecsapi.Scope]*lane), paceMax: b.Max}
}

// NewRun is the starter's state for one invocation's calls: its
// credentials, and its side of AssumeRole (nil: no role can be assumed).
func (s *Starter) NewRun(creds ecsapi.Credentials, session *Session) *Run {
	r := s.newRun(creds)
	r.session = session
	return r
}

// StartGroups runs every group, concurrently under the starter's bound,
// with this run's lanes, pace and roles, and returns one result per
// instance, keyed by ecsapi.InstanceKey(scope, id), and the warnings to log. Work still
// undone when ctx ends is Unfinished.
func (r *Run) StartGroups(ctx context.Context, groups []Group) (map[string]result.InstanceResult, []Warning) {
	return r.s.start(ctx, r, groups)
}

// Warnings are what the run's calls so far ignored of ECS's answers.
func (r *Run) Warnings() []Warning {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.warnings
}

// Run is the state of one invocation's calls (see NewRun): its credentials,
// its side of AssumeRole, a lane per scope, and the results and warnings.
type Run struct {
	s     *Starter
	creds ecsapi.Credentials
	// session is the invocation's side of AssumeRole (roles.go).
	session *Session

	laneMu sync.Mutex
	// lanes hold, per scope (region and account, see ecsapi.ScopeOf), the bound
	// on calls in flight (MaxConcurrent) and the pace once ECS throttles:
	// ECS's flow control counts per account and region, so each scope gets
	// its own.
	lanes   map[ecsapi.Scope]*lane
	paceMax time.Duration

	mu       sync.Mutex
	results  map[string]result.InstanceResult
	warnings []Warning
}

func (r *Run) warn(w Warning) {
	r.mu.Lock()
	r.warnings = append(r.warnings, w)
	r.mu.Unlock()
}

// checkAnswer holds ECS's answer to a call for asked against the call
// (DESIGN §7): an entry for an instance the call did not name is ignored with
// a warning (it passed no policy, so it is never acted on), a second entry
// for the same instance likewise; missing lists the asked instances the
// answer left out.
func (r *Run) checkAnswer(region ecsapi.Scope, asked []string, out *ecsapi.StartInstancesOutput) (entries []ecsapi.InstanceResponse, missing []string) {
	answered := make(map[string]bool, len(asked))
	for _, id := range asked {
		answered[id] = false
	}
	for _, resp := range out.Responses {
		seen, ok := answered[resp.InstanceID]
		switch {
		case !ok:
			r.warn(Warning{RegionID: region.String(), InstanceID: resp.InstanceID, EcsRequestID: out.RequestID,
				Reason: "ECS's answer names an instance the call did not ask for (code " + resp.Code + "): ignored"})
			continue
		case seen:
			r.warn(Warning{RegionID: region.String(), InstanceID: resp.InstanceID, EcsRequestID: out.RequestID,
				Reason: "ECS's answer names the instance twice (second code " + resp.Code + "): the second entry is ignored"})
			continue
		}
		answered[resp.InstanceID] = true
		entries = append(entries, resp)
	}
	for _, id := range asked {
		if !answered[id] {
			missing = append(missing, id)
		}
	}
	return entries, missing
}

// missingVerdict is an instance ECS's answer left out: transient (DESIGN §7).
func missingVerdict(requestID string) Verdict {
	return Verdict{Class: transient, Code: result.CodeMissingInstanceResponse, Message: "ECS's answer did not mention the instance", RequestID: requestID}
}

// set keeps ir as the result of its instance in scope, whose region it
// names.
func (r *Run) set(scope ecsapi.Scope, ir result.InstanceResult) {
	ir.RegionID = scope.Region
	r.mu.Lock()
	r.results[ecsapi.InstanceKey(scope, ir.InstanceID)] = ir
	r.mu.Unlock()
}

func (r *Run) setAll(region ecsapi.Scope, ids []string, o result.Outcome, v Verdict, prev, cur string) {
	for _, id := range ids {
		ir := result.InstanceResult{InstanceID: id, Outcome: o, Code: v.Code,
			Message: v.Message, EcsRequestID: v.RequestID, PreviousStatus: prev, CurrentStatus: cur}
		switch o {
		case result.Failed:
			ir.Advice = v.AdviceText()
		case result.Unfinished:
			ir.Retryable = true
			if v.Class == noStock || v.Code == result.CodeHostRepairing {
				// Out of stock, or the host under repair, until the
				// deadline: what to do if it lasts (DESIGN §9).
				ir.Advice = v.AdviceText()
			}
		}
		r.set(region, ir)
	}
}

// The APIs the starter calls. ECS's flow control counts each apart (per API,
// region and account, DESIGN §7), so each has a pace of its own.
const (
	apiStart    = "StartInstances"
	apiDescribe = "DescribeInstances"
	apiStatus   = "DescribeInstanceStatus"
)

// lane is one scope's share of a run: the bound on its calls in flight and
// the pace of each API.
type lane struct {
	sem   chan struct{}
	paces map[string]*pacer // by API, under startRun.laneMu
}

func (r *Run) lane(scope ecsapi.Scope) *lane {
	r.laneMu.Lock()
	defer r.laneMu.Unlock()
	l, found := r.lanes[scope]
	if !found {
		l = &lane{sem: make(chan struct{}, max(1, r.s.MaxConcurrent)), paces: map[string]*pacer{}}
		r.lanes[scope] = l
	}
	return l
}

// paceOf is the pace of api's calls to scope.
func (r *Run) paceOf(scope ecsapi.Scope, api string) *pacer {
	l := r.lane(scope)
	r.laneMu.Lock()
	defer r.laneMu.Unlock()
	p, found := l.paces[api]
	if !found {
		p = newPacer(r.paceMax)
		l.paces[api] = p
	}
	return p
}

// ecsCall is what one call to a scope holds: a place under the scope's
// bound and then its turn in the scope's pace, the region, and the
// credentials — the function's own, or those of the role the scope names,
// assumed (or reused) through STS (DESIGN §3.1).
type ecsCall struct {
	lane   *lane
	pace   *pacer
	sent   time.Time
	creds  ecsapi.Credentials
	region string
}

// answered frees the call's place and tells the pace how ECS answered.
func (c *ecsCall) answered(throttled bool) {
	<-c.lane.sem
	c.pace.answered(c.sent, throttled)
}

func (r *Run) access(ctx context.Context, scope ecsapi.Scope, api string) (*ecsCall, error) {
	l := r.lane(scope)
	pace := r.paceOf(scope, api)
	// The place, then the credentials, then the turn: a call that took its
	// turn before waiting for a place would go whenever the place came,
	// outside the pace (seen: the calls queued for a place all went at
	// once, each throttled, as ECS began to throttle); an AssumeRole made
	// after the turn would send the call late.
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, &notSentError{why: "it waited for a place among the calls in flight", err: ctx.Err()}
	}
	c := &ecsCall{lane: l, pace: pace, creds: r.creds}
	c.region = scope.Region
	var err error
	if scope.Role != "" {
		if c.creds, err = r.s.Roles.credentials(ctx, r.creds, scope.Role, r.session); err != nil {
			<-l.sem
			return nil, err
		}
	}
	if c.sent, err = pace.wait(ctx); err != nil {
		<-l.sem
		return nil, &notSentError{why: "it waited for its turn in ECS's pace", err: err}
	}
	return c, nil
}

// start calls StartInstances in scope; in's RegionID is scope's region.
func (r *Run) start(ctx context.Context, scope ecsapi.Scope, in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
	c, err := r.access(ctx, scope, apiStart)
	if err != nil {
		return nil, err
	}
	in.RegionID = c.region
	out, err := r.s.ECS.StartInstances(ctx, c.creds, in)
	throttled := throttledCall(err)
	if out != nil {
		for _, e := range out.Responses {
			throttled = throttled || isThrottling(e.Code)
		}
	}
	c.answered(throttled)
	return out, err
}

func (r *Run) describe(ctx context.Context, scope ecsapi.Scope, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
	c, err := r.access(ctx, scope, apiDescribe)
	if err != nil {
		return nil, err
	}
	out, err := r.s.ECS.DescribeInstances(ctx, c.creds, c.region, ids)
	c.answered(throttledCall(err))
	return out, err
}

// pollStatus reads the status of ids for a wait (DescribeInstanceStatus).
func (r *Run) pollStatus(ctx context.Context, scope ecsapi.Scope, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
	c, err := r.access(ctx, scope, apiStatus)
	if err != nil {
		return nil, err
	}
	out, err := r.s.ECS.DescribeInstanceStatus(ctx, c.creds, c.region, ids)
	c.answered(throttledCall(err))
	return out, err
}

// describeByTags reads a page of a tag selection in scope; in's RegionID is
// scope's region.
func (r *Run) describeByTags(ctx context.Context, scope ecsapi.Scope, in ecsapi.DescribeByTagsInput) (*ecsapi.DescribeInstancesOutput, error) {
	c, err := r.access(ctx, scope, apiDescribe)
	if err != nil {
		return nil, err
	}
	in.RegionID = c.region
	out, err := r.s.ECS.DescribeInstancesByTags(ctx, c.creds, in)
	c.answered(throttledCall(err))
	return out, err
}

// throttledCall says whether ECS refused a whole call for its flow control.
func throttledCall(err error) bool {
	return err != nil && isThrottling(classify(err).Code)
}

// next says how the retry loop goes on after one call (DESIGN §7).
type next int

const (
	// backoff: a transient answer (throttling, 5xx, network); at most
	// Backoff.Attempts calls of a kind end this way.
	backoff next = iota
	// settle: instances in transition (Stopping, Pending); bounded by the
	// deadline alone, since an instance takes its own time to stop.
	settle
	// now: call again at once (AllTogether after setting running ones aside).
	now
	// giveUp: stop with what is left Unfinished (a lookup that could not be
	// done in time).
	giveUp
	// onward: progress (a page of a tag selection read): call again at once
	// for the rest, with a fresh transient budget.
	onward
	// poll: a wait's poll answered and some instances do not run yet: call
	// again after PollInterval, bounded by the deadline alone, with a fresh
	// transient budget.
	poll
	// restock: the zone is out of stock (OperationDenied.NoStock): call
	// again after a backoff that grows to restockMax times Backoff.Max,
	// bounded by the deadline alone, since capacity comes back (DESIGN §9).
	restock
)

// restockMax is how many times Backoff.Max the wait between calls for
// instances out of stock may grow to: stock returns in minutes, not
// seconds, and each call spends StartInstances' quota.
const restockMax = 8

// attempt is what one call of a kind decided: the instances still to call
// (none: the kind is done), how to go on, and the answer that explains it.
type attempt struct {
	pending []string
	next    next
	last    Verdict
	// pause, for next poll, is the time to the next poll when it is not
	// PollInterval (the last poll of a wait, at its end).
	pause time.Duration
}

// done is an attempt that leaves nothing to do.
var done = attempt{}

// retry is the one retry loop of the starter: every kind of call (start
// SuccessFirst, start AllTogether, dry run, lookup, tag page, wait poll) is a
// function call that makes one call for the work still pending (instance
// IDs, or a tag selection's next page) and says what is left; retry owns the
// rest. It waits between calls with exponential
// backoff and jitter, keeps the transient budget (Backoff.Attempts calls) and
// the settle rounds apart, never waits past ctx's deadline, and when a budget
// or the deadline runs out hands what is left and the last answer to
// unfinished, the Unfinished exit. It reports whether everything was done.
func (r *Run) retry(ctx context.Context, scope ecsapi.Scope, api string, pending []string, call func(pending []string) attempt, unfinished func(left []string, last Verdict)) bool {
	last := Verdict{}
	var st retryState
	pace := r.paceOf(scope, api)
	for len(pending) > 0 {
		if why, stop := noTurn(ctx, pace, last); stop {
			unfinished(pending, why)
			return false
		}
		mark, sent := pace.acceptedCalls(), time.Now()
		a := call(pending)
		last = lastAnswer(ctx, last, a.last)
		if a.next == now && len(a.pending) >= len(pending) {
			a.next = settle // "at once" must shrink the work, or it would never end
		}
		pending = a.pending
		if len(pending) == 0 {
			return true
		}
		if !r.await(ctx, a, pace, &st, sent, mark) {
			unfinished(pending, last)
			return false
		}
	}
	return true
}

// retryState is what retry counts across its calls: the transient budget
// spent, the settle rounds, and the current run of throttled calls.
type retryState struct {
	tries, settles, restocks int
	streak                   throttleStreak
}

// noTurn says whether no call may be sent now, and then the answer to
// report: the deadline has come, or ECS's pace leaves no turn before it (a
// call sent anyway would be cut off and report the deadline instead of
// ECS's last answer). last is the last answer so far.
func noTurn(ctx context.Context, pace *pacer, last Verdict) (Verdict, bool) {
	if ctx.Err() != nil {
		if last == (Verdict{}) {
			last = notSentVerdict("") // no call was made: the deadline is the reason
		}
		return last, true
	}
	if !pace.fits(ctx) {
		if last == (Verdict{}) {
			last = notSentVerdict("ECS's pace left no turn before it")
		}
		return last, true
	}
	return Verdict{}, false
}

// lastAnswer is the answer to report after a call that said got, last
// being the one before it.
func lastAnswer(ctx context.Context, last, got Verdict) Verdict {
	switch {
	case got == (Verdict{}):
	case got.Code == result.CodeDeadlineExceeded && ctx.Err() != nil && last.Code != "" && last.Code != result.CodeDeadlineExceeded:
		// A retry cut off by the deadline: ECS's last answer says why
		// the work is undone, and the call in flight may have taken
		// effect (DESIGN §7).
		last.inFlight = true
	default:
		last = got
	}
	return last
}

// await waits as a's next says before the next call, and reports whether
// another call fits (budget and deadline).
func (r *Run) await(ctx context.Context, a attempt, pace *pacer, st *retryState, sent time.Time, mark int64) bool {
	switch {
	case a.next == backoff && isThrottling(a.last.Code) && pace.acceptedCalls() > mark:
		// Throttled while ECS accepted other calls: the next call waits
		// for its turn in the shared pace (pacer) and spends no budget.
		st.streak = throttleStreak{}
	case a.next == backoff && isThrottling(a.last.Code):
		// ECS accepts no call of the scope: wait, bounded by the
		// deadline, not by a count (throttledWait).
		return r.throttledWait(ctx, pace, &st.streak, sent, mark)
	case a.next == backoff:
		st.tries++
		return r.sleep(ctx, st.tries, true)
	case a.next == settle:
		st.settles++
		return r.sleep(ctx, st.settles, false)
	case a.next == restock:
		st.restocks++
		return r.sleepUpTo(ctx, st.restocks, r.backoff().Max*restockMax)
	case a.next == onward:
		st.tries = 0
	case a.next == poll:
		st.tries = 0
		d := r.s.pollInterval()
		if a.pause > 0 {
			d = a.pause
		}
		return r.pause(ctx, d)
	case a.next == giveUp:
		return false
	}
	return true
}

// sleep waits before attempt n+1 (n counted from 1) and reports whether
// another attempt fits: within the attempt budget when capped, and before
// ctx's deadline.
func (r *Run) sleep(ctx context.Context, n int, capped bool) bool {
	b := r.backoff()
	if capped && n >= b.Attempts {
		return false
	}
	return r.sleepUpTo(ctx, n, b.Max)
}

// sleepUpTo waits before attempt n+1 with exponential backoff from
// Backoff.Base up to most, with jitter, and reports whether another attempt
// fits before ctx's deadline.
func (r *Run) sleepUpTo(ctx context.Context, n int, most time.Duration) bool {
	b := r.backoff()
	d := b.Base << min(n-1, 16)
	if d > most || d <= 0 {
		d = most
	}
	d = d/2 + rand.N(d/2+1) //nolint:gosec // G404: backoff jitter, not a secret; never less than half, throttling needs a real pause
	return r.pause(ctx, d)
}

// throttleStreak is a kind of call's throttled calls in a row while ECS
// accepts no call of its scope and API.
type throttleStreak struct {
	since     time.Time // when the first of them was sent
	throttles int
}

// throttledWait waits after a throttled call while ECS accepts no call of
// the scope and API (DESIGN §7). ECS counts calls in windows of a second and
// of a minute. The first Backoff.Attempts-1 throttles back off as any
// transient answer (a second's window clears in a second or two); after that
// the minute's quota is spent, and the next call goes when its next window
// opens: at the next wall-clock minute or a Window after the streak's first
// throttled call, whichever comes first (a window cannot last longer than
// that), plus jitter — or at once when another call of the scope is
// accepted. A window that opens past the deadline leaves one last call just
// before it (lastPollTime), in case it opened sooner. It reports whether
// another call fits before ctx's deadline.
func (r *Run) throttledWait(ctx context.Context, pace *pacer, s *throttleStreak, sent time.Time, mark int64) bool {
	b := r.backoff()
	if s.since.IsZero() {
		s.since = sent
	}
	s.throttles++
	if s.throttles < b.Attempts {
		return r.sleep(ctx, s.throttles, false)
	}
	w := b.Window
	if w <= 0 {
		w = defaultThrottleWindow
	}
	now := time.Now()
	full := s.since.Add(w) // when the window of the first throttle is over at the latest
	opens := full
	if next := now.Truncate(w).Add(w); next.Before(opens) {
		opens = next
	}
	if opens.Equal(full) || !full.After(now) {
		*s = throttleStreak{} // after this wait the streak starts again
	}
	at := opens.Add(rand.N(min(b.Max, w/10) + 1)) //nolint:gosec // G404: jitter, not a secret
	if dl, ok := ctx.Deadline(); ok && !at.Before(dl.Add(-lastPollTime)) {
		at = dl.Add(-lastPollTime)
		if !at.After(now) {
			return false
		}
	}
	progress := pace.progressSince(mark)
	t := time.NewTimer(time.Until(at))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-progress:
		*s = throttleStreak{}
		return true
	case <-ctx.Done():
		return false
	}
}

func (r *Run) backoff() Backoff {
	if r.s.Backoff.Attempts == 0 {
		return DefaultBackoff()
	}
	return r.s.Backoff
}

func (s *Starter) pollInterval() time.Duration {
	if s.PollInterval > 0 {
		return s.PollInterval
	}
	return defaultPollInterval
}

// pause waits d and reports whether the next call fits before ctx's deadline.
func (r *Run) pause(ctx context.Context, d time.Duration) bool {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// SelectByTags reads every page of the instances of region that carry all
// of tags (DESIGN §3.1), each page a call of the retry loop, and stops once
// more than limit are found (the request is then refused anyway). It reads
// at most maxTagPages(limit) pages: an ECS that keeps answering pages past
// that — empty ones included — ends the selection, not ok, with
// TooManyPages (transient: a later try may read fewer). An
// instance the answer lists without the tags, or in another region, passed
// no selection: it is ignored with a warning, never started. ok is false when
// the selection could not be read; v then says why.
func (r *Run) SelectByTags(ctx context.Context, region ecsapi.Scope, tags []ecsapi.Tag, limit int) (found []ecsapi.InstanceInfo, v Verdict, ok bool) {
	seen := map[string]bool{}
	tokens := map[string]bool{}
	pages, most := 0, maxTagPages(limit)
	ok = r.retry(ctx, region, apiDescribe, []string{""}, func(pending []string) attempt {
		out, err := r.describeByTags(ctx, region, ecsapi.DescribeByTagsInput{Tags: tags, NextToken: pending[0]})
		if err != nil {
			v = classify(err)
			if v.Class == transient {
				return attempt{pending: pending, next: backoff, last: v}
			}
			return attempt{pending: pending, next: giveUp, last: v}
		}
		pages++
		v = Verdict{RequestID: out.RequestID}
		for _, in := range out.Instances {
			switch {
			case (in.RegionID != "" && in.RegionID != region.Region) || !ecsapi.CarriesAll(in.Tags, tags):
				r.warn(Warning{RegionID: region.String(), InstanceID: in.InstanceID, EcsRequestID: out.RequestID,
					Reason: "ECS's answer to a tag selection names an instance that does not carry the tags " + ecsapi.TagList(tags) + " in this region: ignored"})
			case seen[in.InstanceID]:
			default:
				seen[in.InstanceID] = true
				found = append(found, in)
			}
		}
		switch {
		case out.NextToken == "" || len(found) > limit:
			return done
		case pages >= most:
			v = Verdict{Class: transient, Code: result.CodeTooManyPages, RequestID: out.RequestID,
				Message: fmt.Sprintf("DescribeInstances answered %d pages and named another, more than a selection of at most %d instances (MAX_INSTANCES) takes", pages, limit)}
			return attempt{pending: pending, next: giveUp, last: v}
		case tokens[out.NextToken]:
			// The same page again: stop rather than read it forever.
			v = Verdict{Class: transient, Code: result.CodeNetworkError, RequestID: out.RequestID,
				Message: "DescribeInstances gave a NextToken it had given before: the selection could not be read to its end"}
			return attempt{pending: pending, next: giveUp, last: v}
		}
		tokens[out.NextToken] = true
		return attempt{pending: []string{out.NextToken}, next: onward}
	}, func(_ []string, last Verdict) { v = last })
	if !ok {
		return nil, UnfinishedVerdict(ctx, v), false
	}
	return found, v, true
}

// maxTagPages is the most pages of 100 a tag selection reads:
// ⌈limit/100⌉ + 2 (DESIGN §3.1), room for instances that ECS lists without
// the tags and for a last, empty page.
func maxTagPages(limit int) int {
	return (max(limit, 0)+ecsapi.DescribePageSize-1)/ecsapi.DescribePageSize + 2
}

// SeenRunning is what a wait saw of one instance.
type SeenRunning struct {
	Status       string // the last status seen, "" when none
	Running      bool
	RunningAfter time.Duration // since the wait's reference time
	requestID    string
}

// lastPollTime is kept after the last poll of a wait for the poll itself:
// the wait's context ends that long after the wait does.
const lastPollTime = time.Second

// WaitRunning polls ids (at most 100) of region with DescribeInstanceStatus
// until each is Running or the wait ends at until (DESIGN §3.1): at once,
// then every PollInterval, backing off on throttling, and a last time at
// the wait's end, however short the wait, so that an instance Running when
// the wait ends is seen Running. A wait past ctx's deadline ends
// lastPollTime before it. It returns what it saw of each, and the last
// verdict when some never ran.
func (r *Run) WaitRunning(ctx context.Context, region ecsapi.Scope, ids []string, since, until time.Time) (map[string]SeenRunning, Verdict) {
	end := until
	if dl, ok := ctx.Deadline(); ok && dl.Add(-lastPollTime).Before(end) {
		end = dl.Add(-lastPollTime)
	}
	wctx, cancel := context.WithDeadline(ctx, end.Add(lastPollTime))
	defer cancel()
	seen := make(map[string]SeenRunning, len(ids))
	var last Verdict
	r.retry(wctx, region, apiStatus, ids, func(pending []string) attempt {
		out, err := r.pollStatus(wctx, region, pending)
		if err != nil {
			v := classify(err)
			if v.Class == transient {
				return attempt{pending: pending, next: backoff, last: v}
			}
			return attempt{pending: pending, next: giveUp, last: v}
		}
		byID := make(map[string]ecsapi.InstanceInfo, len(out.Instances))
		for _, in := range out.Instances {
			byID[in.InstanceID] = in
		}
		var still []string
		for _, id := range pending {
			in, ok := byID[id]
			sr := seen[id]
			if ok {
				sr.Status, sr.requestID = in.Status, out.RequestID
			}
			if ok && in.Status == "Running" {
				sr.Running, sr.RunningAfter = true, time.Since(since)
			} else {
				still = append(still, id)
			}
			seen[id] = sr
		}
		a := attempt{pending: still, next: poll, last: Verdict{Class: transient, Code: result.CodeWaitTimeout, RequestID: out.RequestID}}
		switch left := time.Until(end); {
		case left <= 0:
			a.next = giveUp // that was the poll at the wait's end
		case left < r.s.pollInterval():
			a.pause = left // the next poll is the last, at the wait's end
		}
		return a
	}, func(_ []string, v Verdict) { last = v })
	return seen, last
}

// UnfinishedVerdict explains why work stopped undone after the last answer v.
func UnfinishedVerdict(ctx context.Context, v Verdict) Verdict {
	if v.Code == "" {
		v.Code = result.CodeDeadlineExceeded
	}
	switch {
	case v.inFlight:
		v.Message = fmt.Sprintf("%s (the deadline came while a retry was in flight: it may or may not have taken effect; safe to retry)", v.Message)
	case ctx.Err() != nil && v.Code != result.CodeDeadlineExceeded:
		v.Message = fmt.Sprintf("%s (the deadline came before a retry could succeed)", v.Message)
	}
	return v
}

// successFirst starts ids (at most 100) with SuccessFirst: each instance on its
// own merits. Instances that ECS refuses for a transient reason, or that are
// in a state to wait out, are called again by the retry loop.
func (r *Run) successFirst(ctx context.Context, region ecsapi.Scope, ids []string) {
	statuses := map[string]string{}
	// stockless holds the instances whose last answer was out of stock:
	// they end Unfinished with that answer, whatever the others' last was.
	stockless := map[string]Verdict{}
	r.retry(ctx, region, apiStart, ids, func(pending []string) attempt {
		out, err := r.start(ctx, region, ecsapi.StartInstancesInput{InstanceIDs: pending, BatchOptimization: ecsapi.SuccessFirst})
		if err != nil {
			v := classify(err)
			switch v.Class {
			case transient, dryRunPass:
				return attempt{pending: pending, next: backoff, last: v}
			case noStock:
				for _, id := range pending {
					stockless[id] = v
				}
				return attempt{pending: pending, next: restock, last: v}
			case perID:
				if len(pending) == 1 {
					r.setAll(region, pending, result.Failed, v, "", "")
					return done
				}
				// One bad ID must not block the others: halve until it stands
				// alone. The goroutine's half has no capacity that reaches
				// into the other half.
				half := len(pending) / 2
				var wg sync.WaitGroup
				wg.Go(func() { r.successFirst(ctx, region, pending[:half:half]) })
				r.successFirst(ctx, region, pending[half:])
				wg.Wait()
				return done
			case status:
				return r.afterStatus(ctx, region, pending, nil, v, statuses)
			default:
				r.setAll(region, pending, result.Failed, v, "", "")
				return done
			}
		}
		var retry, lookup, short []string
		last, shortLast := Verdict{}, Verdict{}
		entries, missing := r.checkAnswer(region, pending, out)
		for _, resp := range entries {
			v := Verdict{Class: classOfCode(resp.Code), Code: resp.Code, Message: resp.Message, RequestID: out.RequestID}
			delete(stockless, resp.InstanceID)
			if resp.Code == result.CodeSuccess {
				r.set(region, result.InstanceResult{InstanceID: resp.InstanceID, Outcome: startedOutcome(resp),
					Code: resp.Code, Message: resp.Message, PreviousStatus: resp.PreviousStatus,
					CurrentStatus: resp.CurrentStatus, EcsRequestID: out.RequestID})
				continue
			}
			switch v.Class {
			case transient:
				last, retry = v, append(retry, resp.InstanceID)
			case status:
				last, lookup = v, append(lookup, resp.InstanceID)
			case noStock:
				stockless[resp.InstanceID] = v
				shortLast, short = v, append(short, resp.InstanceID)
			default:
				r.setAll(region, []string{resp.InstanceID}, result.Failed, v, resp.PreviousStatus, resp.CurrentStatus)
			}
		}
		if len(missing) > 0 {
			// ECS answers for every ID it was sent; if it did not, ask again.
			last, retry = missingVerdict(out.RequestID), append(retry, missing...)
		}
		if len(lookup) > 0 {
			a := r.afterStatus(ctx, region, lookup, retry, last, statuses)
			a.pending = append(a.pending, short...)
			return a
		}
		if len(retry) > 0 {
			return attempt{pending: append(retry, short...), next: backoff, last: last}
		}
		// Only instances out of stock are left (or none): wait for the
		// zone's capacity to come back, until the deadline (DESIGN §9).
		return attempt{pending: short, next: restock, last: shortLast}
	}, func(left []string, last Verdict) {
		var rest []string
		for _, id := range left {
			if v, ok := stockless[id]; ok {
				v.inFlight = v.inFlight || last.inFlight // the call cut off named it too
				r.unfinished(ctx, region, []string{id}, v, statuses)
				continue
			}
			rest = append(rest, id)
		}
		if len(rest) > 0 {
			r.unfinished(ctx, region, rest, last, statuses)
		}
	})
}

// afterStatus looks up the instances ECS refused with IncorrectInstanceStatus
// (cause) and says what is left of them and of retry, the instances to call
// again for a transient reason: a backoff when there are any, else a settle
// wait for the ones in transition.
func (r *Run) afterStatus(ctx context.Context, region ecsapi.Scope, lookup, retry []string, cause Verdict, statuses map[string]string) attempt {
	again, ok := r.settleStatus(ctx, region, lookup, cause, statuses, false)
	if !ok {
		return attempt{pending: append(retry, lookup...), next: giveUp, last: cause}
	}
	if len(retry) > 0 {
		return attempt{pending: append(retry, again...), next: backoff, last: cause}
	}
	return attempt{pending: again, next: settle, last: cause}
}

func (r *Run) unfinished(ctx context.Context, region ecsapi.Scope, ids []string, last Verdict, statuses map[string]string) {
	v := UnfinishedVerdict(ctx, last)
	for _, id := range ids {
		vv := v
		st := statuses[id]
		if st != "" && last.Class == status {
			vv.Message = fmt.Sprintf("the instance is %s: waited for it to settle until the deadline; safe to retry", st)
		}
		r.setAll(region, []string{id}, result.Unfinished, vv, st, st)
	}
}

// settleStatus looks up instances that ECS refused with IncorrectInstanceStatus:
// Running or Starting ones are AlreadyRunning, missing or security-locked ones
// Failed; it returns those to start again (Stopped, or Stopping/Pending to wait
// out). With all set, the call was AllTogether: judgeTogether decides, so
// that an instance that cannot start fails its partners, each told why
// (DESIGN §7). ok is false when the lookup itself could not be done in time.
func (r *Run) settleStatus(ctx context.Context, region ecsapi.Scope, ids []string, cause Verdict, statuses map[string]string, all bool) (again []string, ok bool) {
	infos, v, ok := r.Lookup(ctx, region, ids)
	if !ok {
		if v.Class == Permanent {
			// The lookup is refused for good (e.g. no ecs:DescribeInstances):
			// report ECS's own refusal of the start.
			r.setAll(region, ids, result.Failed, Verdict{Code: cause.Code, Message: cause.Message + " (and DescribeInstances failed: " + v.Code + ")", RequestID: cause.RequestID}, "", "")
			return nil, true
		}
		return nil, false
	}
	if all {
		again = r.judgeTogether(region, ids, infos, v.RequestID, &cause, false)
	} else {
		for _, id := range ids {
			info, found := infos[id]
			if !r.judge(region, id, info, found, v.RequestID, false) {
				again = append(again, id)
			}
		}
	}
	for _, id := range again {
		statuses[id] = infos[id].Status
	}
	return again, true
}

// judge settles what a lookup alone decides for one instance on its own
// merits (SuccessFirst): missing is Failed, and else as Settled says. It is
// false for an instance that is still to start (Stopped, Stopping, Pending).
func (r *Run) judge(region ecsapi.Scope, id string, info ecsapi.InstanceInfo, found bool, requestID string, dry bool) (settled bool) {
	if !found {
		r.setAll(region, []string{id}, result.Failed, Verdict{Code: result.CodeNotFound, Message: "DescribeInstances does not know the instance in " + region.String(), RequestID: requestID}, "", "")
		return true
	}
	ir, ok := Settled(info, requestID, dry)
	if ok {
		ir.InstanceID = id
		r.set(region, ir)
	}
	return ok
}

// startedOutcome reads an accepted start: an instance that ECS says was already
// Running or Starting before the call had nothing to do.
func startedOutcome(resp ecsapi.InstanceResponse) result.Outcome {
	if resp.PreviousStatus == "Running" || resp.PreviousStatus == "Starting" {
		return result.AlreadyRunning
	}
	return result.Started
}

// HasLock says whether info carries an OperationLock with reason.
func HasLock(info ecsapi.InstanceInfo, reason string) bool {
	for _, l := range info.LockReasons {
		if l == reason {
			return true
		}
	}
	return false
}

// Lookup describes ids (at most 100), retrying transient failures. ok is false
// when it did not succeed; v then says why.
func (r *Run) Lookup(ctx context.Context, region ecsapi.Scope, ids []string) (infos map[string]ecsapi.InstanceInfo, v Verdict, ok bool) {
	ok = r.retry(ctx, region, apiDescribe, ids, func(pending []string) attempt {
		out, err := r.describe(ctx, region, pending)
		if err != nil {
			v = classify(err)
			if v.Class == transient {
				return attempt{pending: pending, next: backoff, last: v}
			}
			return attempt{pending: pending, next: giveUp, last: v}
		}
		infos = make(map[string]ecsapi.InstanceInfo, len(out.Instances))
		for _, in := range out.Instances {
			infos[in.InstanceID] = in
		}
		v = Verdict{RequestID: out.RequestID}
		return done
	}, func(_ []string, last Verdict) { v = last })
	if !ok {
		return nil, v, false
	}
	return infos, v, true
}

// allTogether starts one AllTogether group: all or nothing. Instances already
// running are set aside (ECS would refuse the whole call for them) and the call is
// made again with the rest.
func (r *Run) allTogether(ctx context.Context, g Group) {
	statuses := map[string]string{}
	r.retry(ctx, g.Scope, apiStart, g.InstanceIDs, func(pending []string) attempt {
		out, err := r.start(ctx, g.Scope, ecsapi.StartInstancesInput{InstanceIDs: pending, BatchOptimization: ecsapi.AllTogether})
		if err == nil {
			entries, missing := r.checkAnswer(g.Scope, pending, out)
			for _, resp := range entries {
				o := startedOutcome(resp)
				if resp.Code != result.CodeSuccess {
					o = result.Failed
				}
				ir := result.InstanceResult{InstanceID: resp.InstanceID, Outcome: o, Code: resp.Code,
					Message: resp.Message, PreviousStatus: resp.PreviousStatus, CurrentStatus: resp.CurrentStatus,
					EcsRequestID: out.RequestID}
				if o == result.Failed {
					ir.Advice = result.Advice(resp.Code)
				}
				r.set(g.Scope, ir)
			}
			// An instance the answer omits is not known to have started: ask
			// again (a started one then turns out AlreadyRunning).
			return attempt{pending: missing, next: backoff, last: missingVerdict(out.RequestID)}
		}
		v := classify(err)
		switch v.Class {
		case transient, dryRunPass:
			return attempt{pending: pending, next: backoff, last: v}
		case noStock:
			// Out of stock is not a refusal for good: capacity comes back,
			// so the call is made again, all together, until the deadline,
			// and what is left then is Unfinished with NoStock's code,
			// words and advice for every member (DESIGN §9). No partner
			// or culprit words: those are for a refusal for good that a
			// lookup can pin on an instance (judgeTogether).
			return attempt{pending: pending, next: restock, last: v}
		case status:
			again, ok := r.settleStatus(ctx, g.Scope, pending, v, statuses, true)
			if !ok {
				return attempt{pending: pending, next: giveUp, last: v}
			}
			waiting := false
			for _, id := range again {
				if statuses[id] != "Stopped" {
					waiting = true
				}
			}
			if !waiting && len(again) < len(pending) {
				// Only running ones were set aside: call again at once.
				return attempt{pending: again, next: now, last: v}
			}
			return attempt{pending: again, next: settle, last: v}
		default:
			r.togetherRefused(ctx, g.Scope, pending, v, false)
			return done
		}
	}, func(left []string, last Verdict) { r.unfinished(ctx, g.Scope, left, last, statuses) })
}

// dryRun checks a group without starting anything. ECS answers once for a whole
// call, so the instances are looked up too: each outcome says what a real run
// would do.
func (r *Run) dryRun(ctx context.Context, g Group) {
	infos, v, ok := r.Lookup(ctx, g.Scope, g.InstanceIDs)
	if !ok {
		if v.Class == Permanent {
			r.setAll(g.Scope, g.InstanceIDs, result.Failed, v, "", "")
		} else {
			r.unfinished(ctx, g.Scope, g.InstanceIDs, v, nil)
		}
		return
	}
	statuses := map[string]string{}
	var candidates []string
	if g.BatchOptimization == ecsapi.AllTogether {
		candidates = r.judgeTogether(g.Scope, g.InstanceIDs, infos, v.RequestID, nil, true)
	} else {
		for _, id := range g.InstanceIDs {
			info, found := infos[id]
			if !r.judge(g.Scope, id, info, found, v.RequestID, true) {
				candidates = append(candidates, id)
			}
		}
	}
	for _, id := range candidates {
		statuses[id] = infos[id].Status
	}
	r.dryRunCall(ctx, g, candidates, statuses)
}

func (r *Run) dryRunCall(ctx context.Context, g Group, ids []string, statuses map[string]string) {
	if len(ids) == 0 {
		return
	}
	// Only Stopped instances can pass ECS's check now; Stopping or Pending ones a
	// real run would wait for, so they are judged by the call for the others.
	var call []string
	for _, id := range ids {
		if statuses[id] == "Stopped" || statuses[id] == "" {
			call = append(call, id)
		}
	}
	if len(call) == 0 {
		call = ids
	}
	r.retry(ctx, g.Scope, apiStart, call, func(call []string) attempt {
		_, err := r.start(ctx, g.Scope, ecsapi.StartInstancesInput{InstanceIDs: call, BatchOptimization: g.BatchOptimization, DryRun: true})
		v := Verdict{Class: dryRunPass, Code: "DryRunOperation", Message: "Request validation has been passed with DryRun flag set."}
		if err != nil {
			v = classify(err)
		}
		switch v.Class {
		case dryRunPass:
			for _, id := range ids {
				msg := v.Message
				if st := statuses[id]; st != "" && st != "Stopped" {
					msg = "the instance is " + st + ": a real run waits for it to settle, then starts it"
				}
				r.set(g.Scope, result.InstanceResult{InstanceID: id, Outcome: result.DryRunPassed, Code: v.Code,
					Message: msg, PreviousStatus: statuses[id], CurrentStatus: statuses[id], EcsRequestID: v.RequestID})
			}
		case transient:
			return attempt{pending: call, next: backoff, last: v}
		case perID:
			if g.BatchOptimization == ecsapi.SuccessFirst && len(ids) > 1 {
				half := len(ids) / 2
				r.dryRunCall(ctx, g, ids[:half:half], statuses)
				r.dryRunCall(ctx, g, ids[half:], statuses)
				return done
			}
			r.setAll(g.Scope, ids, result.Failed, wholeRefusal(g, ids, v), "", "")
		case noStock:
			// A dry run does not wait for stock (DESIGN §9): it says at once
			// what ECS said and what a real run would do — retry until its
			// deadline, then Unfinished (DESIGN §5, §7). Out of stock is no
			// refusal for good, so no member is told that ECS named none of
			// them: each keeps ECS's code, words and advice.
			v.Message = strings.TrimSuffix(v.Message, ".") + " (a dry run does not wait for stock; a real run retries until its deadline, and is Started if the stock returns by then)"
			for _, id := range ids {
				r.setAll(g.Scope, []string{id}, result.Unfinished, v, statuses[id], statuses[id])
			}
		default:
			v = wholeRefusal(g, ids, v)
			for _, id := range ids {
				r.setAll(g.Scope, []string{id}, result.Failed, v, statuses[id], statuses[id])
			}
		}
		return done
	}, func(_ []string, last Verdict) { r.unfinished(ctx, g.Scope, ids, last, statuses) })
}

// wholeRefusal is how an instance of a dry run's call that ECS refused for
// good is reported: an AllTogether call of several instances, which the
// lookup found fine, may have been refused for any one of them (DESIGN §7).
func wholeRefusal(g Group, ids []string, v Verdict) Verdict {
	if g.BatchOptimization == ecsapi.AllTogether && len(ids) > 1 && concernsInstances(v.Code) {
		return unblamed(v, len(ids))
	}
	return v
}
