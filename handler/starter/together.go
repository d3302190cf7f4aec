package starter

import (
	"context"
	"fmt"
	"strings"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
)

// This file settles an AllTogether call that cannot go ahead because of some
// of its instances (DESIGN §7). ECS refuses such a call as a whole and names
// no culprit, so the instances are looked up once: the ones whose own state
// refused the call keep ECS's words, and every partner is told the truth
// about itself.

// culprit is an instance that a lookup shows cannot start: not found, or
// locked. own is what the lookup alone says of it; what names it in a
// partner's message.
type culprit struct {
	id   string
	what string
	own  Verdict
}

// culpritOf says whether the lookup shows that id itself refuses a start.
func culpritOf(region ecsapi.Scope, id string, info ecsapi.InstanceInfo, found bool, requestID string) (culprit, bool) {
	switch {
	case !found:
		return culprit{id: id, what: "which does not exist in " + region.String(),
			own: Verdict{Class: perID, Code: result.CodeNotFound, Message: "DescribeInstances does not know the instance in " + region.String(), RequestID: requestID}}, true
	case HasLock(info, "security"):
		return culprit{id: id, what: "which is locked for security", own: securityLock(requestID)}, true
	case len(info.LockReasons) > 0:
		reasons := strings.Join(info.LockReasons, ", ")
		v := Verdict{Class: Permanent, Code: result.CodeInstanceLocked, RequestID: requestID,
			Message: "the instance is locked (OperationLocks: " + reasons + "); ECS starts it only once the lock is lifted"}
		if HasLock(info, "financial") {
			v.advice = result.Advice("InsufficientBalance")
		}
		return culprit{id: id, what: "which is locked (" + reasons + ")", own: v}, true
	}
	return culprit{}, false
}

// blamed is the verdict a culprit is reported with: ECS's own answer to the
// call when that answer is about the culprit's kind of trouble (an ID ECS
// does not know, a lock), else what the lookup says of it.
func (c culprit) blamed(cause Verdict) Verdict {
	switch {
	case c.own.Class == perID && cause.Class == perID,
		c.own.Class == Permanent && cause.Class == Permanent:
		return cause
	}
	return c.own
}

// togetherRefused settles an AllTogether call of ids that ECS refused for
// good with cause (DESIGN §7): one DescribeInstances lookup, then
// judgeTogether. A refusal that concerns no instance (permissions,
// credentials, the region) fails every instance with ECS's words, without a
// lookup; so does a call of one instance, which is its own culprit.
func (r *Run) togetherRefused(ctx context.Context, region ecsapi.Scope, ids []string, cause Verdict, dry bool) {
	if len(ids) == 1 || !concernsInstances(cause.Code) {
		r.setAll(region, ids, result.Failed, cause, "", "")
		return
	}
	infos, v, ok := r.Lookup(ctx, region, ids)
	if !ok {
		r.setAll(region, ids, result.Failed, unblamed(cause, len(ids)), "", "")
		return
	}
	r.judgeTogether(region, ids, infos, v.RequestID, &cause, dry)
}

// concernsInstances says whether a refusal of a whole call may be about one
// of its instances, so that a lookup can tell which: not a refusal of the
// caller (RAM, credentials) or of the region.
func concernsInstances(code string) bool {
	for _, p := range []string{"Forbidden", "NoPermission", "InvalidAccessKeyId", "InvalidSecurityToken", "MissingSecurityToken",
		"SignatureDoesNotMatch", result.CodeInvalidRegionID, result.CodeClientError, "MissingParameter", "InvalidParameter.TooManyInstanceIds"} {
		if strings.HasPrefix(code, p) {
			return false
		}
	}
	return true
}

// unblamed is cause for an instance of a refused AllTogether call when the
// culprit could not be told: ECS's code and words, and what they may mean.
func unblamed(cause Verdict, n int) Verdict {
	cause.Message = fmt.Sprintf("%s (ECS refused the AllTogether call of %d instances as a whole and named none of them: this may concern another instance of the call; start them with SuccessFirst to see each one's own answer)", strings.TrimSuffix(cause.Message, "."), n)
	return cause
}

// judgeTogether decides the instances of an AllTogether call from one lookup
// (DESIGN §7): a culprit (not found, locked) is Failed with ECS's words when
// they are about it (blamed), a Running or Starting one AlreadyRunning; when
// there is a culprit, every other instance is a partner, Failed with the
// call's code and a message naming the culprits. Without a culprit, a cause
// that refused the call for good fails the rest with ECS's words (unblamed);
// otherwise (cause nil or a status) the rest is returned, to start.
func (r *Run) judgeTogether(region ecsapi.Scope, ids []string, infos map[string]ecsapi.InstanceInfo, requestID string, cause *Verdict, dry bool) (rest []string) {
	var culprits []culprit
	for _, id := range ids {
		info, found := infos[id]
		if c, ok := culpritOf(region, id, info, found, requestID); ok {
			v := c.own
			if cause != nil {
				v = c.blamed(*cause)
			}
			r.setAll(region, []string{id}, result.Failed, v, info.Status, info.Status)
			culprits = append(culprits, c)
			continue
		}
		if ir, ok := Settled(info, requestID, dry); ok {
			// Not a culprit, so not locked for security: Running or Starting.
			ir.InstanceID = id
			r.set(region, ir)
			continue
		}
		rest = append(rest, id)
	}
	refused := cause != nil && (cause.Class == Permanent || cause.Class == perID)
	switch {
	case len(rest) == 0:
		return nil
	case len(culprits) > 0:
		v := culprits[0].own
		if refused {
			v = *cause
		}
		v.Message, v.advice = partnerWords(culprits, dry)
		for _, id := range rest {
			st := infos[id].Status
			r.setAll(region, []string{id}, result.Failed, v, st, st)
		}
		return nil
	case refused:
		v := unblamed(*cause, len(ids))
		for _, id := range rest {
			st := infos[id].Status
			r.setAll(region, []string{id}, result.Failed, v, st, st)
		}
		return nil
	}
	return rest
}

// partnerWords are the Message and Advice of a partner of culprits: it was
// not started (or a real run would not start it) because it was to start all
// together with them, and what the operator can do.
func partnerWords(culprits []culprit, dry bool) (message, advice string) {
	const most = 5
	var named, ids []string
	for i, c := range culprits {
		if i == most {
			named = append(named, fmt.Sprintf("%d more", len(culprits)-most))
			break
		}
		named = append(named, c.id+", "+c.what)
		ids = append(ids, c.id)
	}
	lead := "not started"
	if dry {
		lead = "a real run would not start it"
	}
	message = lead + ": started all together with " + strings.Join(named, "; and ")
	advice = "remove " + strings.Join(ids, ", ") + " from the request, or start with SuccessFirst so that one instance's trouble does not hold back the others"
	return message, advice
}
