package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
)

// The bounds of what one invocation reports (DESIGN §4: the answer and the log
// stay bounded by MAX_INSTANCES whatever the input holds).
const (
	// maxListedIDs is how many IDs an Ignored entry lists; InstanceCount
	// says how many it stands for when there are more.
	MaxListedIDs = 10
	// maxKeptSources is how many sources an instance's log line names; the
	// rest are counted.
	MaxKeptSources = 10
)

// The two modes an instance can be asked for in: a real start wins over a dry run.
const (
	modeReal = 0
	modeDry  = 1
)

// Entry is one (region, instance) pair of an invocation (DESIGN §4: an
// instance is the pair everywhere), from the requests that named it to its
// result.
type Entry struct {
	ID      string
	Scope   ecsapi.Scope   // the region and account it lives in
	Trigger events.Trigger // of the first message that named it
	Sources []string       // the first maxKeptSources distinct sources
	// moreSources counts the mentions past sources.
	MoreSources int

	// named says which modes valid, accepted requests name it in;
	// restartTag[m] holds when every request of mode m asked for RESTART_TAG
	// (state-change events); at[m] is the AllTogether group of mode m.
	named      [2]bool
	restartTag [2]bool
	at         [2]*AtGroup
	// fallback is the result when no accepted request names it: the
	// refusal of an invalid request, or Unfinished when the deadline came
	// before its request was planned.
	fallback *result.InstanceResult
	// plain[m] holds when some request of mode m names it without tags;
	// tagReqs[m] are the tags of the others, which narrow the IDs they
	// name (DESIGN §3.1): the instance is started if it carries all the
	// pairs of one of them.
	plain   [2]bool
	tagReqs [2][][]ecsapi.Tag
	// wait is the longest wait a real request asked for (DESIGN §3.1).
	Wait time.Duration
	// info is what a tag selection's lookup found of the instance, nil
	// when no selection found it; infoRequestID the lookup's RequestId.
	Info          *ecsapi.InstanceInfo
	InfoRequestID string
	// infoSettled is what that answer alone settles for a real start [0]
	// and a dry run [1] (nil: still to start).
	infoSettled [2]*result.InstanceResult

	// Set by finish: how it is started.
	DryRun          bool
	NeedsRestartTag bool
	// needTags, when not empty, are the tag sets of which the instance must
	// carry one (requests that narrow their IDs by tags).
	NeedTags [][]ecsapi.Tag
	Group    *AtGroup // nil for SuccessFirst
	// result is set once the outcome is known; nil for a candidate to start.
	Result *result.InstanceResult
	// runningAfter is how long after the invocation's start a wait saw the
	// instance Running; waited says whether one did.
	RunningAfter time.Duration
	Waited       bool
	// ScheduledAt is, for an instance a schedule tick found due, the
	// start time that made it due (RFC 3339; DESIGN §3.2), "" otherwise.
	ScheduledAt string
}

// AddSource records one more request that names the instance.
func (e *Entry) AddSource(src string) {
	for _, s := range e.Sources {
		if s == src {
			return
		}
	}
	if len(e.Sources) < MaxKeptSources {
		e.Sources = append(e.Sources, src)
		return
	}
	e.MoreSources++
}

// AtGroup is one all-or-nothing StartInstances call: the instances of one
// AllTogether request, or of several that overlap (DESIGN §4). Groups are
// merged as a disjoint-set forest; members is filled on the root by finish.
type AtGroup struct {
	parent  *AtGroup
	size    int
	members []*Entry
}

func (g *AtGroup) root() *AtGroup {
	for g.parent != nil {
		if g.parent.parent != nil {
			g.parent = g.parent.parent
		}
		g = g.parent
	}
	return g
}

// Plan is what an invocation's messages ask for: the instances in order of first
// mention, and the events that named nothing to start.
type Plan struct {
	Entries []*Entry
	ByKey   map[string]*Entry
	Groups  []*AtGroup // AllTogether groups with their members
	Ignored []result.IgnoredEvent
	// overflow sums up the Ignored entries past maxIgnored.
	overflow   overflowIgnored
	maxIgnored int
	// invalid holds the first defects of invalid requests (an HTTP caller
	// gets 400); invalidCount counts them all.
	Invalid      []events.FieldError
	InvalidCount int
	// requests counts valid requests, dryRuns those of them that are dry runs.
	Requests, DryRuns int
	// maxInstances is MAX_INSTANCES; refused counts the instances of invalid
	// requests reported one by one, unplanned those reported Unfinished
	// because the deadline came first: each is bounded by maxInstances.
	MaxInstances int
	refused      int
	unplanned    int
	// skipped counts the Skipped instances reported one by one (sequences).
	Skipped           int
	unplannedMessages int
	Trigger           events.Trigger
	// counted are the (region, ID) keys counted against MAX_INSTANCES.
	Counted map[string]bool
	// pending are the accepted requests whose count waits for a tag
	// selection's lookup: a selection, and every request after the first
	// one, so that MAX_INSTANCES counts in order (DESIGN §3). finish runs
	// once they are committed (Apply).
	Pending []*accepted
	// unresolved describes the selections whose lookup did not finish:
	// the invocation is then unfinished, safe to retry.
	Unresolved []string
	// sequences are the accepted requests with a sequence, carried out
	// after the rest (runSequence).
	Sequences []*Sequence
	// refusals are the refused requests (or parts) whose instances are
	// reported one by one, for CloseRefusals.
	refusals []*refusal
	// Scheduled and Due count the instances schedule ticks found carrying
	// their tag key and due (Summary.Scheduled, Summary.Due); Preview is
	// what schedule previews list, nil without one; MidnightTick says a
	// tick's window holds 00:00 UTC (DESIGN §3.2, §9).
	Scheduled, Due int
	// scheduledSeen holds the instances counted in Scheduled (true: in Due
	// too), by InstanceKey: each instance counts once.
	scheduledSeen map[string]bool
	Preview       *result.Preview
	MidnightTick  bool
}

// acceptedRequest is a valid start request that passed expiry, ready to be
// counted and merged into the plan (commit).
type accepted struct {
	M        events.Message
	Src      string
	Scope    ecsapi.Scope
	req      events.StartRequest
	IDs      []string
	mode     int
	batch    string
	Tags     []ecsapi.Tag  // nil without tags
	Wait     time.Duration // 0: no wait
	Selects  bool          // tags without IDs: ids come from the lookup
	Infos    map[string]ecsapi.InstanceInfo
	settled  map[string][2]*result.InstanceResult
	LookupID string // the selection's last RequestId
	// sched is the tick of a schedule request, which selects by its tag
	// key (schedtick.go); preview its period when it previews;
	// scheduledAt the due instances' ScheduledAt, by ID.
	sched       *ScheduleTick
	preview     time.Duration
	scheduledAt map[string]string
}

type overflowIgnored struct {
	events, instances int
	first             result.IgnoredEvent
	ids               []string
	warn              bool
	mistake           bool // some of them are operator mistakes (DESIGN §9)
}

