package handler

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// class is how the starter treats an ECS answer.
type class int

const (
	// permanent: ECS refused for good; the instances are Failed.
	permanent class = iota
	// transient: throttling, 5xx, network, a conflicting operation; retried with
	// backoff until the deadline, then Unfinished.
	transient
	// status: IncorrectInstanceStatus says too little; look the instances up.
	status
	// perID: a whole call refused because of one of its IDs; split the call.
	perID
	// dryRunPass: a dry run that a real run would pass.
	dryRunPass
)

// Codes this function sets itself.
const (
	CodeInvalidParameter   = "InvalidParameter"
	CodeNotAllowed         = "Forbidden.NotAllowed"
	CodeTooManyInstances   = "TooManyInstances"
	CodeMissingCredentials = "MissingCredentials"
	CodeDeadlineExceeded   = "DeadlineExceeded"
	CodeNetworkError       = "NetworkError"
	CodeNotFound           = "InvalidInstanceId.NotFound"
	CodeLockedForSecurity  = "InstanceLockedForSecurity"
	CodeIncorrectStatus    = "IncorrectInstanceStatus"
	// CodeInvalidRegionID: the region has no ECS endpoint (its host does not
	// resolve) or is malformed (DESIGN §7).
	CodeInvalidRegionID = "InvalidRegionId"
	// CodeClientError: the SDK client could not be built.
	CodeClientError = "SDK.ClientError"
	// CodeMissingInstanceResponse: ECS's answer left out an instance it
	// was asked to start (DESIGN §7); transient.
	CodeMissingInstanceResponse = "MissingInstanceResponse"
	// CodeWaitTimeout: a started instance was not Running when the wait's
	// duration or the deadline came (DESIGN §3.1); safe to retry.
	CodeWaitTimeout = "WaitTimeout"
	// CodeTooManyPages: a tag selection's DescribeInstances kept answering
	// pages past the most a selection within MAX_INSTANCES needs (DESIGN
	// §3.1); nothing of it starts, and a retry may read fewer.
	CodeTooManyPages = "TooManyPages"
	codeSuccess      = "200"
)

// verdict is a classified ECS answer, with what the result reports of it.
type verdict struct {
	class     class
	code      string
	message   string
	requestID string
	// advice, when set, replaces adviceFor(code): an STS code says
	// something else than the same code from ECS.
	advice string
	// inFlight: a retry after this answer was cut off by the deadline.
	inFlight bool
}

// adviceText is what the operator can do about v.
func (v verdict) adviceText() string {
	if v.advice != "" {
		return v.advice
	}
	return adviceFor(v.code)
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
func notSentVerdict(why string) verdict {
	msg := "the invocation's deadline came before the call was sent"
	if why != "" {
		msg += " (" + why + ")"
	}
	return verdict{class: transient, code: CodeDeadlineExceeded, message: msg + "; it was not sent, safe to retry"}
}

// classify turns an error of the ECS interface into a verdict.
func classify(err error) verdict {
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
		v.message = "STS AssumeRole " + ar.role + " failed: " + v.message
		if v.class == permanent {
			v.advice = adviceAssumeRole
		}
		return v
	}
	return classifyCall(err)
}

// classifyCall classifies the error of one call.
func classifyCall(err error) verdict {
	var api *APIError
	if errors.As(err, &api) {
		v := verdict{code: api.Code, message: api.Message, requestID: api.RequestID}
		v.class = classOfCode(api.Code)
		if v.class == permanent && api.HTTPStatus >= http.StatusInternalServerError {
			// An unknown code is retried when ECS answered 5xx (DESIGN §7).
			v.class = transient
		}
		return v
	}
	var pe *PermanentError
	if errors.As(err, &pe) {
		return verdict{class: permanent, code: pe.Code, message: pe.Error()}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// The call was out (a call the deadline kept from being sent is a
		// notSentError): ECS may have carried it out.
		return verdict{class: transient, code: CodeDeadlineExceeded,
			message: "the invocation's deadline came before ECS answered; the start may or may not have happened, and is safe to retry"}
	}
	var ne *NetworkError
	if errors.As(err, &ne) {
		return verdict{class: transient, code: CodeNetworkError, message: ne.Error()}
	}
	return verdict{class: transient, code: CodeNetworkError, message: "ECS call failed: " + redactMessage(err.Error())}
}

