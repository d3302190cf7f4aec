package plan

import (
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
)

// Needs are the lookups a plan needs before its instances can be grouped
// for StartInstances, as data (DESIGN §3.1): its tag selections, and the
// DescribeInstances lookups of the named instances whose tags a rule needs
// (ALLOWED_TAG, RESTART_TAG, tags that narrow named IDs). They do not
// depend on one another: the starter carries them all out at once.
type Needs struct {
	Selections []SelectNeed
	Describes  []DescribeNeed
}

// SelectNeed is one tag selection to look up: Pending is its index in
// Plan.Pending; ReadOnly marks that of a stopped sequence's later group,
// whose instances are reported Skipped, never started.
type SelectNeed struct {
	Pending  int
	Scope    ecsapi.Scope
	Tags     []ecsapi.Tag
	ReadOnly bool
	// Limit is the most instances the lookup reads: MAX_SCHEDULED for a
	// schedule's tag key (DESIGN §3.2), 0 for a tag selection's
	// MAX_INSTANCES.
	Limit int
}

// DescribeNeed is the DescribeInstances lookups of named instances of one
// scope (the starter makes them 100 a call).
type DescribeNeed struct {
	Scope ecsapi.Scope
	IDs   []string
}

// Facts are what the lookups of Needs said, handed to Apply: Selections in
// the order of Needs.Selections, Described by ecsapi.InstanceKey (Settled
// unused there). NoCredentials: the invocation carries none, and nothing
// was looked up.
type Facts struct {
	NoCredentials bool
	Selections    []Selection
	Described     map[string]Lookup
}

// StartGroup is one StartInstances call to make: at most 100 instances of
// one scope with one batch optimisation and one dry-run flag.
type StartGroup struct {
	Scope  ecsapi.Scope
	IDs    []string
	Batch  string
	DryRun bool
}

// Needs lists the lookups p needs, in one pass over the plan. Without
// credentials nothing can be looked up. Once the plan is finished (no
// selection pending), the named instances to describe are exactly those
// still to start after the allow-lists and their AllTogether partners.
// While selections are pending, which later requests MAX_INSTANCES lets
// in depends on what they find: the instances to describe are then those
// of every accepted request that is not refused whatever the selections
// find, and that the allow-lists do not deny; an instance a selection
// also finds is judged on what the selection said (Apply), its describe
// unused.
func (pl *Planner) Needs(p *Plan, haveCreds bool) Needs {
	var n Needs
	if !haveCreds {
		return n
	}
	for i, a := range p.Pending {
		if a.Selects {
			sn := SelectNeed{Pending: i, Scope: a.Scope, Tags: a.Tags}
			if a.sched != nil {
				sn.Limit = pl.Rules.maxScheduled()
			}
			n.Selections = append(n.Selections, sn)
		}
	}
	d := describes{pl: pl, byScope: map[ecsapi.Scope]int{}, seen: map[string]bool{}}
	if len(p.Pending) == 0 {
		SettleGroups(p.Groups)
		for _, e := range p.Entries {
			if e.Result == nil && e.Info == nil && pl.needsTags(e) {
				d.add(e.Scope, e.ID)
			}
		}
	} else {
		pl.pendingDescribes(p, &d)
	}
	n.Describes = d.list
	return n
}

// describes gathers the instances to describe, once each, by scope in
// order of first mention; those the allow-lists deny are never started,
// and not looked up.
type describes struct {
	pl      *Planner
	byScope map[ecsapi.Scope]int
	seen    map[string]bool
	list    []DescribeNeed
}

func (d *describes) add(scope ecsapi.Scope, id string) {
	k := ecsapi.InstanceKey(scope, id)
	if d.seen[k] || d.pl.denied(scope, id) != "" {
		return
	}
	d.seen[k] = true
	i, ok := d.byScope[scope]
	if !ok {
		i = len(d.list)
		d.byScope[scope] = i
		d.list = append(d.list, DescribeNeed{Scope: scope})
	}
	d.list[i].IDs = append(d.list[i].IDs, id)
}

// pendingDescribes adds the named instances to describe while selections
// are pending: those of the requests committed before them, and of every
// pending request that is not refused whatever they find, when a rule
// needs their tags.
func (pl *Planner) pendingDescribes(p *Plan, d *describes) {
	allowed := pl.Rules.AllowedTag != nil
	for _, e := range p.Entries {
		if allowed || e.restartTag != [2]bool{} || len(e.tagReqs[modeReal])+len(e.tagReqs[modeDry]) > 0 {
			d.add(e.Scope, e.ID)
		}
	}
	for _, a := range p.Pending {
		needs := allowed || a.M.RequireRestartTag || a.Tags != nil
		if a.Selects || !needs || pl.refusedAnyway(p, a) {
			continue
		}
		for _, id := range a.IDs {
			d.add(a.Scope, id)
		}
	}
}