// New is an empty plan that counts up to maxInstances instances.
func New(maxInstances int) *Plan {
	maxInstances = max(maxInstances, 1)
	return &Plan{ByKey: make(map[string]*Entry), MaxInstances: maxInstances, maxIgnored: maxInstances, Counted: make(map[string]bool)}
}

// Ignore records an event that starts nothing; ids are the instances it named.
// It lists at most maxListedIDs of them, and past maxIgnored entries it only
// counts (finish sums them up in one entry).
func (p *Plan) Ignore(ig result.IgnoredEvent, ids []string) {
	p.IgnoreCounted(ig, ids, len(ids))
}

// IgnoreCounted is ignore for an event that stands for count instances, of
// which ids are (at least) the first few.
func (p *Plan) IgnoreCounted(ig result.IgnoredEvent, ids []string, count int) {
	if len(p.Ignored) < p.maxIgnored {
		ig.InstanceIDs, ig.InstanceCount = listIDs(ids)
		if count > len(ig.InstanceIDs) {
			ig.InstanceCount = count
		}
		p.Ignored = append(p.Ignored, ig)
		return
	}
	o := &p.overflow
	if o.events == 0 {
		o.first = ig
	}
	o.events++
	o.instances += count
	o.warn = o.warn || ig.Code != ""
	o.mistake = o.mistake || ig.Mistake
	for _, id := range ids {
		if len(o.ids) >= MaxListedIDs {
			break
		}
		o.ids = append(o.ids, id)
	}
}

// listIDs is what an Ignored entry shows of ids: the first few, and the count
// when there are more.
func listIDs(ids []string) ([]string, int) {
	if len(ids) <= MaxListedIDs {
		return ids, 0
	}
	return append([]string(nil), ids[:MaxListedIDs]...), len(ids)
}

func (p *Plan) addInvalid(errs []events.FieldError) {
	p.InvalidCount += len(errs)
	if room := maxReportedErrors - len(p.Invalid); room > 0 {
		p.Invalid = append(p.Invalid, errs[:min(room, len(errs))]...)
	}
}

// Entry returns the entry of (scope, id), made on first mention.
func (p *Plan) Entry(scope ecsapi.Scope, id string, trigger events.Trigger) *Entry {
	k := ecsapi.InstanceKey(scope, id)
	e, ok := p.ByKey[k]
	if !ok {
		e = &Entry{ID: id, Scope: scope, Trigger: trigger}
		p.ByKey[k] = e
		p.Entries = append(p.Entries, e)
	}
	return e
}

// Make validates the messages and applies expiry, limits and the
// allow-lists; it does nothing that needs ECS. Its work is linear in the
// messages and their IDs, and ends at until (if set): what was not planned by
// then is reported Unfinished, safe to retry (DESIGN §4).
func (pl *Planner) Make(inv *Invocation, msgs []events.Message, until time.Time) *Plan {
	p := New(pl.Rules.MaxInstances)
	for i, m := range msgs {
		if p.Trigger == "" {
			p.Trigger = m.Trigger
		}
		if !until.IsZero() && !pl.Now().Before(until) {
			pl.notPlanned(p, inv, msgs[i:])
			break
		}
		pl.PlanMessage(p, inv, m)
	}
	if len(p.Pending) == 0 {
		p.Finish(pl)
	}
	return p
}

func sourceOf(m events.Message) string {
	if m.Source != "" {
		return m.Source
	}
	return string(m.Trigger)
}

// PlanMessage plans one message into p: an ignored one is reported, an
// expired, invalid or not-today one refused or ignored, a sequence kept for
// runSequence, and a request (or each of its targets) accepted.
func (pl *Planner) PlanMessage(p *Plan, inv *Invocation, m events.Message) {
	src := sourceOf(m)
	if m.Ignored != "" {
		p.ignoreMessage(m, src)
		return
	}
	req := m.Request
	req.DryRun = req.DryRun || pl.Rules.DryRunOnly
	ids := UniqueStrings(req.InstanceIDs)
	if reason := pl.EventExpired(m, inv.Start); reason != "" {
		p.Ignore(result.IgnoredEvent{Source: src, Reason: reason, Trigger: string(m.Trigger)}, ids)
		return
	}
	errs := append(append([]events.FieldError(nil), m.Errors...), ValidateRequest(req, len(m.Errors) > 0)...)
	region, from := pl.ResolveRegion(m, inv)
	errs = regionErrors(req, region, from, errs)
	if len(errs) > 0 {
		p.refuseMessage(m, src, region, req, errs)
		return
	}
	if m.RequireRestartTag && pl.Rules.RestartTag == nil {
		p.Ignore(result.IgnoredEvent{Source: src, Reason: "ECS state-change events are ignored: RESTART_TAG is not set (DESIGN §4)", Trigger: string(m.Trigger)}, ids)
		return
	}
	switch {
	case req.Sequence != nil:
		// notAfter, skipDates and timeZone are the groups' defaults,
		// judged group by group (runSequence).
		p.Sequences = append(p.Sequences, &Sequence{M: m, Src: src, region: region, Req: req})
	case req.Targets != nil:
		pl.acceptTargets(p, inv, m, src, region, req)
	default:
		if reason := pl.NotToday(m, req, inv.Start, ""); reason != "" {
			p.Ignore(result.IgnoredEvent{Source: src, Reason: reason, Trigger: string(m.Trigger)}, ids)
			return
		}
		pl.accept(p, m, src, ecsapi.ScopeOf(region, req.RoleArn), req, TickTime(m, inv))
	}
}

// ignoreMessage reports a message that is no start request: a payload the
// operator wrote that is no start request nor a known event is a mistake
// to be seen (DESIGN §4), any other is ignored quietly.
func (p *Plan) ignoreMessage(m events.Message, src string) {
	mistake := OperatorWritten(m.Trigger)
	if len(m.Errors) > 0 {
		p.addInvalid(m.Errors)
		p.Ignore(result.IgnoredEvent{Source: src, Reason: m.Ignored + ": " + summarizeErrors(m.Errors),
			Code: result.CodeInvalidParameter, Trigger: string(m.Trigger), Mistake: mistake}, nil)
		return
	}
	p.Ignore(result.IgnoredEvent{Source: src, Reason: m.Ignored, Trigger: string(m.Trigger), Mistake: mistake}, namedIDs(m.Named))
}

// OperatorWritten says whether a message from trigger t was written by the
// operator where no one answers a refusal: a timer's payload, a direct
// invoke, a queue's message. There an event that is not a start request, and
// a request with unknown fields or any other defect, is an operator mistake
// (DESIGN §9): logged at ERROR with mistake true and counted. An HTTP
// caller is answered 400 instead; ECS and CloudMonitor events are news.
func OperatorWritten(t events.Trigger) bool {
	switch t {
	case events.Direct, events.Timer, events.MNS, events.MNSTopic, events.RocketMQ, events.Kafka, events.RabbitMQ:
		return true
	}
	return false
}

