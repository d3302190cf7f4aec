package ecsemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
)

// Instance statuses as ECS spells them.
const (
	Pending  = "Pending"
	Running  = "Running"
	Starting = "Starting"
	Stopping = "Stopping"
	Stopped  = "Stopped"
)

// Instance is one instance of the emulated fleet, as loaded from JSON:
//
//	{"instanceId": "i-bp67acfmxazb4p0001", "regionId": "cn-hangzhou",
//	 "status": "Stopped", "stoppedMode": "KeepCharging",
//	 "tags": {"env": "prod"}, "lockReasons": ["security"],
//	 "startError": "InsufficientBalance", "startErrorTimes": 0}
type Instance struct {
	InstanceID string `json:"instanceId"`
	RegionID   string `json:"regionId"`
	// ZoneID is the instance's zone (e.g. "cn-hangzhou-h"); an instance
	// stopped in economical mode (StoppedMode StopCharging) in a zone that
	// Server.SellOut put out of stock cannot start until stock returns.
	ZoneID string `json:"zoneId,omitempty"`
	// Status is one of Pending, Running, Starting, Stopping, Stopped.
	Status string `json:"status"`
	// StoppedMode is ECS's KeepCharging, StopCharging or Not-applicable; empty
	// means KeepCharging for a Stopped instance and Not-applicable otherwise.
	StoppedMode string            `json:"stoppedMode,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	// LockReasons are the OperationLocks' LockReason values: "security" makes
	// a start fail with InstanceLockedForSecurity, any other reason (e.g.
	// "financial") with InstanceExpiredOrInArrears.
	LockReasons []string `json:"lockReasons,omitempty"`
	// StartError is an ECS error code that starting this Stopped instance
	// answers (InsufficientBalance, OperationDenied.NoStock,
	// InvalidParameter.KMSKeyId.CMKNotEnabled, InvalidInstance.NotFoundSystemDisk,
	// InstanceNotReady, ...). Known codes get ECS's HTTP status and message.
	StartError string `json:"startError,omitempty"`
	// StartErrorTimes limits StartError to that many start attempts, after
	// which the instance starts (a transient error); 0 means always.
	StartErrorTimes int `json:"startErrorTimes,omitempty"`
	// AccountID owns the instance: only credentials of that account (the
	// role assumed in it, see Role) see and start it. Empty: the home
	// account, whose credentials are Options.Credentials.
	AccountID string `json:"accountId,omitempty"`
}

// Fleet is the JSON document of a fleet: {"instances": [Instance, ...]}.
type Fleet struct {
	Instances []Instance `json:"instances"`
	// Roles are the roles of other accounts that STS AssumeRole hands
	// credentials of (see Role); New adds them to Options.Roles.
	Roles []Role `json:"roles,omitempty"`
}

var (
	// instanceIDPattern is what the emulator takes for a well-formed ID;
	// anything else in a StartInstances call is Abs.InvalidInstanceIds.MalFormed.
	instanceIDPattern = regexp.MustCompile(`^i-[0-9a-z]{1,40}$`)
	regionIDPattern   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// ParseFleet decodes and checks a fleet document. Unknown fields are errors, so
// that a misspelt "startEror" does not silently test nothing.
func ParseFleet(data []byte) (Fleet, error) {
	var f Fleet
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Fleet{}, fmt.Errorf("ecsemu: decode fleet: %w", err)
	}
	if err := f.Validate(); err != nil {
		return Fleet{}, err
	}
	return f, nil
}

// LoadFleet reads a fleet document from a file (see ParseFleet).
func LoadFleet(path string) (Fleet, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the operator names the fleet file; reading it is the point
	if err != nil {
		return Fleet{}, fmt.Errorf("ecsemu: %w", err)
	}
	return ParseFleet(data)
}

// Validate reports the first defect of the fleet: a malformed instance or
// region ID, an unknown status, or an ID listed twice.
func (f Fleet) Validate() error {
	seen := make(map[string]bool, len(f.Instances))
	for i, in := range f.Instances {
		if err := in.validate(); err != nil {
			return fmt.Errorf("ecsemu: fleet instance %d: %w", i, err)
		}
		if seen[in.InstanceID] {
			return fmt.Errorf("ecsemu: fleet instance %d: %s listed twice", i, in.InstanceID)
		}
		seen[in.InstanceID] = true
	}
	return nil
}

func (in Instance) validate() error {
	if !instanceIDPattern.MatchString(in.InstanceID) {
		return fmt.Errorf("malformed instanceId %q", in.InstanceID)
	}
	if !regionIDPattern.MatchString(in.RegionID) {
		return fmt.Errorf("%s: malformed regionId %q", in.InstanceID, in.RegionID)
	}
	switch in.Status {
	case Pending, Running, Starting, Stopping, Stopped:
	default:
		return fmt.Errorf("%s: unknown status %q", in.InstanceID, in.Status)
	}
	if in.StartErrorTimes < 0 {
		return fmt.Errorf("%s: negative startErrorTimes", in.InstanceID)
	}
	return nil
}

// clone copies in so that the caller's maps and slices are never shared with
// the server's state.
func (in Instance) clone() Instance {
	out := in
	if in.Tags != nil {
		out.Tags = make(map[string]string, len(in.Tags))
		for k, v := range in.Tags {
			out.Tags[k] = v
		}
	}
	out.LockReasons = append([]string(nil), in.LockReasons...)
	return out
}

func (in Instance) stoppedMode() string {
	if in.StoppedMode != "" {
		return in.StoppedMode
	}
	if in.Status == Stopped {
		return "KeepCharging"
	}
	return "Not-applicable"
}
