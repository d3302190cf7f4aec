package handler

import (
	"fmt"
	"strings"
	"time"

	"github.com/start-ecs/start-ecs/events"
)

// entry is one (region, instance) pair of an invocation, from the first request
// that named it to its result.
type entry struct {
	id, region string
	batch      string
	dryRun     bool
	reqIndex   int // the request it is started with (AllTogether groups by it)
	trigger    events.Trigger
	sources    []string
	// needsRestartTag: started only if it carries RESTART_TAG (state-change events).
	needsRestartTag bool
	// result is set once the outcome is known; nil for a candidate to start.
	result *InstanceResult
}

// plan is what an invocation's messages ask for: the instances in order of first
// mention, and the events that named nothing to start.
type plan struct {
	entries []*entry
	byKey   map[string]*entry
	byID    map[string]*entry // the first entry of each instance ID
	ignored []IgnoredEvent
	// invalid collects the defects of invalid requests (an HTTP caller gets 400).
	invalid []events.FieldError
	// requests counts valid requests, dryRuns those of them that are dry runs.
	requests, dryRuns int
	// refused counts the instances of invalid requests reported one by one.
	refused int
	trigger events.Trigger
}

func (p *plan) ignore(trigger events.Trigger, source, reason string, ids []string) {
	p.ignored = append(p.ignored, IgnoredEvent{Source: source, Reason: reason, InstanceIDs: ids, trigger: trigger})
}

// add merges e into the plan: one entry per (region, instance). A real start wins
// over a dry run, anything to start over a rejection; every source is kept.
func (p *plan) add(e *entry) {
	k := resultKey(e.region, e.id)
	old, ok := p.byKey[k]
	if !ok && e.result == nil {
		if rej, seen := p.byID[e.id]; seen && rej.result != nil {
			// Planned so far only as refused (maybe under a malformed region):
			// the instance to start takes that entry over.
			delete(p.byKey, resultKey(rej.region, rej.id))
			rej.region = e.region
			p.byKey[k] = rej
			old, ok = rej, true
		}
	}
	if !ok {
		p.byKey[k] = e
		if _, seen := p.byID[e.id]; !seen {
			p.byID[e.id] = e
		}
		p.entries = append(p.entries, e)
		return
	}
	old.sources = appendUnique(old.sources, e.sources...)
	switch {
	case e.result != nil:
		// A rejection never displaces what is already there.
	case old.result != nil, old.dryRun && !e.dryRun:
		old.result = nil
		old.batch, old.dryRun, old.reqIndex = e.batch, e.dryRun, e.reqIndex
		old.needsRestartTag = e.needsRestartTag
	case old.dryRun == e.dryRun:
		// Two real starts (or two dry runs): the restart-tag condition holds
		// only if every source asked for it.
		old.needsRestartTag = old.needsRestartTag && e.needsRestartTag
	default:
		// A dry run merged into a real start changes nothing of it: it must
		// not lift the real start's restart-tag condition.
	}
}

// addRejected records an instance of a refused request. An instance already
// planned under any region keeps its entry (a malformed region must not report
// it a second time); the refusal only adds its source.
func (p *plan) addRejected(e *entry) {
	if old, ok := p.byID[e.id]; ok {
		old.sources = appendUnique(old.sources, e.sources...)
		return
	}
	p.add(e)
}

func appendUnique(list []string, more ...string) []string {
	for _, s := range more {
		found := false
		for _, have := range list {
			if have == s {
				found = true
				break
			}
		}
		if !found {
			list = append(list, s)
		}
	}
	return list
}

// makePlan validates the messages and applies expiry, limits and the
// allow-lists; it does nothing that needs ECS.
func (h *Handler) makePlan(inv *invocation, msgs []events.Message) *plan {
	p := &plan{byKey: make(map[string]*entry), byID: make(map[string]*entry)}
	counted := make(map[string]bool)
	for i, m := range msgs {
		if p.trigger == "" {
			p.trigger = m.Trigger
		}
		src := m.Source
		if src == "" {
			src = string(m.Trigger)
		}
		if m.Ignored != "" {
			p.ignore(m.Trigger, src, m.Ignored, nil)
			continue
		}
		req := m.Request
		req.DryRun = req.DryRun || h.cfg.DryRunOnly
		ids := uniqueStrings(req.InstanceIDs)
		if reason := h.eventExpired(m, inv.start); reason != "" {
			p.ignore(m.Trigger, src, reason, ids)
			continue
		}
		errs := append(append([]events.FieldError(nil), m.Errors...), Validate(req)...)
		region, from := h.resolveRegion(m, inv)
		switch {
		case region == "" && len(errs) == 0:
			errs = append(errs, events.FieldError{Field: "regionId",
				Message: "no region: name regionId in the request, or set DEFAULT_REGION_ID"})
		case region != "" && from != "the request" && !regionRE.MatchString(region):
			// A region the event or the context supplied is checked like one
			// the request names: a malformed one is a defect, not a retry.
			errs = append(errs, events.FieldError{Field: "regionId",
				Message: fmt.Sprintf("%s (from %s) is not a region ID like cn-hangzhou", quote(region), from)})
		}
		if len(errs) > 0 {
			p.refuse(h.cfg.MaxInstances, m, src, i, region, req.InstanceIDs, ids, errs)
			continue
		}
		if req.NotAfter != "" {
			if t, err := time.Parse(time.RFC3339, req.NotAfter); err == nil && inv.start.After(t) {
				p.ignore(m.Trigger, src, fmt.Sprintf("expired: notAfter %s has passed", req.NotAfter), ids)
				continue
			}
		}
		if m.RequireRestartTag && h.cfg.RestartTag == nil {
			p.ignore(m.Trigger, src, "ECS state-change events are ignored: RESTART_TAG is not set (DESIGN §4)", ids)
			continue
		}
		var fresh int
		for _, id := range ids {
			if !counted[resultKey(region, id)] {
				fresh++
			}
		}
		if len(counted)+fresh > h.cfg.MaxInstances {
			msg := fmt.Sprintf("the request would bring the invocation to %d distinct instances, over MAX_INSTANCES (%d)", len(counted)+fresh, h.cfg.MaxInstances)
			for _, id := range ids {
				p.addRejected(&entry{id: id, region: region, trigger: m.Trigger, sources: []string{src}, reqIndex: i,
					result: &InstanceResult{Outcome: Rejected, Code: CodeTooManyInstances, Message: msg}})
			}
			continue
		}
		for _, id := range ids {
			counted[resultKey(region, id)] = true
		}
		p.requests++
		if req.DryRun {
			p.dryRuns++
		}
		batch, _ := normalBatch(req.BatchOptimization)
		for _, id := range ids {
			e := &entry{id: id, region: region, batch: batch, dryRun: req.DryRun, reqIndex: i,
				trigger: m.Trigger, sources: []string{src}, needsRestartTag: m.RequireRestartTag}
			if why := h.denied(region, id); why != "" {
				e.result = &InstanceResult{Outcome: Rejected, Code: CodeNotAllowed, Message: why}
			}
			p.add(e)
		}
	}
	return p
}