// regionErrors is errs with what is wrong of the region (resolved from
// from) added.
func regionErrors(req events.StartRequest, region, from string, errs []events.FieldError) []events.FieldError {
	switch {
	case req.Targets != nil || req.Sequence != nil:
		// Each target and group takes the outer region when it names
		// none (DESIGN §3.1, outer fields); the same instance in two
		// groups is judged after that default.
		usable := region
		if region != "" && from != "the request" && !ecsapi.ValidRegionID(region) {
			usable = "" // a malformed region the event supplied is no default
		}
		if len(errs) == 0 {
			errs = append(errs, partsWithoutRegion(req, usable, "")...)
		}
		if region != req.RegionID {
			errs = appendNew(errs, sequenceOverlaps(req, region))
		}
	case region == "" && len(errs) == 0:
		errs = append(errs, events.FieldError{Field: req.FieldName("regionId"),
			Message: "no region: name regionId in the request, or set DEFAULT_REGION_ID"})
	case region != "" && from != "the request" && !ecsapi.ValidRegionID(region):
		// A region the event or the context supplied is checked like one
		// the request names: a malformed one is a defect, not a retry.
		errs = append(errs, events.FieldError{Field: req.FieldName("regionId"),
			Message: fmt.Sprintf("%s (from %s) is not a region ID like cn-hangzhou", Quote(region), from)})
	}
	return errs
}

// refuseMessage refuses an invalid request whole; each target's (or
// group's) instances are reported in their own region and account. Each
// refused request, or each part of it, is reported once (DESIGN §5): by its
// instances, Rejected, or by one Ignored entry when it names none; the
// request itself has an entry of its own only when it has no part.
func (p *Plan) refuseMessage(m events.Message, src, region string, req events.StartRequest, errs []events.FieldError) {
	if req.Targets == nil && req.Sequence == nil {
		p.refuse(m, src, ecsapi.ScopeOf(region, req.RoleArn), req, errs)
		return
	}
	p.addInvalid(errs)
	if p.refuseParts(m, src, region, "", req, errs) == 0 {
		p.Ignore(result.IgnoredEvent{Source: src, Reason: "invalid start request: " + summarizeErrors(errs), Code: result.CodeInvalidParameter,
			Trigger: string(m.Trigger), Mistake: OperatorWritten(m.Trigger)}, namedIDs(req.Misnamed))
	}
}

// acceptTargets plans a request's targets (DESIGN §3.1): one request per
// target, in order, each with every outer field as its default, judged
// (expiry, skip dates in its own zone) and planned on its own.
func (pl *Planner) acceptTargets(p *Plan, inv *Invocation, m events.Message, src, region string, req events.StartRequest) {
	for i, t := range req.Targets {
		t = Inherit(req, region, t)
		if reason := pl.NotToday(m, t, inv.Start, fmt.Sprintf("targets[%d] in %s", i, ecsapi.ScopeLabel(ecsapi.ScopeOf(t.RegionID, t.RoleArn)))); reason != "" {
			p.Ignore(result.IgnoredEvent{Source: src, Reason: reason, Trigger: string(m.Trigger)}, UniqueStrings(t.InstanceIDs))
			continue
		}
		pl.accept(p, m, src, ecsapi.ScopeOf(t.RegionID, t.RoleArn), t, TickTime(m, inv))
	}
}

// Inherit is part (a target or a sequence group) with the outer request's
// fields as its defaults (DESIGN §3.1, outer fields): region (the outer
// request's, resolved as §3 resolves a request's), batchOptimization, wait,
// dryRun, notAfter, skipDates, timeZone, workDates, schedule and preview
// where part sets none (an
// explicit "dryRun": false in a part is its own, as "wait": false is).
// Applied at every depth (a group's targets inherit from the group, which
// inherited from the request).
func Inherit(outer events.StartRequest, region string, part events.StartRequest) events.StartRequest {
	if part.RegionID == "" {
		part.RegionID = region
	}
	if part.BatchOptimization == "" {
		part.BatchOptimization = outer.BatchOptimization
	}
	if !part.DryRunSet {
		part.DryRun, part.DryRunSet = outer.DryRun, outer.DryRunSet
	}
	if part.Wait == "" {
		part.Wait = outer.Wait
	}
	if part.NotAfter == "" {
		part.NotAfter = outer.NotAfter
	}
	if part.SkipDates == nil {
		part.SkipDates = outer.SkipDates
	}
	if part.TimeZone == "" {
		part.TimeZone = outer.TimeZone
	}
	// A schedule's fields (DESIGN §3.2): workDates like skipDates;
	// schedule and preview stand beside targets as their defaults.
	if part.WorkDates == nil {
		part.WorkDates = outer.WorkDates
	}
	if part.Schedule == nil {
		part.Schedule = outer.Schedule
	}
	if part.Preview == "" {
		part.Preview = outer.Preview
	}
	return part
}

// NotToday says why a request (or a target, a group, with its defaults
// applied) is not carried out now, or "": its notAfter has passed, or
// today is one of its skip dates in its zone (skipDate). what names the
// part in the reason ("targets[1] in cn-shanghai"), "" for a whole request.
func (pl *Planner) NotToday(m events.Message, req events.StartRequest, now time.Time, what string) string {
	if req.NotAfter != "" {
		if t, err := time.Parse(time.RFC3339, req.NotAfter); err == nil && now.After(t) {
			if what != "" {
				return fmt.Sprintf("expired: notAfter %s of %s has passed", req.NotAfter, what)
			}
			return fmt.Sprintf("expired: notAfter %s has passed", req.NotAfter)
		}
	}
	if req.Schedule != nil {
		// A schedule judges the skip dates per instance, each in its
		// schedule's own zone (DESIGN §3.2), never the request whole.
		return ""
	}
	reason := pl.skipDate(m, req, now)
	if reason != "" && what != "" {
		reason = what + ": " + reason
	}
	return reason
}

// partsWithoutRegion names the targets and groups left without a region
// once the outer one (region) is applied.
func partsWithoutRegion(req events.StartRequest, region, prefix string) []events.FieldError {
	var out []events.FieldError
	for _, l := range []struct {
		name  string
		parts []events.StartRequest
	}{{"targets", req.Targets}, {"sequence", req.Sequence}} {
		for i, part := range l.parts {
			r := part.RegionID
			if r == "" {
				r = region
			}
			at := fmt.Sprintf("%s%s[%d].", prefix, l.name, i)
			if part.Targets != nil {
				out = append(out, partsWithoutRegion(part, r, at)...)
				continue
			}
			if r == "" {
				out = append(out, events.FieldError{Field: at + "regionId",
					Message: "no region: name regionId here or in the request, or set DEFAULT_REGION_ID"})
			}
		}
	}
	return out
}

// appendNew appends the errors of more whose field errs does not name yet.
func appendNew(errs, more []events.FieldError) []events.FieldError {
	for _, fe := range more {
		if !slices.ContainsFunc(errs, func(have events.FieldError) bool { return have.Field == fe.Field }) {
			errs = append(errs, fe)
		}
	}
	return errs
}

