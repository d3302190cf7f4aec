// Package handler is start-ecs's function, its face: Handle takes an
// invocation's payload and deadline, answers HTTP (authentication, status,
// XML), and orchestrates plan → look up → apply → start → wait → report,
// each package visited once per plan (per sequence group): handler/plan
// turns the events' start requests into a plan and lists its lookups as
// data, handler/starter does the ECS work and answers as data, and
// handler/result is the answer, one Outcome for every instance, given to
// the caller and, as JSON log lines, to the log store. No package below
// imports this one (DESIGN §1).
package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/plan"
	"github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/handler/starter"
)

// Handler serves invocations. It is safe for concurrent use: the runtime SDK runs
// every invocation in a goroutine of its own, and nothing here is shared but the
// configuration, the ECS client (itself safe) and the log writer.
type Handler struct {
	cfg     Config
	cfgErr  error
	starter *starter.Starter
	now     func() time.Time

	calendar calendarState // the day of the last calendar line

	notifyClient *http.Client // the robots' (notify.go)

	outMu sync.Mutex // one invocation's lines are written at a time
	out   io.Writer
}

// New returns a handler. A configuration error is not fatal: every invocation
// then fails with it, so that the operator reads it in the logs and in the
// caller's error rather than in a crash loop.
func New(cfg Config, cfgErr error, ecs ecsapi.ECS, logOut io.Writer) *Handler {
	return &Handler{
		cfg:     cfg,
		cfgErr:  cfgErr,
		starter: &starter.Starter{ECS: ecs, MaxConcurrent: cfg.MaxConcurrentCalls, Backoff: starter.DefaultBackoff()},
		out:     logOut,
		now:     time.Now,

		notifyClient: newNotifyClient(),
	}
}

// invocation is what one invocation knows about itself.
type invocation struct {
	// Invocation is what planning knows: the function's own region and
	// the invocation's start.
	plan.Invocation
	requestID  string
	creds      ecsapi.Credentials
	retryCount int
	deadline   time.Time // of the invocation; zero when there is none
	// margin is kept free before deadline to answer (answerBy).
	margin time.Duration
	logBuf lineBuffer
	log    *slog.Logger
	// roles is the invocation's side of AssumeRole: its session name and
	// the credentials it alone may use (starter/roles.go).
	roles *starter.Session
}

// UnfinishedError is returned when some instance is Unfinished, so that FC's
// async retries, EventBridge's retry strategy and dead-letter queues take over.
type UnfinishedError struct {
	Message string
}

func (e *UnfinishedError) Error() string { return e.Message }

// ConfigError is returned by every invocation while the configuration is invalid.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }

// Handle is the function's entry point for fc.Start: it takes the payload as raw
// bytes, because an MNS topic STREAM body need not be JSON.
func (h *Handler) Handle(ctx context.Context, payload []byte) (json.RawMessage, error) {
	inv := h.newInvocation(ctx)
	defer h.flush(inv)
	if h.cfgErr != nil {
		h.logRefusal(inv, "", 0, "ConfigError", h.cfgErr.Error())
		if h.mayTellConfigError(payload, inv.Start) {
			h.notify(ctx, inv, nil, notification{configErr: h.cfgErr}, h.answerBy(inv, time.Time{}))
		}
		return nil, &ConfigError{Err: h.cfgErr}
	}
	h.logCalendar(inv)
	p := events.Read(payload)
	if p.HTTP != nil {
		return h.serveHTTP(ctx, inv, p.HTTP, p.HTTPErr)
	}
	res := h.run(ctx, inv, p.Messages, time.Time{})
	n := notification{}
	n.trigger, n.source = sourcesOf(p.Messages)
	if res.Unfinished() {
		h.notify(ctx, inv, res, n, h.answerBy(inv, time.Time{}))
		return nil, unfinishedError(res) // the full result is in the logs
	}
	body, err := marshalJSON(res)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	n.resultJSON = body
	h.notify(ctx, inv, res, n, h.answerBy(inv, time.Time{}))
	return body, nil
}

// mayTellConfigError says whether an invocation failing with the
// configuration error may tell the robots: any but an HTTP request that
// does not authenticate under what of the configuration parsed, for an
// unauthenticated sender must not reach the group (DESIGN §9: a request
// refused before a result is told to its caller alone).
func (h *Handler) mayTellConfigError(payload []byte, now time.Time) bool {
	if !h.notifying() {
		return false
	}
	p := events.Read(payload)
	if p.HTTP == nil {
		return true
	}
	ok, _ := h.authenticate(p.HTTP, now)
	return ok
}

