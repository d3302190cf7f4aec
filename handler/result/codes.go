package result

import "strings"

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
	// CodeSuccess is the Code of an instance ECS started, or found
	// running.
	CodeSuccess = "200"
)

// CodeSequenceStopped is the Code of an instance Skipped because an earlier
// group of its sequence failed (DESIGN §3.1, §5).
const CodeSequenceStopped = "SequenceStopped"

// CodeInstanceLocked is an instance whose OperationLocks hold a reason other
// than security (financial, recycling, …): ECS refuses to start it until the
// lock is lifted.
const CodeInstanceLocked = "InstanceLocked"

// Advice says what an operator can do about a failure (the seed's error table).
func Advice(code string) string {
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