// refuseParts reports the parts of a refused request with targets or a
// sequence, each in its own region (the part's, else region) and account,
// each once (refuseInstances); it says how many it reported. at is where
// req stands in the request ("" for the request itself).
func (p *Plan) refuseParts(m events.Message, src, region, at string, req events.StartRequest, errs []events.FieldError) int {
	n := 0
	for _, l := range []struct {
		name  string
		parts []events.StartRequest
	}{{"targets", req.Targets}, {"sequence", req.Sequence}} {
		for i, part := range l.parts {
			r := part.RegionID
			if r == "" {
				r = region
			}
			where := fmt.Sprintf("%s%s[%d]", at, l.name, i)
			if part.Targets != nil || part.Sequence != nil {
				n += p.refuseParts(m, src, r, where+".", part, errs)
				continue
			}
			p.refuseInstances(m, src, ecsapi.ScopeOf(r, part.RoleArn), where, part, errs)
			n++
		}
	}
	return n
}

// accept plans a valid request (or target) that passed expiry and the skip
// dates, in scope (its region, and account: ecsapi.ScopeOf): counted and merged
// now, or after the tag lookups before it. tick is the moment T of a
// schedule request (TickTime).
func (pl *Planner) accept(p *Plan, m events.Message, src string, scope ecsapi.Scope, req events.StartRequest, tick time.Time) {
	if req.Schedule != nil {
		pl.acceptSchedule(p, m, src, scope, req, tick)
		return
	}
	ids := UniqueStrings(req.InstanceIDs)
	mode := modeReal
	if req.DryRun {
		mode = modeDry
	}
	batch, _ := normalBatch(req.Batch())
	a := &accepted{M: m, Src: src, Scope: scope, req: req, IDs: ids, mode: mode, batch: batch,
		Tags: TagPairs(req.Tags), Selects: len(req.InstanceIDs) == 0 && req.Tags != nil}
	if role := req.RoleArn; role != "" && !pl.Rules.AllowedRoles[role] && a.Selects {
		// Nothing to look up without assuming the role, which is not
		// allowed: no STS call (DESIGN §3.1).
		p.Ignore(result.IgnoredEvent{Source: src, Code: result.CodeNotAllowed, Trigger: string(m.Trigger),
			Reason: fmt.Sprintf("the tags %s in %s were not looked up: %s", ecsapi.TagList(a.Tags), ecsapi.ScopeLabel(scope), pl.roleNotAllowed(role))}, nil)
		return
	}
	if d, on, _ := ParseWait(req.Wait); on && !req.DryRun {
		a.Wait = d // a dry run starts nothing to wait for
	}
	if a.Selects || len(p.Pending) > 0 {
		// Its instances are known after the lookup; the count goes in
		// order, so what comes after waits too.
		p.Pending = append(p.Pending, a)
		return
	}
	pl.Commit(p, a)
}

// roleNotAllowed says why role may not be assumed: it is not in
// ALLOWED_ROLE_ARNS, or ALLOWED_ROLE_ARNS is empty and no role may be.
func (pl *Planner) roleNotAllowed(role string) string {
	if len(pl.Rules.AllowedRoles) == 0 {
		return fmt.Sprintf("role %s may not be assumed: ALLOWED_ROLE_ARNS is empty, so no role may be; nothing was sent to STS", role)
	}
	return fmt.Sprintf("role %s is not in ALLOWED_ROLE_ARNS; nothing was sent to STS", role)
}

// TagPairs turns a request's tags into the ECS interface's pairs.
func TagPairs(tags []events.TagFilter) []ecsapi.Tag {
	if tags == nil {
		return nil
	}
	out := make([]ecsapi.Tag, len(tags))
	for i, t := range tags {
		out[i] = ecsapi.Tag{Key: t.Key, AnyValue: t.Value == nil}
		if t.Value != nil {
			out[i].Value = *t.Value
		}
	}
	return out
}

// Commit counts an accepted request's instances against MAX_INSTANCES and
// merges them into the plan: one entry per (region, ID), its AllTogether
// group, its tags and wait.
func (pl *Planner) Commit(p *Plan, a *accepted) {
	m, src, region, req, ids, mode, batch := a.M, a.Src, a.Scope, a.req, a.IDs, a.mode, a.batch
	if batch == ecsapi.AllTogether {
		// Overlapping AllTogether requests are one all-or-nothing call,
		// which holds at most 100 instances: the request that would pass
		// that is refused (DESIGN §4).
		if n := p.groupSize(region, ids, mode); n > ecsapi.MaxPerCall {
			what := "with the AllTogether requests it overlaps, %d instances would start all or nothing together, over %d"
			if a.Selects {
				what = "the tags select (with the AllTogether requests they overlap) %d instances to start all or nothing together, over %d"
			}
			req.InstanceIDs = ids
			p.refuse(m, src, region, req, []events.FieldError{{Field: req.FieldName("batchOptimization"),
				Message: "AllTogether: " + fmt.Sprintf(what, n, ecsapi.MaxPerCall)}})
			return
		}
	}
	var fresh int
	for _, id := range ids {
		if !p.Counted[ecsapi.InstanceKey(region, id)] {
			fresh++
		}
	}
	if len(p.Counted)+fresh > pl.Rules.MaxInstances {
		pl.refuseTooMany(p, a, fresh)
		return
	}
	p.Requests++
	if req.DryRun {
		p.DryRuns++
	}
	p.merge(a)
}

// refuseTooMany refuses the accepted request a, whose fresh instances (no
// earlier request brought them in) would bring the invocation over
// MAX_INSTANCES: one entry for the request, never one per ID (DESIGN §4);
// it lists the instances no earlier request brought in.
func (pl *Planner) refuseTooMany(p *Plan, a *accepted, fresh int) {
	region, ids := a.Scope, a.IDs
	refused := make([]string, 0, min(fresh, MaxListedIDs+1))
	for _, id := range ids {
		if !p.Counted[ecsapi.InstanceKey(region, id)] && len(refused) <= MaxListedIDs {
			refused = append(refused, id)
		}
	}
	what := fmt.Sprintf("names %d instances in %s", len(ids), region)
	switch {
	case a.sched != nil:
		what = fmt.Sprintf("finds %d instances due by the schedule tag key %s in %s", len(ids), Quote(a.sched.TagKey), ecsapi.ScopeLabel(region))
	case a.Selects:
		what = fmt.Sprintf("selects %d instances in %s by the tags %s", len(ids), region, ecsapi.TagList(a.Tags))
		if len(ids) > pl.Rules.MaxInstances {
			what = fmt.Sprintf("selects more than %d instances in %s by the tags %s", pl.Rules.MaxInstances, region, ecsapi.TagList(a.Tags))
		}
	}
	ig := result.IgnoredEvent{Source: a.Src, Code: result.CodeTooManyInstances, Trigger: string(a.M.Trigger),
		Reason: fmt.Sprintf("TooManyInstances: the request %s, %d of them new, which would bring the invocation to %d distinct instances, over MAX_INSTANCES (%d); nothing of it was sent",
			what, fresh, len(p.Counted)+fresh, pl.Rules.MaxInstances)}
	p.IgnoreCounted(ig, refused, fresh)
}