func (h *Handler) newInvocation(ctx context.Context) *invocation {
	inv := &invocation{Invocation: plan.Invocation{Start: h.now()}}
	function, region := h.cfg.FunctionName, h.cfg.FunctionRegion
	if fc, ok := fccontext.FromContext(ctx); ok {
		if fc.Function.Name != "" {
			function = fc.Function.Name
		}
		if fc.Region != "" {
			region = fc.Region
		}
		inv.requestID = fc.RequestID
		inv.creds = ecsapi.Credentials{
			AccessKeyID:     fc.Credentials.AccessKeyId,
			AccessKeySecret: fc.Credentials.AccessKeySecret,
			SecurityToken:   fc.Credentials.SecurityToken,
		}
		inv.Region = fc.Region
		inv.retryCount = fc.RetryCount
	}
	if inv.creds.Empty() {
		inv.creds = h.cfg.EnvCredentials
	}
	inv.roles = starter.NewSession(function, region, h.cfg.RoleExternalID)
	if dl, ok := ctx.Deadline(); ok {
		inv.deadline = dl
		// Fixed now, on the clock the deadline is on (answerBy).
		inv.margin = max(min(h.cfg.DeadlineMargin, time.Until(dl)/2), 0)
	}
	// Lines are gathered per invocation and written whole, a few dozen KiB
	// at a time, so that concurrent invocations never interleave inside a
	// line, a large batch costs few writes, and its lines are never all held
	// in memory at once (lineBuffer).
	inv.logBuf.h = h
	inv.log = slog.New(slog.NewJSONHandler(&inv.logBuf, nil))
	return inv
}

func (h *Handler) flush(inv *invocation) { inv.logBuf.flush() }

// newRun is the starter's state for one invocation's calls: its
// credentials, and its side of AssumeRole.
func (h *Handler) newRun(inv *invocation) *starter.Run {
	return h.starter.NewRun(inv.creds, inv.roles)
}

// SetSTS gives the handler the STS client through which it assumes the
// roles of ALLOWED_ROLE_ARNS (DESIGN §3.1); without one, an instance of
// another account fails.
func (h *Handler) SetSTS(sts ecsapi.STS) {
	h.starter.Roles = starter.NewRoleCache(sts)
}

// planner plans under the configuration as it is now.
func (h *Handler) planner() *plan.Planner {
	c := h.cfg
	return &plan.Planner{Now: h.now, Rules: plan.Rules{MaxInstances: c.MaxInstances, MaxEventAge: c.MaxEventAge, DefaultRegionID: c.DefaultRegionID,
		AllowedRegions: c.AllowedRegions, AllowedIDs: c.AllowedIDs, AllowedRoles: c.AllowedRoles, AllowedTag: c.AllowedTag.pair(), RestartTag: c.RestartTag.pair(),
		DryRunOnly: c.DryRunOnly, SkipDates: c.SkipDates, TimeZone: c.TimeZone, Schedule: c.ScheduleConfig(), MaxScheduled: c.MaxScheduled}}
}

// workEnd is when the ECS work (and the planning before it) must end:
// answerBy, and with NOTIFY_URLS set 1.5 s before it, so that the message
// goes out in time too (notifyReserve). Zero means no end.
func (h *Handler) workEnd(inv *invocation, wait time.Time) time.Time {
	end := h.answerBy(inv, wait)
	if end.IsZero() {
		return end
	}
	return end.Add(-h.notifyReserve(inv, end))
}

// answerBy is when the invocation must be ready to answer: a margin before
// its deadline, so there is always time to, and at wait (if set) for HTTP.
// Zero means no end.
//
// The margin is what answering takes once the work ends: the calls in
// flight unwinding, the result, a log line per instance through a stdout
// that may be slow. None of that shrinks with the function's timeout, so
// the margin is about a second (DeadlineMargin), and only a function whose
// whole invocation is shorter than two of them gives half of it to the
// answer (a 1 s timeout: 0.5 s for ECS, 0.5 s to answer). It is fixed
// from the invocation's start, never recomputed from the time left, which
// would let it shrink as the invocation goes on. A fifth of the time left
// gave a 2 s invocation of 1,000 instances 0.4 s, and it answered after
// 2.03 s on a loaded machine.
func (h *Handler) answerBy(inv *invocation, wait time.Time) time.Time {
	end := time.Time{}
	if !inv.deadline.IsZero() {
		end = inv.deadline.Add(-inv.margin)
	}
	if !wait.IsZero() && (end.IsZero() || wait.Before(end)) {
		end = wait
	}
	return end
}

