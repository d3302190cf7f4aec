package starter

import (
	"context"
	"sync"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
)

// TagQuery is one tag selection to read: the instances of Scope that
// carry all of Tags, at most Limit of them (SelectByTags).
type TagQuery struct {
	Scope ecsapi.Scope
	Tags  []ecsapi.Tag
	Limit int
}

// IDQuery is the DescribeInstances lookups of named instances of one
// scope, 100 a call.
type IDQuery struct {
	Scope ecsapi.Scope
	IDs   []string
}

// Selected is what a tag selection's lookup said: when OK, the instances
// found, and for each what the answer alone settles (Settled) for a real
// start ([0]) and a dry run ([1]); else why it did not succeed (Verdict,
// already Unfinished's when a retry can mend it).
type Selected struct {
	OK      bool
	Found   []ecsapi.InstanceInfo
	Settled map[string][2]*result.InstanceResult
	Verdict Verdict
}

// Described is what a DescribeInstances lookup said of one instance: found
// or not, with its RequestId, or, when the lookup did not succeed, the
// instance's result (Failed).
type Described struct {
	Found     bool
	Info      ecsapi.InstanceInfo
	RequestID string
	Failed    *result.InstanceResult
}

// LookUp carries out all the lookups one plan needs before any start,
// concurrently under the starter's bound, pace and retries (DESIGN §3.1):
// the tag selections and the lookups of named instances, which do not
// depend on one another. It answers as data, in the order of the queries;
// it knows nothing of the plan that asked.
func (r *Run) LookUp(ctx context.Context, tags []TagQuery, ids []IDQuery) ([]Selected, []map[string]Described) {
	selected := make([]Selected, len(tags))
	described := make([]map[string]Described, len(ids))
	var wg sync.WaitGroup
	for i, q := range tags {
		wg.Go(func() { selected[i] = r.selectFacts(ctx, q) })
	}
	for i, q := range ids {
		wg.Go(func() { described[i] = r.describeAll(ctx, q.Scope, q.IDs) })
	}
	wg.Wait()
	return selected, described
}

// describeAll looks up ids, 100 a call, concurrently.
func (r *Run) describeAll(ctx context.Context, scope ecsapi.Scope, ids []string) map[string]Described {
	rest := ids
	out := make(map[string]Described, len(rest))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for len(rest) > 0 {
		chunk := rest[:min(len(rest), ecsapi.MaxPerCall)]
		rest = rest[len(chunk):]
		wg.Go(func() {
			infos, v, ok := r.Lookup(ctx, scope, chunk)
			var failed *result.InstanceResult
			if !ok {
				failed = lookupFailed(ctx, v)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, id := range chunk {
				info, in := infos[id]
				out[id] = Described{Found: in, Info: info, RequestID: v.RequestID, Failed: failed}
			}
		})
	}
	wg.Wait()
	return out
}

func (r *Run) selectFacts(ctx context.Context, q TagQuery) Selected {
	found, v, ok := r.SelectByTags(ctx, q.Scope, q.Tags, q.Limit)
	s := Selected{OK: ok, Found: found, Verdict: v}
	if !ok {
		return s
	}
	s.Settled = make(map[string][2]*result.InstanceResult, len(found))
	for _, in := range found {
		var both [2]*result.InstanceResult
		for i, dry := range []bool{false, true} {
			if ir, ok := Settled(in, v.RequestID, dry); ok {
				both[i] = &ir
			}
		}
		s.Settled[in.InstanceID] = both
	}
	return s
}

// lookupFailed is the result of an instance whose lookup did not
// succeed: Failed when ECS refused it for good, else Unfinished.
func lookupFailed(ctx context.Context, v Verdict) *result.InstanceResult {
	if v.Class == Permanent {
		return &result.InstanceResult{Outcome: result.Failed, Code: v.Code, Message: "tag lookup failed: " + v.Message,
			EcsRequestID: v.RequestID, Advice: v.AdviceText()}
	}
	v = UnfinishedVerdict(ctx, v)
	return &result.InstanceResult{Outcome: result.Unfinished, Code: v.Code, Message: "tag lookup did not finish: " + v.Message,
		EcsRequestID: v.RequestID}
}