// merge counts a's instances and merges them into p's entries: one per
// (region, ID), with its sources, the tags it must carry, its wait, what
// a selection's lookup said of it, and its AllTogether group.
func (p *Plan) merge(a *accepted) {
	m, mode := a.M, a.mode
	// A selection's instances carry its tags (checked on the lookup's
	// answer): they are named as if by ID.
	narrows := a.Tags != nil && !a.Selects
	var members []*Entry
	for _, id := range a.IDs {
		p.Counted[ecsapi.InstanceKey(a.Scope, id)] = true
		e := p.Entry(a.Scope, id, m.Trigger)
		e.AddSource(a.Src)
		if !e.named[mode] {
			e.named[mode], e.restartTag[mode] = true, m.RequireRestartTag
		} else {
			// The restart-tag condition holds only if every request of
			// the mode asked for it.
			e.restartTag[mode] = e.restartTag[mode] && m.RequireRestartTag
		}
		if narrows {
			e.tagReqs[mode] = append(e.tagReqs[mode], a.Tags)
		} else {
			e.plain[mode] = true
		}
		e.Wait = max(e.Wait, a.Wait)
		if info, ok := a.Infos[id]; ok {
			e.Info, e.InfoRequestID, e.infoSettled = &info, a.LookupID, a.settled[id]
		}
		if at := a.scheduledAt[id]; at != "" && e.ScheduledAt == "" {
			e.ScheduledAt = at
		}
		members = append(members, e)
	}
	if a.batch == ecsapi.AllTogether {
		join(members, mode)
	}
}

// groupSize is how many instances the AllTogether group of mode would hold if
// a request naming ids in region joined it. At most 100 IDs: linear overall.
func (p *Plan) groupSize(scope ecsapi.Scope, ids []string, mode int) int {
	var roots []*AtGroup
	n := 0
	for _, id := range ids {
		e, ok := p.ByKey[ecsapi.InstanceKey(scope, id)]
		if !ok || e.at[mode] == nil {
			n++
			continue
		}
		r := e.at[mode].root()
		seen := false
		for _, have := range roots {
			seen = seen || have == r
		}
		if !seen {
			roots = append(roots, r)
			n += r.size
		}
	}
	return n
}

// join makes members one AllTogether group of mode, merging the groups they
// already belong to.
func join(members []*Entry, mode int) {
	g := &AtGroup{}
	for _, e := range members {
		if e.at[mode] == nil {
			e.at[mode] = g
			g.size++
			continue
		}
		if r := e.at[mode].root(); r != g {
			r.parent = g
			g.size += r.size
		}
	}
}

// maxReportedErrors bounds the defects an invalid request reports (the HTTP
// answer's Errors, the Ignored reasons): a request with thousands of malformed
// IDs must not make a result that grows with their square.
const maxReportedErrors = 20

func summarizeErrors(errs []events.FieldError) string {
	s := JoinFieldErrors(errs[:min(len(errs), 3)])
	if len(errs) > 3 {
		s += fmt.Sprintf(" (and %d more defects)", len(errs)-3)
	}
	return s
}

// refuse reports an invalid request: each instance it names is Rejected with
// its own defect (or the request's first) and a count of the others; nothing of
// it is sent. Beyond MAX_INSTANCES refused instances, a request's instances are
// summed up in one Ignored entry instead of one result each.
func (p *Plan) refuse(m events.Message, src string, scope ecsapi.Scope, req events.StartRequest, errs []events.FieldError) {
	p.addInvalid(errs)
	p.refuseInstances(m, src, scope, "", req, errs)
}

// refusal is a refused request (or part) whose instances are reported
// Rejected: keys are its instances, own the results it gave them. An
// instance that another request of the invocation also names is reported
// once, with that request's outcome (or the refusal that came first); when
// none of its instances carries its own, the refusal is one Ignored entry
// of its own (CloseRefusals), never swallowed.
type refusal struct {
	ig   result.IgnoredEvent
	keys []string
	own  []*result.InstanceResult
}

// refuseInstances is refuse without counting the defects (a request with
// targets refuses each target's instances with the request's defects).
// at names the part ("targets[1]"), "" for a whole request. It reports the
// part once: its instances Rejected, or, when it names none or past
// MAX_INSTANCES refused instances, one Ignored entry.
func (p *Plan) refuseInstances(m events.Message, src string, scope ecsapi.Scope, at string, req events.StartRequest, errs []events.FieldError) {
	summary := summarizeErrors(errs)
	ig := result.IgnoredEvent{Source: src, Reason: "invalid start request: " + summary, Code: result.CodeInvalidParameter,
		Trigger: string(m.Trigger), Mistake: OperatorWritten(m.Trigger)}
	if at != "" {
		ig.Reason += fmt.Sprintf(" (%s in %s)", at, ecsapi.ScopeLabel(scope))
	}
	ids := namedIDs(req.InstanceIDs)
	if len(ids) == 0 || p.refused+len(ids) > p.MaxInstances {
		if len(ids) == 0 {
			// The instances a misspelt field names: never started,
			// named with the refusal (DESIGN §4).
			ids = namedIDs(req.Misnamed)
		}
		p.Ignore(ig, ids)
		return
	}
	p.refused += len(ids)
	own := map[string]string{} // an ID's own (first) defect, by the ID
	for _, fe := range errs {
		i, ok := fe.Index()
		if !ok || i >= len(req.InstanceIDs) {
			continue
		}
		if id := req.InstanceIDs[i]; own[id] == "" {
			own[id] = fe.Field + ": " + fe.Message
		}
	}
	r := &refusal{ig: ig, keys: make([]string, 0, len(ids)), own: make([]*result.InstanceResult, 0, len(ids))}
	for _, id := range ids {
		msg := "invalid start request: " + summary
		if o, ok := own[id]; ok {
			msg = "invalid start request: " + o
			if len(errs) > 1 {
				msg += fmt.Sprintf(" (and %d more defects in the request)", len(errs)-1)
			}
		}
		e := p.Entry(scope, id, m.Trigger)
		e.AddSource(src)
		res := &result.InstanceResult{Outcome: result.Rejected, Code: result.CodeInvalidParameter, Message: msg,
			Mistake: OperatorWritten(m.Trigger)}
		if e.fallback == nil {
			e.fallback = res
		}
		r.keys = append(r.keys, ecsapi.InstanceKey(scope, id))
		r.own = append(r.own, res)
	}
	p.refusals = append(p.refusals, r)
}