// workContext bounds the ECS work: it ends at workEnd.
func (h *Handler) workContext(ctx context.Context, inv *invocation, wait time.Time) (context.Context, context.CancelFunc) {
	end := h.workEnd(inv, wait)
	if end.IsZero() {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, end)
}

// run carries out the messages and logs the result.
func (h *Handler) run(ctx context.Context, inv *invocation, msgs []events.Message, wait time.Time) *result.Result {
	return h.execute(ctx, inv, h.planner().Make(&inv.Invocation, msgs, h.workEnd(inv, wait)), wait)
}

func (h *Handler) execute(ctx context.Context, inv *invocation, p *plan.Plan, wait time.Time) *result.Result {
	work, cancel := h.workContext(ctx, inv, wait)
	defer cancel()
	h.carryOut(work, inv, p)
	// Sequences come after the rest of the batch, each group planned and
	// carried out like a batch of its own, in order (DESIGN §3.1).
	for _, sq := range p.Sequences {
		h.runSequence(work, inv, p, sq)
	}
	p.CloseRefusals()
	p.CloseIgnored()

	res := &result.Result{RequestID: inv.requestID, DryRun: p.Requests > 0 && p.DryRuns == p.Requests, Ignored: p.Ignored, Unresolved: p.Unresolved,
		Preview: p.Preview, MidnightTick: p.MidnightTick}
	res.Summary.Scheduled, res.Summary.Due = p.Scheduled, p.Due
	if res.Ignored == nil {
		res.Ignored = []result.IgnoredEvent{}
	}
	res.InstanceResponses.InstanceResponse = make([]result.InstanceResult, 0, len(p.Entries))
	for _, e := range p.Entries {
		if e.Result == nil {
			continue // ignored after a tag lookup
		}
		e.Result.InstanceID, e.Result.RegionID, e.Result.AccountID = e.ID, e.Scope.Region, e.Scope.Account()
		e.Result.Retryable = e.Result.Outcome == result.Unfinished
		if e.ScheduledAt != "" {
			e.Result.ScheduledAt = e.ScheduledAt
		}
		res.InstanceResponses.InstanceResponse = append(res.InstanceResponses.InstanceResponse, *e.Result)
	}
	res.Summarize()
	h.logResult(inv, p, res)
	return res
}

// carryOut does a plan's ECS work, each package visited once, in order
// (DESIGN §3.1): the plan lists the lookups it needs (plan.Needs), the
// starter carries them all out at once (lookUp), the plan judges every
// entry on what they said and forms the StartInstances calls (plan.Apply),
// the starter starts them, and those of requests with wait are waited for.
// Every entry is then decided.
func (h *Handler) carryOut(work context.Context, inv *invocation, p *plan.Plan) {
	pl := h.planner()
	needs := pl.Needs(p, !inv.creds.Empty())
	facts := h.lookUp(work, inv, needs)
	todo, groups := pl.Apply(p, needs, facts)
	results, warnings := h.newRun(inv).StartGroups(work, starterGroups(groups))
	h.logWarnings(inv, warnings)
	plan.ApplyStarts(todo, results)
	h.waitForRunning(work, inv, p)
}

// lookUp hands the plan's lookups to the starter, all in one call, and
// its answers back to the plan as data.
func (h *Handler) lookUp(ctx context.Context, inv *invocation, needs plan.Needs) plan.Facts {
	f := plan.Facts{NoCredentials: inv.creds.Empty(), Described: map[string]plan.Lookup{}}
	if f.NoCredentials || len(needs.Selections)+len(needs.Describes) == 0 {
		return f
	}
	tags := make([]starter.TagQuery, len(needs.Selections))
	for i, s := range needs.Selections {
		limit := s.Limit
		if limit == 0 {
			limit = h.cfg.MaxInstances
		}
		tags[i] = starter.TagQuery{Scope: s.Scope, Tags: s.Tags, Limit: limit}
	}
	ids := make([]starter.IDQuery, len(needs.Describes))
	for i, d := range needs.Describes {
		ids[i] = starter.IDQuery{Scope: d.Scope, IDs: d.IDs}
	}
	r := h.newRun(inv)
	selected, described := r.LookUp(ctx, tags, ids)
	h.logWarnings(inv, r.Warnings())
	f.Selections = make([]plan.Selection, len(selected))
	for i, s := range selected {
		v := s.Verdict
		f.Selections[i] = plan.Selection{Done: s.OK, Found: s.Found, Settled: s.Settled,
			Permanent: v.Class == starter.Permanent, Code: v.Code, Message: v.Message, RequestID: v.RequestID}
	}
	for i, byID := range described {
		q := needs.Describes[i]
		for id, d := range byID {
			l := plan.Lookup{Found: d.Found, Info: d.Info, RequestID: d.RequestID}
			if d.Failed != nil {
				l = plan.Lookup{Failed: d.Failed}
			}
			f.Described[ecsapi.InstanceKey(q.Scope, id)] = l
		}
	}
	return f
}

