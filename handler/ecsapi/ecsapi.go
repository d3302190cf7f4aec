// Package ecsapi is the seam between the function and Alibaba Cloud: the
// ECS and STS interfaces the starter calls, their inputs, outputs and
// errors, the one Tag type, the scope of an instance (its region, and the
// role of another account), the batch modes and ECS's limits per call.
// Implementations live in handler/aliyun; test doubles in ecsapitest.
package ecsapi

import (
	"context"
	"fmt"
)

// Batch optimisations of StartInstances.
const (
	SuccessFirst = "SuccessFirst"
	AllTogether  = "AllTogether"
)

// MaxPerCall is ECS's limit of instance IDs in one StartInstances call.
const MaxPerCall = 100

// Credentials are those of the function's RAM role, taken from the invocation's FC
// context (or from the environment outside FC). They are never logged.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// Empty reports whether there are no usable credentials.
func (c Credentials) Empty() bool { return c.AccessKeyID == "" || c.AccessKeySecret == "" }

// ECS is what the starter needs of the ECS API (2014-05-26). Every call names its
// region and credentials, so that one implementation serves all invocations at once;
// an implementation must be safe for concurrent use. Errors are *APIError (ECS
// answered with an error), *NetworkError (no usable answer: retried) or
// *PermanentError (the call cannot succeed: not retried), and never contain a
// signature, a token or a signed URL.
type ECS interface {
	StartInstances(ctx context.Context, creds Credentials, in StartInstancesInput) (*StartInstancesOutput, error)
	DescribeInstances(ctx context.Context, creds Credentials, region string, ids []string) (*DescribeInstancesOutput, error)
	// DescribeInstancesByTags reads one page of the instances of a region
	// that carry every pair of tags (DescribeInstances with Tag.N.Key and
	// Tag.N.Value, MaxResults, NextToken); the output's NextToken names the
	// next page, empty after the last.
	DescribeInstancesByTags(ctx context.Context, creds Credentials, in DescribeByTagsInput) (*DescribeInstancesOutput, error)
	// DescribeInstanceStatus reads the status of ids (DescribeInstanceStatus,
	// the call a wait polls with: DESIGN §7), every page; the output's
	// instances carry InstanceID and Status only. IDs ECS does not know are
	// absent.
	DescribeInstanceStatus(ctx context.Context, creds Credentials, region string, ids []string) (*DescribeInstancesOutput, error)
}

// DescribeByTagsInput is one page of a tag selection (DESIGN §3.1).
type DescribeByTagsInput struct {
	RegionID string
	Tags     []Tag
	// NextToken is the page to read: empty for the first.
	NextToken string
}

// Tag is one tag filter: Key, and Value unless AnyValue (then every
// value of the key matches).
type Tag struct {
	Key      string
	Value    string
	AnyValue bool
}

// String renders the pair for messages: key=value, or key=* for any value.
func (t Tag) String() string {
	if t.AnyValue {
		return t.Key + "=*"
	}
	return t.Key + "=" + t.Value
}

// matches says whether an instance's tags carry the pair.
func (t Tag) matches(tags map[string]string) bool {
	v, ok := tags[t.Key]
	return ok && (t.AnyValue || v == t.Value)
}

// StartInstancesInput is one StartInstances call: 1 to 100 IDs in one region.
type StartInstancesInput struct {
	RegionID          string
	InstanceIDs       []string
	BatchOptimization string // "SuccessFirst" or "AllTogether"
	DryRun            bool
}

// StartInstancesOutput is ECS's answer to a call that succeeded (HTTP 2xx).
type StartInstancesOutput struct {
	RequestID string
	Responses []InstanceResponse
}

// InstanceResponse is one element of ECS's InstanceResponses.InstanceResponse.
type InstanceResponse struct {
	InstanceID     string
	Code           string // "200" on success, else an ECS error code
	Message        string
	PreviousStatus string
	CurrentStatus  string
}

// DescribeInstancesOutput lists the instances ECS found; IDs it does not know are
// absent.
type DescribeInstancesOutput struct {
	RequestID string
	Instances []InstanceInfo
	// NextToken is the next page of a tag selection, empty after the last.
	NextToken string
}

// InstanceInfo is what a DescribeInstances lookup tells about one instance.
type InstanceInfo struct {
	InstanceID  string
	RegionID    string
	Status      string // Pending, Running, Starting, Stopping, Stopped
	StoppedMode string // KeepCharging, StopCharging, Not-applicable
	// LockReasons are the OperationLocks' LockReason values (e.g. "security",
	// "financial").
	LockReasons []string
	Tags        map[string]string
}

// APIError is an error answer of the ECS API.
type APIError struct {
	HTTPStatus int
	Code       string
	Message    string
	RequestID  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("ECS %s (HTTP %d, RequestId %s): %s", e.Code, e.HTTPStatus, e.RequestID, e.Message)
}

// NetworkError is a call that got no answer: connection refused or reset, a
// timeout, a cancelled context. Err holds the cause without the request's URL.
type NetworkError struct {
	Op   string // "StartInstances", "DescribeInstances" or "DescribeInstanceStatus"
	Host string
	Err  error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("%s to %s: %v", e.Op, e.Host, e.Err)
}

func (e *NetworkError) Unwrap() error { return e.Err }

// UnparsableAnswerError is an answer that is not ECS's: a proxy's page, a
// truncated body. It is described by its status and size, never quoted: its
// text could hold anything (DESIGN §7).
type UnparsableAnswerError struct {
	HTTPStatus int
	Size       int64
}

func (e *UnparsableAnswerError) Error() string {
	return fmt.Sprintf("ECS's answer (HTTP %d, %d bytes) does not parse", e.HTTPStatus, e.Size)
}

// PermanentError is a call that cannot succeed as asked and is not retried:
// a region whose ECS host does not exist, a malformed region, an SDK client
// that cannot be built. Code is what the result reports.
type PermanentError struct {
	Op   string
	Host string
	Code string
	Err  error
}

func (e *PermanentError) Error() string {
	return fmt.Sprintf("%s to %s: %v", e.Op, e.Host, e.Err)
}

func (e *PermanentError) Unwrap() error { return e.Err }