// CloseRefusals reports, once every entry is decided (the sequences'
// groups absorbed), each refusal that no instance's result carries: an
// invalid request whose instances other requests of the invocation name
// and decide is one Ignored entry (InvalidParameter, a mistake where its
// carrier makes it one), naming them without listing them again (DESIGN
// §4, §5: each instance is reported once; a refusal is never swallowed by
// another request's success).
func (p *Plan) CloseRefusals() {
	for _, r := range p.refusals {
		var others []string
		carried := false
		for i, k := range r.keys {
			e := p.ByKey[k]
			if e != nil && e.Result == r.own[i] {
				carried = true
				break
			}
			if e != nil && len(others) < 3 {
				others = append(others, e.ID)
			}
		}
		if carried {
			continue
		}
		ig := r.ig
		names := strings.Join(others, ", ")
		if len(r.keys) > len(others) {
			names += fmt.Sprintf(" and %d more", len(r.keys)-len(others))
		}
		ig.Reason += fmt.Sprintf("; nothing of it was sent: %s, which it names, %s reported with the other requests of the invocation that name %s",
			names, plural(len(r.keys), "is", "are"), plural(len(r.keys), "it", "them"))
		p.Ignore(ig, nil)
	}
	p.refusals = nil
}

func plural(n int, one, more string) string {
	if n == 1 {
		return one
	}
	return more
}

// namedIDs are the distinct IDs a request names that can be reported: an
// empty string names no instance.
func namedIDs(in []string) []string {
	out := UniqueStrings(in)
	n := 0
	for _, id := range out {
		if id != "" {
			out[n] = id
			n++
		}
	}
	return out[:n]
}

// notPlanned reports the messages the deadline left unplanned: their
// instances are Unfinished (nothing of them was sent; safe to retry), one by
// one up to MAX_INSTANCES, then summed up in one Ignored entry.
func (pl *Planner) notPlanned(p *Plan, inv *Invocation, msgs []events.Message) {
	const why = "the deadline came before the request was planned; nothing of it was sent, safe to retry"
	var rest result.IgnoredEvent
	var restIDs []string
	restMsgs, restInstances := 0, 0
	for _, m := range msgs {
		src := sourceOf(m)
		region, _ := pl.ResolveRegion(m, inv)
		scope := ecsapi.ScopeOf(region, "") // as the function's own account's
		listed := false
		for _, id := range m.Request.InstanceIDs {
			if id == "" {
				continue
			}
			if e, ok := p.ByKey[ecsapi.InstanceKey(scope, id)]; ok {
				e.AddSource(src)
				continue
			}
			if p.unplanned < p.MaxInstances {
				p.unplanned++
				e := p.Entry(scope, id, m.Trigger)
				e.AddSource(src)
				e.fallback = &result.InstanceResult{Outcome: result.Unfinished, Code: result.CodeDeadlineExceeded, Retryable: true, Message: why}
				listed = true
				continue
			}
			restInstances++
			if len(restIDs) < MaxListedIDs {
				restIDs = append(restIDs, id)
			}
		}
		if !listed {
			if restMsgs == 0 {
				rest = result.IgnoredEvent{Source: src, Trigger: string(m.Trigger)}
			}
			restMsgs++
		}
	}
	p.unplannedMessages = len(msgs)
	if restMsgs == 0 {
		return
	}
	if restMsgs > 1 {
		rest.Source += fmt.Sprintf(" (and %d more)", restMsgs-1)
	}
	rest.Code = result.CodeDeadlineExceeded
	rest.Reason = fmt.Sprintf("%d messages naming %d more instances were not planned before the deadline; nothing of them was sent, safe to retry", restMsgs, restInstances)
	// Listed even past maxIgnored: it is what says the invocation is unfinished.
	rest.InstanceIDs = restIDs
	if restInstances > len(restIDs) {
		rest.InstanceCount = restInstances
	}
	p.Ignored = append(p.Ignored, rest)
}

// Finish decides how each instance is asked for: a real start wins over a dry
// run, any accepted request over a refusal; and applies the allow-lists.
func (p *Plan) Finish(pl *Planner) {
	for _, e := range p.Entries {
		mode := modeReal
		switch {
		case e.named[modeReal]:
		case e.named[modeDry]:
			mode = modeDry
		default:
			e.Result = e.fallback
			continue
		}
		e.DryRun = mode == modeDry
		e.NeedsRestartTag = e.restartTag[mode]
		if !e.plain[mode] {
			e.NeedTags = e.tagReqs[mode]
		}
		if g := e.at[mode]; g != nil {
			// A dry-run group loses the members that a real request names:
			// those are started for real.
			r := g.root()
			if len(r.members) == 0 {
				p.Groups = append(p.Groups, r)
			}
			r.members = append(r.members, e)
			e.Group = r
		}
		if why := pl.denied(e.Scope, e.ID); why != "" {
			e.Result = &result.InstanceResult{Outcome: result.Rejected, Code: result.CodeNotAllowed, Message: why}
			if e.Info != nil {
				// A selection (tags, a schedule) looked it up: what the
				// lookup saw is reported. The policy decided, not an ECS
				// call, so no EcsRequestId.
				e.Result.PreviousStatus, e.Result.CurrentStatus = e.Info.Status, e.Info.Status
			}
		}
	}
}

// CloseIgnored sums up the Ignored entries past maxIgnored in one last entry;
// it runs once, after the last call of ignore.
func (p *Plan) CloseIgnored() {
	o := p.overflow
	if o.events == 0 {
		return
	}
	p.overflow = overflowIgnored{}
	ig := result.IgnoredEvent{Source: fmt.Sprintf("%s (and %d more)", o.first.Source, o.events-1), Trigger: string(o.first.Trigger),
		Reason: fmt.Sprintf("%d more events were not carried out, past the %d entries one answer lists (MAX_INSTANCES); the first: %s",
			o.events, p.maxIgnored, o.first.Reason),
		InstanceIDs: o.ids, Mistake: o.mistake}
	if o.warn {
		ig.Code = o.first.Code
		if ig.Code == "" {
			ig.Code = result.CodeInvalidParameter
		}
	}
	if o.instances > len(o.ids) {
		ig.InstanceCount = o.instances
	}
	p.Ignored = append(p.Ignored, ig)
}

// SettleGroups keeps AllTogether all or nothing before any call (DESIGN §4):
// when a member of a group is decided without a call — denied by policy, failed
// or unfinished in a lookup — its partners are not started either, and share
// its outcome.
func SettleGroups(groups []*AtGroup) {
	for _, g := range groups {
		var cause *Entry
		for _, e := range g.members {
			// A member found Running by a tag selection needs no start:
			// the rest are started without it, as ECS's own answer
			// would have it (DESIGN §7).
			if e.Result != nil && e.Result.Outcome != result.AlreadyRunning {
				cause = e
				break
			}
		}
		if cause == nil {
			continue
		}
		for _, e := range g.members {
			if e.Result != nil {
				continue
			}
			r := *cause.Result
			r.PreviousStatus, r.CurrentStatus = "", ""
			r.Message = fmt.Sprintf("AllTogether starts all or nothing, and its partner %s cannot be started: %s", cause.ID, cause.Result.Message)
			e.Result = &r
		}
	}
}

