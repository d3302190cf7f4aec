package starter

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
)

// Class is how the starter treats an ECS answer.
type Class int

const (
	// Permanent means ECS refused for good: the instances are Failed.
	Permanent Class = iota
	// transient: throttling, 5xx, network, a conflicting operation; retried with
	// backoff until the deadline, then Unfinished.
	transient
	// status: IncorrectInstanceStatus says too little; look the instances up.
	status
	// perID: a whole call refused because of one of its IDs; split the call.
	perID
	// dryRunPass: a dry run that a real run would pass.
	dryRunPass
	// noStock: capacity is used up — the zone is out of stock for the
	// instance (stopped in economical mode), or the private pool or
	// capacity reservation it starts in is full (capacityCodes); capacity
	// comes back, so it is retried with backoff bounded by the deadline
	// alone, then Unfinished with its advice.
	noStock
)

// Verdict is a classified ECS answer, with what the result reports of it.
type Verdict struct {
	Class     Class
	Code      string
	Message   string
	RequestID string
	// advice, when set, replaces adviceFor(code): an STS code says
	// something else than the same code from ECS.
	advice string
	// inFlight: a retry after this answer was cut off by the deadline.
	inFlight bool
}

// AdviceText is what the operator can do about v.
func (v Verdict) AdviceText() string {
	if v.advice != "" {
		return v.advice
	}
	return result.Advice(v.Code)
}

// notSentError is a call the deadline kept from being sent: it waited for
// a place among the calls in flight, its turn in ECS's pace, or its role's
// credentials (DESIGN §5, the deadline). Its instances are Unfinished and
// say they were not sent: only a call that was out may have taken effect.
type notSentError struct {
	why string // what the call was waiting for when the deadline came
	err error  // the context's error
}

func (e *notSentError) Error() string { return "not sent: " + e.why + ": " + e.err.Error() }

func (e *notSentError) Unwrap() error { return e.err }

// notSentVerdict is the verdict of work the deadline kept from being sent;
// why says what it waited for, "" when no call was tried.
func notSentVerdict(why string) Verdict {
	msg := "the invocation's deadline came before the call was sent"
	if why != "" {
		msg += " (" + why + ")"
	}
	return Verdict{Class: transient, Code: result.CodeDeadlineExceeded, Message: msg + "; it was not sent, safe to retry"}
}

// classify turns an error of the ECS interface into a verdict.
func classify(err error) Verdict {
	var ns *notSentError
	if errors.As(err, &ns) {
		return notSentVerdict(ns.why)
	}
	var ar *assumeRoleError
	if errors.As(err, &ar) {
		if isContextError(ar.err) {
			// The ECS call waited for the role's credentials: never sent.
			return notSentVerdict("STS AssumeRole " + ar.role + " had not answered")
		}
		v := classifyCall(ar.err)
		v.Message = "STS AssumeRole " + ar.role + " failed: " + v.Message
		if v.Class == Permanent {
			v.advice = adviceAssumeRole
		}
		return v
	}
	return classifyCall(err)
}

// classifyCall classifies the error of one call.
func classifyCall(err error) Verdict {
	var api *ecsapi.APIError
	if errors.As(err, &api) {
		v := Verdict{Code: api.Code, Message: api.Message, RequestID: api.RequestID}
		v.Class = classOfCode(api.Code)
		if v.Class == Permanent && api.HTTPStatus >= http.StatusInternalServerError {
			// An unknown code is retried when ECS answered 5xx (DESIGN §7).
			v.Class = transient
		}
		return v
	}
	var pe *ecsapi.PermanentError
	if errors.As(err, &pe) {
		return Verdict{Class: Permanent, Code: pe.Code, Message: pe.Error()}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// The call was out (a call the deadline kept from being sent is a
		// notSentError): ECS may have carried it out.
		return Verdict{Class: transient, Code: result.CodeDeadlineExceeded,
			Message: "the invocation's deadline came before ECS answered; the start may or may not have happened, and is safe to retry"}
	}
	var ne *ecsapi.NetworkError
	if errors.As(err, &ne) {
		return Verdict{Class: transient, Code: result.CodeNetworkError, Message: ne.Error()}
	}
	return Verdict{Class: transient, Code: result.CodeNetworkError, Message: "ECS call failed: " + ecsapi.RedactSecrets(err.Error())}
}

// capacityCodes are the ECS codes whose documented meaning is capacity
// used up that comes back as other instances stop or are released (DESIGN
// §9): StartInstances' OperationDenied.NoStock (the zone is sold out for
// the type) and Invalid.PrivatePoolOptions.NoStock (the private pool —
// elastic assurance, capacity reservation — is used up), and
// StartInstance's LackResource (not enough resource on the capacity
// reservation). A quota (QuotaExceed.*), a zone not on sale
// (Zone.NotOnSale) or the operator's own dedicated host being full
// (InvalidDedicatedHost.NotEnoughResource) waits for the operator, not for
// time: those stay refusals for good.
var capacityCodes = map[string]bool{
	result.CodeNoStock:                  true,
	result.CodePrivatePoolNoStock:       true,
	result.CodeCapacityReservationLacks: true,
}

// classOfCode classifies an ECS error code, as an answer to a whole call or as
// the Code of one InstanceResponse.
func classOfCode(code string) Class {
	switch {
	case code == "DryRunOperation" || strings.EqualFold(code, "DRYRUN.SUCCESS"):
		return dryRunPass
	case capacityCodes[code]:
		return noStock
	case strings.HasPrefix(code, "Throttling"),
		code == "ServiceUnavailable", code == "InternalError", code == "UnknownError",
		strings.HasPrefix(code, "InstanceNotReady"), strings.HasPrefix(code, "OperationConflict"),
		code == "InvalidOperation.Conflict", // StartInstances' own spelling: "please try again later"
		code == "LastTokenProcessing", code == "IdempotentProcessing", code == result.CodeMissingInstanceResponse,
		// The host is being repaired: a state that ends, not a refusal for
		// good (ECS: "the operation is not supported while the physical
		// machine that hosts the ECS instance is being repaired").
		code == result.CodeHostRepairing:
		return transient
	case strings.HasPrefix(code, result.CodeIncorrectStatus) && !strings.Contains(code, "NoSystemDisk"):
		return status
	case code == "InvalidInstanceIds.NotFound", code == "Abs.InvalidInstanceIds.MalFormed",
		code == "InvalidInstanceId.MalFormed", code == result.CodeNotFound, code == "InvalidInstanceIds.MalFormed":
		return perID
	}
	return Permanent
}
