package result

import (
	"slices"
	"strings"
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

	// CodeNoStock is ECS's refusal to start an instance stopped in
	// economical mode whose zone is out of stock: capacity comes back, so it
	// is retried until the deadline and then Unfinished, with its advice.
	CodeNoStock = "OperationDenied.NoStock"
	// CodePrivatePoolNoStock: the private pool (elastic assurance,
	// capacity reservation) the instance starts in is used up;
	// CodeCapacityReservationLacks: its capacity reservation has not
	// enough resource. Capacity, like CodeNoStock: retried, then
	// Unfinished with its advice.
	CodePrivatePoolNoStock       = "Invalid.PrivatePoolOptions.NoStock"
	CodeCapacityReservationLacks = "LackResource"
	// CodeHostRepairing is ECS's refusal to start an instance whose
	// physical host is being repaired (StartInstances' and StartInstance's
	// error tables): the repair ends, so it is transient — retried within
	// the deadline, then Unfinished with its advice.
	CodeHostRepairing = "OperationDenied.HostRepairing"
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

// CodeInvalidSchedule is an instance whose schedule tag holds no schedule
// (DESIGN §3.2): Rejected in every tick, its Message quoting the value and
// saying what is wrong.
const CodeInvalidSchedule = "InvalidSchedule"

// CodeInstanceLocked is an instance whose OperationLocks hold a reason other
// than security (financial, recycling, …): ECS refuses to start it until the
// lock is lifted.
const CodeInstanceLocked = "InstanceLocked"

// Advice says what an operator can do about a failure (the seed's error
// table): the advice of the first row of adviceTable whose code matches.
func Advice(code string) string {
	for _, row := range adviceTable {
		if row.matches(code) {
			return row.advice
		}
	}
	return ""
}

// adviceRow matches a code that is one of is, contains one of contains, or
// starts with one of prefix.
type adviceRow struct {
	is, contains, prefix []string
	advice               string
}

func (r adviceRow) matches(code string) bool {
	return slices.Contains(r.is, code) ||
		slices.ContainsFunc(r.contains, func(s string) bool { return strings.Contains(code, s) }) ||
		slices.ContainsFunc(r.prefix, func(s string) bool { return strings.HasPrefix(code, s) })
}

// adviceTable is read in order: the first row that matches wins.
var adviceTable = []adviceRow{
	{is: []string{CodeInvalidSchedule},
		advice: "fix the instance's schedule tag: HH:MM[,HH:MM…] [daily|workdays|MON-FRI…] [Area/Location zone], a name defined in SCHEDULES, or off"},
	{is: []string{CodeInvalidRegionID},
		advice: "check the region ID: no ECS endpoint exists for it (a typo, or a region that does not exist); with ECS_ENDPOINT set, check that its host exists for this region"},
	{is: []string{CodeNotFound, "InvalidInstanceIds.NotFound"}, contains: []string{"MalFormed"},
		advice: "check the instance ID and that it lives in this region"},
	{contains: []string{"InsufficientBalance", "Arrearage", "financial"},
		advice: "add funds to the account, then start the instance again"},
	{is: []string{CodePrivatePoolNoStock, CodeCapacityReservationLacks},
		advice: "the private pool (elastic assurance or capacity reservation) the instance starts in is used up: try again later, once instances of the pool stop or are released, or enlarge the reservation or change the instance's private pool options"},
	{is: []string{CodeHostRepairing},
		advice: "the instance's physical host is being repaired by Alibaba Cloud: try again later, once the repair ends; if it lasts, see the instance's system events in the console or contact support"},
	{contains: []string{"NoStock", "ResourceNotAvailable", "Zone"},
		advice: "the zone has no stock for this instance type: try again later, or change the instance type or zone"},
	{contains: []string{"KMS", "CMK"},
		advice: "enable the KMS key that encrypts the instance's disks, then start it again"},
	{contains: []string{"NoSystemDisk", "SystemDisk"},
		advice: "attach a system disk to the instance, then start it again"},
	{is: []string{CodeLockedForSecurity}, contains: []string{"Locked"},
		advice: "the instance is locked and every operation on it is prohibited: wait until the lock's reason is resolved (see OperationLocks; contact support for a security lock)"},
	{is: []string{CodeMissingCredentials},
		advice: "attach a RAM role with ecs:StartInstances, ecs:DescribeInstances and ecs:DescribeInstanceStatus to the function (s.yaml role)"},
	{prefix: []string{"Forbidden", "NoPermission"},
		advice: "grant the function's role ecs:StartInstances, ecs:DescribeInstances and ecs:DescribeInstanceStatus on this instance (see ram/policy.json)"},
	{is: []string{"SignatureDoesNotMatch"}, prefix: []string{"InvalidSecurityToken", "InvalidAccessKeyId"},
		advice: "the credentials were refused: check the function's role, or the ALIBABA_CLOUD_* variables outside FC"},
	{prefix: []string{CodeIncorrectStatus},
		advice: "the instance is in a state that cannot be started; check its status in the console"},
}