// ReportedErrors is what an HTTP caller is told of invalid requests: at most
// maxReportedErrors defects, and how many more there are of total.
func ReportedErrors(errs []events.FieldError, total int) []events.FieldError {
	if len(errs) > maxReportedErrors {
		errs = errs[:maxReportedErrors]
	}
	if total <= len(errs) {
		return errs
	}
	out := append([]events.FieldError(nil), errs...)
	return append(out, events.FieldError{Field: "body", Message: fmt.Sprintf("and %d more defects", total-len(errs))})
}

// EventExpired says why an event is too old to act on, or "". A time in the
// future counts as now (DESIGN §4): a sender's clock ahead of ours neither
// expires an event nor makes it younger than fresh.
func (pl *Planner) EventExpired(m events.Message, now time.Time) string {
	if pl.Rules.MaxEventAge <= 0 || m.Time.IsZero() {
		return ""
	}
	t := m.Time
	if t.After(now) {
		t = now
	}
	if age := now.Sub(t); age > pl.Rules.MaxEventAge {
		return fmt.Sprintf("expired: the event is from %s, %s old, over MAX_EVENT_AGE (%s)",
			t.UTC().Format(time.RFC3339), age.Round(time.Second), pl.Rules.MaxEventAge)
	}
	return ""
}

// skipDate says why a request is not carried out today, or "": its date,
// in the request's timeZone (default TIME_ZONE, else UTC), is one of its
// skipDates or of SKIP_DATES (DESIGN §3.1). The date is that of the event's
// time where it states one (the timer's triggerTime, the CloudEvent's time,
// the HTTP request's time; one in the future counts as now), so that a retry
// of a request sent on the eve of a holiday is judged like its first try;
// else that of the invocation's start.
func (pl *Planner) skipDate(m events.Message, req events.StartRequest, now time.Time) string {
	if len(req.SkipDates) == 0 && len(pl.Rules.SkipDates) == 0 {
		return ""
	}
	at := now
	if !m.Time.IsZero() && m.Time.Before(now) {
		at = m.Time
	}
	zone := pl.Rules.TimeZone
	if zone == nil {
		zone = time.UTC
	}
	if req.TimeZone != "" {
		if loc, err := LoadZone(req.TimeZone); err == nil {
			zone = loc
		}
	}
	today := at.In(zone).Format(DateLayout)
	for _, d := range req.SkipDates {
		if d == today {
			return fmt.Sprintf("skip date %s (%s): the request is not carried out on it", today, zone)
		}
	}
	for _, d := range pl.Rules.SkipDates {
		if d == today {
			return fmt.Sprintf("skip date %s (%s): SKIP_DATES holds it, no request is carried out on it", today, zone)
		}
	}
	return ""
}

// ResolveRegion applies DESIGN §3's order: the request, the instance's own region
// stated by the event, DEFAULT_REGION_ID, the event source's region, the
// function's region.
func (pl *Planner) ResolveRegion(m events.Message, inv *Invocation) (region, from string) {
	for _, c := range []struct{ region, from string }{
		{m.Request.RegionID, "the request"},
		{m.InstanceRegion, "the event's instance"},
		{pl.Rules.DefaultRegionID, "DEFAULT_REGION_ID"},
		{m.SourceRegion, "the event's source"},
		{inv.Region, "the function's region"},
	} {
		if c.region != "" {
			return c.region, c.from
		}
	}
	return "", ""
}

// denied says why the allow-lists forbid starting the instance, or "".
func (pl *Planner) denied(scope ecsapi.Scope, id string) string {
	region, role := scope.Region, scope.Role
	if role != "" && !pl.Rules.AllowedRoles[role] {
		return pl.roleNotAllowed(role)
	}
	if pl.Rules.AllowedRegions != nil && !pl.Rules.AllowedRegions[region] {
		return fmt.Sprintf("region %s is not in ALLOWED_REGIONS", region)
	}
	if pl.Rules.AllowedIDs != nil && !pl.Rules.AllowedIDs[id] {
		return fmt.Sprintf("instance %s is not in ALLOWED_INSTANCE_IDS", id)
	}
	return ""
}

// JoinFieldErrors renders field errors on one line.
func JoinFieldErrors(errs []events.FieldError) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Field + ": " + e.Message
	}
	return strings.Join(parts, "; ")
}

// Selection is what the lookup of a pending tag selection said, handed to
// the plan as data: the instances found when Done, else why not.
type Selection struct {
	NoCredentials bool // the invocation carries none: nothing was looked up
	Done          bool // the lookup read every page
	Found         []ecsapi.InstanceInfo
	// Permanent, Code and Message say why a lookup not Done ended:
	// refused for good, or cut short (a retry can mend it).
	Permanent     bool
	Code, Message string
	RequestID     string // the lookup's last RequestId
	// Settled is, by instance found, what the answer alone settles for a
	// real start [0] and a dry run [1] (nil: still to start).
	Settled map[string][2]*result.InstanceResult
}

// applySelections commits the pending requests in order, each tag
// selection (facts[i] for p.Pending[i]) with the instances it found, and
// finishes the plan. A selection that finds nothing is Ignored with a
// reason naming its region and tags; one whose lookup failed is Ignored
// with the failure's code, and, when a retry can mend it, makes the
// invocation unfinished (Unresolved).
func (pl *Planner) applySelections(p *Plan, facts []Selection) {
	pending := p.Pending
	p.Pending = nil
	for i, a := range pending {
		if !a.Selects {
			pl.Commit(p, a)
			continue
		}
		f := facts[i]
		if a.sched != nil {
			pl.applySchedule(p, a, f)
			continue
		}
		what := fmt.Sprintf("the tags %s in %s", ecsapi.TagList(a.Tags), ecsapi.ScopeLabel(a.Scope))
		ig := result.IgnoredEvent{Source: a.Src, Trigger: string(a.M.Trigger)}
		if p.ignoreUnlooked(ig, what, f.Message, f) {
			continue
		}
		if len(f.Found) == 0 {
			ig.Reason = fmt.Sprintf("no instance carries %s: nothing to start", what)
			// A timer whose tags find nothing starts nothing every day:
			// an operator mistake (DESIGN §9).
			ig.Mistake = a.M.Trigger == events.Timer
			p.Ignore(ig, nil)
			continue
		}
		a.IDs = make([]string, len(f.Found))
		a.Infos = make(map[string]ecsapi.InstanceInfo, len(f.Found))
		a.LookupID, a.settled = f.RequestID, f.Settled
		for j, in := range f.Found {
			a.IDs[j] = in.InstanceID
			a.Infos[in.InstanceID] = in
		}
		pl.Commit(p, a)
	}
	p.Finish(pl)
}