// maxReportedErrors bounds the defects an invalid request reports (the HTTP
// answer's Errors, the Ignored reasons): a request with thousands of malformed
// IDs must not make a result that grows with their square.
const maxReportedErrors = 20

// refuse reports an invalid request: each instance it names is Rejected with
// its own defect (or the request's first) and a count of the others; nothing of
// it is sent. Beyond MAX_INSTANCES refused instances, the rest are listed in one
// Ignored event instead of one result each.
func (p *plan) refuse(maxInstances int, m events.Message, src string, reqIndex int, region string, named, ids []string, errs []events.FieldError) {
	p.invalid = append(p.invalid, errs...)
	summary := joinFieldErrors(errs[:min(len(errs), 3)])
	if len(errs) > 3 {
		summary += fmt.Sprintf(" (and %d more defects)", len(errs)-3)
	}
	if len(ids) == 0 || p.refused+len(ids) > maxInstances {
		p.ignore(m.Trigger, src, "invalid start request: "+summary, ids)
		return
	}
	p.refused += len(ids)
	own := map[string]string{} // an ID's own defect, by the ID
	for _, e := range errs {
		var n int
		if _, err := fmt.Sscanf(e.Field, "instanceIds[%d]", &n); err == nil && n >= 0 && n < len(named) {
			own[named[n]] = e.Field + ": " + e.Message
		}
	}
	for _, id := range ids {
		msg := "invalid start request: " + summary
		if o, ok := own[id]; ok {
			msg = "invalid start request: " + o
			if len(errs) > 1 {
				msg += fmt.Sprintf(" (and %d more defects in the request)", len(errs)-1)
			}
		}
		p.addRejected(&entry{id: id, region: region, trigger: m.Trigger, sources: []string{src}, reqIndex: reqIndex,
			result: &InstanceResult{Outcome: Rejected, Code: CodeInvalidParameter, Message: msg}})
	}
}

// reportedErrors is what an HTTP caller is told of invalid requests: at most
// maxReportedErrors defects, and how many more there are.
func reportedErrors(errs []events.FieldError) []events.FieldError {
	if len(errs) <= maxReportedErrors {
		return errs
	}
	out := append([]events.FieldError(nil), errs[:maxReportedErrors]...)
	return append(out, events.FieldError{Field: "body", Message: fmt.Sprintf("and %d more defects", len(errs)-maxReportedErrors)})
}

// eventExpired says why an event is too old to act on, or "".
func (h *Handler) eventExpired(m events.Message, now time.Time) string {
	if h.cfg.MaxEventAge <= 0 || m.Time.IsZero() {
		return ""
	}
	if age := now.Sub(m.Time); age > h.cfg.MaxEventAge {
		return fmt.Sprintf("expired: the event is from %s, %s old, over MAX_EVENT_AGE (%s)",
			m.Time.UTC().Format(time.RFC3339), age.Round(time.Second), h.cfg.MaxEventAge)
	}
	return ""
}

// resolveRegion applies DESIGN §3's order: the request, the instance's own region
// stated by the event, DEFAULT_REGION_ID, the event source's region, the
// function's region.
func (h *Handler) resolveRegion(m events.Message, inv *invocation) (region, from string) {
	for _, c := range []struct{ region, from string }{
		{m.Request.RegionID, "the request"},
		{m.InstanceRegion, "the event's instance"},
		{h.cfg.DefaultRegionID, "DEFAULT_REGION_ID"},
		{m.SourceRegion, "the event's source"},
		{inv.region, "the function's region"},
	} {
		if c.region != "" {
			return c.region, c.from
		}
	}
	return "", ""
}

// denied says why the allow-lists forbid starting the instance, or "".
func (h *Handler) denied(region, id string) string {
	if h.cfg.AllowedRegions != nil && !h.cfg.AllowedRegions[region] {
		return fmt.Sprintf("region %s is not in ALLOWED_REGIONS", region)
	}
	if h.cfg.AllowedIDs != nil && !h.cfg.AllowedIDs[id] {
		return fmt.Sprintf("instance %s is not in ALLOWED_INSTANCE_IDS", id)
	}
	return ""
}

func joinFieldErrors(errs []events.FieldError) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Field + ": " + e.Message
	}
	return strings.Join(parts, "; ")
}