// groupEntries forms the StartInstances calls of todo (plan.GroupStarts).
func groupEntries(todo []*plan.Entry) []starter.Group {
	return starterGroups(plan.GroupStarts(todo))
}

// starterGroups is the plan's StartInstances calls as the starter takes them.
func starterGroups(in []plan.StartGroup) []starter.Group {
	out := make([]starter.Group, len(in))
	for i, g := range in {
		out[i] = starter.Group{Scope: g.Scope, InstanceIDs: g.IDs, BatchOptimization: g.Batch, DryRun: g.DryRun}
	}
	return out
}

func (h *Handler) logWarnings(inv *invocation, warnings []starter.Warning) {
	for _, w := range warnings {
		inv.log.Warn("ecsAnswer", "requestId", inv.requestID, "regionId", w.RegionID, "instanceId", w.InstanceID,
			"reason", w.Reason, "ecsRequestId", w.EcsRequestID)
	}
}

// waitForRunning polls the instances that requests with wait started, until
// each is Running or its wait ends (DESIGN §3.1): the duration, capped by
// ctx's deadline. One still not Running is Unfinished (WaitTimeout), with
// the status last seen.
func (h *Handler) waitForRunning(ctx context.Context, inv *invocation, p *plan.Plan) {
	waits := p.Waits(inv.Start)
	if len(waits) == 0 {
		return
	}
	r := h.newRun(inv)
	var wg sync.WaitGroup
	for _, w := range waits {
		list := w.Entries
		for len(list) > 0 {
			chunk := list[:min(len(list), ecsapi.MaxPerCall)]
			list = list[len(chunk):]
			wg.Go(func() {
				ids := make([]string, len(chunk))
				for i, e := range chunk {
					ids[i] = e.ID
				}
				seen, last := r.WaitRunning(ctx, w.Scope, ids, inv.Start, w.Until)
				for _, e := range chunk {
					sr := seen[e.ID]
					e.ApplyWait(plan.Seen{Status: sr.Status, Running: sr.Running, RunningAfter: sr.RunningAfter,
						PollFailed: last.Class == starter.Permanent, Code: last.Code, Message: last.Message,
						DeadlineFirst: deadlineFirst(ctx, w.Until)})
				}
			})
		}
	}
	wg.Wait()
}

// deadlineFirst says whether ctx ends before until.
func deadlineFirst(ctx context.Context, until time.Time) bool {
	dl, ok := ctx.Deadline()
	return ctx.Err() != nil || (ok && dl.Before(until))
}

// unfinishedError says what is unfinished, in at most a few KiB: the tag
// selections not read to their end (region, account and tags), and the
// instances, each as region/ID or, of another account, region/account/ID;
// the full result is in the logs.
func unfinishedError(res *result.Result) *UnfinishedError {
	var names []string
	for _, ir := range res.InstanceResponses.InstanceResponse {
		if ir.Outcome != result.Unfinished {
			continue
		}
		name := ir.RegionID + "/" + ir.InstanceID
		if ir.AccountID != "" {
			name = ir.RegionID + "/" + ir.AccountID + "/" + ir.InstanceID
		}
		names = append(names, fmt.Sprintf("%s (%s)", name, ir.Code))
	}
	sort.Strings(names)
	var b strings.Builder
	if n := len(res.Unresolved); n > 0 {
		fmt.Fprintf(&b, "%d tag selections not looked up to their end, nothing of them sent, safe to retry: %s", n, strings.Join(res.Unresolved[:min(n, 10)], ", "))
		if n > 10 {
			fmt.Fprintf(&b, " … and %d more", n-10)
		}
		b.WriteString("; ")
	}
	if len(names) > 0 {
		fmt.Fprintf(&b, "%d of %d instances unfinished, safe to retry: ", res.Summary.Unfinished, res.Summary.Requested)
		for i, n := range names {
			if b.Len()+len(n) > 3000 {
				fmt.Fprintf(&b, " … and %d more", len(names)-i)
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(n)
		}
		b.WriteString("; ")
	}
	fmt.Fprintf(&b, "full result in the logs (requestId %s)", res.RequestID)
	return &UnfinishedError{Message: b.String()}
}

// marshalJSON encodes v without escaping <, > and & (encoding/json's default
// for HTML): answers are read by people and programs, never embedded in pages,
// and "\u003cWEBHOOK_SECRET\u003e" helps neither.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
