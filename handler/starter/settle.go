package starter

import (
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
)

// lockedForSecurity is the message of an instance a security lock keeps
// from starting (DESIGN §7).
const lockedForSecurity = "the instance is locked for security (OperationLocks: security); all operations on it are prohibited"

// securityLock is the verdict on an instance a lookup found locked for
// security: Failed, never retried.
func securityLock(requestID string) Verdict {
	return Verdict{Class: Permanent, Code: result.CodeLockedForSecurity, Message: lockedForSecurity, RequestID: requestID}
}

// Settled says what a DescribeInstances answer alone decides of an
// instance it found, with no StartInstances call — the one place of the
// rule, for the starter's lookups and the tag checks before them (DESIGN
// §7): a security lock is Failed (every operation on it is prohibited),
// and else Running or Starting is AlreadyRunning, with nothing to do (of a
// dry run: a real run would do nothing). ok is false for an instance still
// to start (Stopped, or Stopping and Pending to wait out). The result has
// no InstanceID nor RegionID: the caller knows them.
func Settled(info ecsapi.InstanceInfo, requestID string, dry bool) (ir result.InstanceResult, ok bool) {
	switch {
	case HasLock(info, "security"):
		v := securityLock(requestID)
		return result.InstanceResult{Outcome: result.Failed, Code: v.Code, Message: v.Message, EcsRequestID: requestID,
			PreviousStatus: info.Status, CurrentStatus: info.Status, Advice: v.AdviceText()}, true
	case info.Status == "Running" || info.Status == "Starting":
		nothing := "nothing to do"
		if dry {
			nothing = "a real run would do nothing"
		}
		return result.InstanceResult{Outcome: result.AlreadyRunning, Code: result.CodeSuccess, EcsRequestID: requestID,
			Message: "the instance is already " + info.Status + ": " + nothing, PreviousStatus: info.Status, CurrentStatus: info.Status}, true
	}
	return result.InstanceResult{}, false
}