// redactMessage keeps only the first line of an unexpected error's text: the SDK's
// errors put signed URLs on later lines or after a colon, and the ECS adapter has
// already removed what it knows; this is the last fence.
func redactMessage(s string) string {
	for _, marker := range []string{"Signature=", "SecurityToken=", "AccessKeyId=", "http://", "https://"} {
		if i := strings.Index(s, marker); i >= 0 {
			s = s[:i] + "[redacted]"
		}
	}
	return s
}

// classOfCode classifies an ECS error code, as an answer to a whole call or as
// the Code of one InstanceResponse.
func classOfCode(code string) class {
	switch {
	case code == "DryRunOperation" || strings.EqualFold(code, "DRYRUN.SUCCESS"):
		return dryRunPass
	case strings.HasPrefix(code, "Throttling"),
		code == "ServiceUnavailable", code == "InternalError", code == "UnknownError",
		strings.HasPrefix(code, "InstanceNotReady"), strings.HasPrefix(code, "OperationConflict"),
		code == "LastTokenProcessing", code == "IdempotentProcessing", code == CodeMissingInstanceResponse:
		return transient
	case strings.HasPrefix(code, CodeIncorrectStatus) && !strings.Contains(code, "NoSystemDisk"):
		return status
	case code == "InvalidInstanceIds.NotFound", code == "Abs.InvalidInstanceIds.MalFormed",
		code == "InvalidInstanceId.MalFormed", code == CodeNotFound, code == "InvalidInstanceIds.MalFormed":
		return perID
	}
	return permanent
}

// adviceFor says what an operator can do about a failure (the seed's error table).
func adviceFor(code string) string {
	switch {
	case code == CodeInvalidRegionID:
		return "check the region ID: no ECS endpoint exists for it (a typo, or a region that does not exist); with ECS_ENDPOINT set, check that its host exists for this region"
	case code == CodeNotFound || code == "InvalidInstanceIds.NotFound" || strings.Contains(code, "MalFormed"):
		return "check the instance ID and that it lives in this region"
	case strings.Contains(code, "InsufficientBalance") || strings.Contains(code, "Arrearage") || strings.Contains(code, "financial"):
		return "add funds to the account, then start the instance again"
	case strings.Contains(code, "NoStock") || strings.Contains(code, "ResourceNotAvailable") || strings.Contains(code, "Zone"):
		return "the zone has no stock for this instance type: try again later, or change the instance type or zone"
	case strings.Contains(code, "KMS") || strings.Contains(code, "CMK"):
		return "enable the KMS key that encrypts the instance's disks, then start it again"
	case strings.Contains(code, "NoSystemDisk") || strings.Contains(code, "SystemDisk"):
		return "attach a system disk to the instance, then start it again"
	case code == CodeLockedForSecurity || strings.Contains(code, "Locked"):
		return "the instance is locked and every operation on it is prohibited: wait until the lock's reason is resolved (see OperationLocks; contact support for a security lock)"
	case code == CodeMissingCredentials:
		return "attach a RAM role with ecs:StartInstances, ecs:DescribeInstances and ecs:DescribeInstanceStatus to the function (s.yaml role)"
	case strings.HasPrefix(code, "Forbidden") || strings.HasPrefix(code, "NoPermission"):
		return "grant the function's role ecs:StartInstances, ecs:DescribeInstances and ecs:DescribeInstanceStatus on this instance (see ram/policy.json)"
	case strings.HasPrefix(code, "InvalidSecurityToken") || strings.HasPrefix(code, "InvalidAccessKeyId") || code == "SignatureDoesNotMatch":
		return "the credentials were refused: check the function's role, or the ALIBABA_CLOUD_* variables outside FC"
	case strings.HasPrefix(code, CodeIncorrectStatus):
		return "the instance is in a state that cannot be started; check its status in the console"
	}
	return ""
}