// refusedAnyway says whether MAX_INSTANCES refuses the pending request a
// whatever the selections before it find: what they find only adds to
// what is counted already.
func (pl *Planner) refusedAnyway(p *Plan, a *accepted) bool {
	fresh := 0
	for _, id := range a.IDs {
		if !p.Counted[ecsapi.InstanceKey(a.Scope, id)] {
			fresh++
		}
	}
	return len(p.Counted)+fresh > pl.Rules.MaxInstances
}

// needsTags says whether a rule needs e's tags: ALLOWED_TAG, RESTART_TAG,
// or tags that narrow the IDs that name it.
func (pl *Planner) needsTags(e *Entry) bool {
	return pl.Rules.AllowedTag != nil || e.NeedsRestartTag || len(e.NeedTags) > 0
}

// Apply is the plan's one pass over what the lookups of needs said: the
// pending requests are committed in order (each selection with what it
// found, MAX_INSTANCES counted after it), the allow-lists and tags
// checked, AllTogether kept all or nothing (SettleGroups), and the
// entries still to start returned with the StartInstances calls that
// start them. An instance a tag selection found is judged on what that
// lookup said: Running or Starting is AlreadyRunning, a security lock
// Failed, with no StartInstances call.
func (pl *Planner) Apply(p *Plan, needs Needs, f Facts) ([]*Entry, []StartGroup) {
	if len(p.Pending) > 0 {
		facts := make([]Selection, len(p.Pending))
		for j, sn := range needs.Selections {
			facts[sn.Pending] = f.Selections[j]
		}
		for i := range facts {
			facts[i].NoCredentials = f.NoCredentials
		}
		pl.applySelections(p, facts)
	}
	todo := undecided(p.Entries)
	if len(todo) > 0 && f.NoCredentials {
		for _, e := range todo {
			e.Result = &result.InstanceResult{Outcome: result.Failed, Code: result.CodeMissingCredentials,
				Message: "the invocation carries no credentials: the function has no RAM role", Advice: result.Advice(result.CodeMissingCredentials)}
		}
		todo = nil
	}
	// An AllTogether group with a member denied by the allow-lists, or by
	// ALLOWED_TAG after the lookup, starts none of its members (DESIGN §4).
	SettleGroups(p.Groups)
	var rest []*Entry
	for _, e := range undecided(todo) {
		l, looked := f.Described[ecsapi.InstanceKey(e.Scope, e.ID)]
		looked = looked && pl.needsTags(e)
		if !looked && pl.needsTags(e) {
			// A safety net: Needs lists every instance a rule needs
			// the tags of; one not looked up is never started.
			l, looked = Lookup{Failed: &result.InstanceResult{Outcome: result.Unfinished, Code: result.CodeDeadlineExceeded, Retryable: true,
				Message: "its tags were not looked up; nothing was sent, safe to retry"}}, true
		}
		if e.Info != nil {
			dry := 0
			if e.DryRun {
				dry = 1
			}
			l, looked = Lookup{Found: true, Info: *e.Info, RequestID: e.InfoRequestID, Settled: e.infoSettled[dry]}, true
		}
		if !looked || !pl.applyLookup(p, e, l) {
			rest = append(rest, e)
		}
	}
	SettleGroups(p.Groups)
	todo = undecided(rest)
	return todo, GroupStarts(todo)
}

func undecided(list []*Entry) []*Entry {
	var out []*Entry
	for _, e := range list {
		if e.Result == nil {
			out = append(out, e)
		}
	}
	return out
}

// GroupStarts forms StartInstances calls: an AllTogether group's instances
// together, SuccessFirst ones pooled per region and dry-run flag, 100 a call.
func GroupStarts(todo []*Entry) []StartGroup {
	type poolKey struct {
		scope  ecsapi.Scope
		dryRun bool
		group  *AtGroup // nil for SuccessFirst pools
	}
	pools := map[poolKey][]string{}
	var order []poolKey
	for _, e := range todo {
		k := poolKey{scope: e.Scope, dryRun: e.DryRun, group: e.Group}
		if _, ok := pools[k]; !ok {
			order = append(order, k)
		}
		pools[k] = append(pools[k], e.ID)
	}
	var groups []StartGroup
	for _, k := range order {
		batch := ecsapi.SuccessFirst
		if k.group != nil {
			batch = ecsapi.AllTogether
		}
		ids := pools[k]
		for len(ids) > 0 {
			n := min(len(ids), ecsapi.MaxPerCall)
			groups = append(groups, StartGroup{Scope: k.scope, IDs: ids[:n:n], Batch: batch, DryRun: k.dryRun})
			ids = ids[n:]
		}
	}
	return groups
}

// ApplyStarts records what the starts said of the entries todo (by
// ecsapi.InstanceKey); one the starter did not decide is Unfinished, a
// safety net.
func ApplyStarts(todo []*Entry, results map[string]result.InstanceResult) {
	for _, e := range todo {
		if ir, ok := results[ecsapi.InstanceKey(e.Scope, e.ID)]; ok {
			e.Result = &ir
		} else {
			e.Result = &result.InstanceResult{Outcome: result.Unfinished, Code: result.CodeDeadlineExceeded, Retryable: true,
				Message: "no outcome was reached before the deadline; safe to retry"}
		}
	}
}