// Lookup is what a DescribeInstances lookup said of one entry's instance,
// handed to the plan as data (applyLookup).
type Lookup struct {
	// Failed is the entry's result when the lookup did not succeed.
	Failed *result.InstanceResult
	Found  bool
	Info   ecsapi.InstanceInfo
	// RequestID is the lookup's RequestId.
	RequestID string
	// Settled is what the answer alone decides when the instance is not
	// to start (a security lock, Running or Starting), else nil; applied
	// only to an instance a tag selection found (DESIGN §3.1).
	Settled *result.InstanceResult
}

// applyLookup judges e on what its lookup l said, before any start: the
// tags ALLOWED_TAG and RESTART_TAG require and those that narrow named
// instances, then, for an instance a tag selection found, what l settles
// with no StartInstances call. It says whether e is decided (false: e is
// still to start).
func (pl *Planner) applyLookup(p *Plan, e *Entry, l Lookup) (decided bool) {
	if l.Failed != nil {
		e.Result = l.Failed
		return true
	}
	info := l.Info
	allowed, restart := pl.Rules.AllowedTag, pl.Rules.RestartTag
	switch {
	case !l.Found:
		e.Result = &result.InstanceResult{Outcome: result.Failed, Code: result.CodeNotFound, EcsRequestID: l.RequestID,
			Message: "DescribeInstances does not know the instance in " + ecsapi.ScopeLabel(e.Scope), Advice: result.Advice(result.CodeNotFound)}
	case allowed != nil && info.Tags[allowed.Key] != allowed.Value:
		e.Result = notCarrying(info, l.RequestID, fmt.Sprintf("the instance does not carry the tag ALLOWED_TAG requires (%s)", allowed))
	case e.NeedsRestartTag && info.Tags[restart.Key] != restart.Value:
		p.Ignore(result.IgnoredEvent{Source: strings.Join(e.Sources, ", "), Trigger: string(e.Trigger),
			Reason: fmt.Sprintf("in %s, the stopped instance does not carry the restart tag %s", ecsapi.ScopeLabel(e.Scope), restart)}, []string{e.ID})
	case len(e.NeedTags) > 0 && !carriesOne(info.Tags, e.NeedTags):
		e.Result = notCarrying(info, l.RequestID, fmt.Sprintf("the instance does not carry the tags the request narrows its instances by (%s)", ecsapi.TagList(e.NeedTags[0])))
	case e.Info != nil && l.Settled != nil:
		// What the selection's lookup said decides, as in the starter.
		e.Result = l.Settled
	default:
		return false
	}
	return true
}

// notCarrying is the refusal of an instance that lacks a tag a rule
// requires.
func notCarrying(info ecsapi.InstanceInfo, requestID, msg string) *result.InstanceResult {
	return &result.InstanceResult{Outcome: result.Rejected, Code: result.CodeNotAllowed, EcsRequestID: requestID,
		PreviousStatus: info.Status, CurrentStatus: info.Status, Message: msg}
}

// carriesOne says whether tags hold every pair of one of the sets.
func carriesOne(tags map[string]string, sets [][]ecsapi.Tag) bool {
	for _, set := range sets {
		if ecsapi.CarriesAll(tags, set) {
			return true
		}
	}
	return false
}

// Wait is the entries of one scope that wait for Running until the same
// time.
type Wait struct {
	Scope   ecsapi.Scope
	Until   time.Time
	Entries []*Entry
}

// Waits are the entries that requests with wait started (or found
// running per ECS's answer but not yet Running), grouped by scope and the
// end of their wait (start plus the wait), in plan order (DESIGN §3.1).
func (p *Plan) Waits(start time.Time) []Wait {
	type key struct {
		scope ecsapi.Scope
		until time.Time
	}
	at := map[key]int{}
	var waits []Wait
	for _, e := range p.Entries {
		if e.Wait <= 0 || e.DryRun || e.Result == nil || e.Result.CurrentStatus == "Running" {
			continue
		}
		if o := e.Result.Outcome; o != result.Started && o != result.AlreadyRunning {
			continue
		}
		k := key{e.Scope, start.Add(e.Wait)}
		i, ok := at[k]
		if !ok {
			i = len(waits)
			at[k] = i
			waits = append(waits, Wait{Scope: k.scope, Until: k.until})
		}
		waits[i].Entries = append(waits[i].Entries, e)
	}
	return waits
}

// Seen is what a wait's polls said of one entry's instance, handed to the
// plan as data (ApplyWait).
type Seen struct {
	Status       string // the last status seen, "" when none
	Running      bool
	RunningAfter time.Duration
	// PollFailed: the polls were refused for good (Code, Message);
	// DeadlineFirst: the invocation's deadline came before the wait's end.
	PollFailed    bool
	Code, Message string
	DeadlineFirst bool
}

// ApplyWait records what the wait saw of e: Running, or else Unfinished
// (WaitTimeout, or the polls' code when they were refused), with the status
// last seen (DESIGN §3.1).
func (e *Entry) ApplyWait(s Seen) {
	if s.Status != "" {
		e.Result.CurrentStatus = s.Status
	}
	if s.Running {
		e.Waited, e.RunningAfter = true, s.RunningAfter
		return
	}
	why, code := "the wait ended", result.CodeWaitTimeout
	switch {
	case s.PollFailed:
		why, code = "DescribeInstances failed while waiting ("+s.Code+": "+s.Message+")", s.Code
	case s.DeadlineFirst:
		why = "the invocation's deadline came"
	}
	status := s.Status
	if status == "" {
		status = "not seen"
	}
	e.Result = &result.InstanceResult{Outcome: result.Unfinished, Code: code, Retryable: true,
		PreviousStatus: e.Result.PreviousStatus, CurrentStatus: s.Status, EcsRequestID: e.Result.EcsRequestID,
		Message: fmt.Sprintf("ECS accepted the start, but the instance was not Running when %s (last status: %s); safe to retry: a Running instance is AlreadyRunning", why, status)}
}

// ignoreUnlooked reports a selection whose lookup gave nothing to plan
// from — the invocation has no credentials, or the lookup failed or did
// not finish (then Unresolved: safe to retry) — as one Ignored entry about
// what was looked up; msg is the lookup's message as told. It says
// whether it reported.
func (p *Plan) ignoreUnlooked(ig result.IgnoredEvent, what, msg string, f Selection) bool {
	switch {
	case f.NoCredentials:
		ig.Code, ig.Reason = result.CodeMissingCredentials, "cannot look up "+what+": the invocation carries no credentials (attach a RAM role to the function)"
	case !f.Done:
		ig.Code = f.Code
		if f.Permanent {
			ig.Reason = fmt.Sprintf("looking up %s failed: %s; nothing of it was sent", what, msg)
		} else {
			ig.Reason = fmt.Sprintf("looking up %s did not finish: %s; nothing of it was sent, safe to retry", what, msg)
			p.Unresolved = append(p.Unresolved, fmt.Sprintf("%s (%s)", what, f.Code))
		}
	default:
		return false
	}
	p.Ignore(ig, nil)
	return true
}
