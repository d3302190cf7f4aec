// Package result is the answer of an invocation (DESIGN §5): one Outcome
// per instance, the Ignored events, the Summary, the codes this function
// sets and the advice that goes with a code.
package result

import (
	"encoding/xml"
)

// Outcome is what became of one instance (DESIGN §5).
type Outcome string

// The outcomes of DESIGN §5. Every instance named by an invocation gets exactly one.
const (
	Started        Outcome = "Started"
	AlreadyRunning Outcome = "AlreadyRunning"
	DryRunPassed   Outcome = "DryRunPassed"
	Rejected       Outcome = "Rejected"
	Failed         Outcome = "Failed"
	Unfinished     Outcome = "Unfinished"
	Skipped        Outcome = "Skipped"
)

// InstanceResult is one element of InstanceResponses.InstanceResponse: ECS's own
// fields, extended with the outcome, the region and what to do about a failure.
type InstanceResult struct {
	InstanceID     string  `json:"InstanceId" xml:"InstanceId"`
	RegionID       string  `json:"RegionId" xml:"RegionId"`
	Code           string  `json:"Code" xml:"Code"`
	Message        string  `json:"Message" xml:"Message"`
	PreviousStatus string  `json:"PreviousStatus" xml:"PreviousStatus"`
	CurrentStatus  string  `json:"CurrentStatus" xml:"CurrentStatus"`
	Outcome        Outcome `json:"Outcome" xml:"Outcome"`
	Retryable      bool    `json:"Retryable" xml:"Retryable"`
	EcsRequestID   string  `json:"EcsRequestId" xml:"EcsRequestId"`
	Advice         string  `json:"Advice,omitempty" xml:"Advice,omitempty"`
	// AccountID is the account of an instance reached through roleArn
	// (DESIGN §3.1); empty for the function's own.
	AccountID string `json:"AccountId,omitempty" xml:"AccountId,omitempty"`
	// ScheduledAt is, for an instance a schedule request found due, the
	// start time that made it due (RFC 3339 in its schedule's zone; DESIGN
	// §3.2); empty otherwise.
	ScheduledAt string `json:"ScheduledAt,omitempty" xml:"ScheduledAt,omitempty"`
	// Mistake marks a refusal that is an operator mistake (DESIGN §9): its
	// line is at ERROR with mistake true, and Summary.Mistakes counts it.
	Mistake bool `json:"-" xml:"-"`
}

// Summary counts the instance results by outcome, and the ignored events.
type Summary struct {
	Requested      int `json:"Requested" xml:"Requested"`
	Started        int `json:"Started" xml:"Started"`
	AlreadyRunning int `json:"AlreadyRunning" xml:"AlreadyRunning"`
	DryRunPassed   int `json:"DryRunPassed" xml:"DryRunPassed"`
	Rejected       int `json:"Rejected" xml:"Rejected"`
	Failed         int `json:"Failed" xml:"Failed"`
	Unfinished     int `json:"Unfinished" xml:"Unfinished"`
	Skipped        int `json:"Skipped" xml:"Skipped"`
	Ignored        int `json:"Ignored" xml:"Ignored"`
	// Mistakes counts the instance results and Ignored entries that are
	// operator mistakes (DESIGN §9).
	Mistakes int `json:"Mistakes" xml:"Mistakes"`
	// Scheduled counts the instances a schedule request found carrying its
	// tag key, Due those of them due in the tick (DESIGN §3.2); instances
	// not due are not listed. Absent from an answer without a schedule.
	Scheduled int `json:"Scheduled,omitempty" xml:"Scheduled,omitempty"`
	Due       int `json:"Due,omitempty" xml:"Due,omitempty"`
}

// IgnoredEvent is an event or message that named nothing to start, or whose
// request was not carried out (expired, no restart tag, refused whole);
// InstanceIds lists the instances it named, if any, so that none goes missing
// from the report: at most a few, with InstanceCount saying how many there
// were when there are more (DESIGN §4: the answer stays bounded). Code is set
// when the event was refused rather than news to skip (InvalidParameter,
// TooManyInstances, DeadlineExceeded); such entries are logged at WARN.
type IgnoredEvent struct {
	Source        string   `json:"Source"`
	Reason        string   `json:"Reason"`
	Code          string   `json:"Code,omitempty"`
	InstanceIDs   []string `json:"InstanceIds,omitempty"`
	InstanceCount int      `json:"InstanceCount,omitempty"`
	// Trigger is the carrier of the event, for the log line.
	Trigger string `json:"-"`
	// Mistake marks an operator mistake (DESIGN §9): logged at ERROR with
	// mistake true, counted in Summary.Mistakes.
	Mistake bool `json:"-"`
}

// MarshalXML leaves InstanceIds out when there are none (encoding/xml writes
// an empty parent element for an empty "a>b" list).
func (e IgnoredEvent) MarshalXML(enc *xml.Encoder, start xml.StartElement) error {
	type ids struct {
		ID []string `xml:"InstanceId"`
	}
	v := struct {
		Source        string `xml:"Source"`
		Reason        string `xml:"Reason"`
		Code          string `xml:"Code,omitempty"`
		InstanceIDs   *ids   `xml:"InstanceIds,omitempty"`
		InstanceCount int    `xml:"InstanceCount,omitempty"`
	}{Source: e.Source, Reason: e.Reason, Code: e.Code, InstanceCount: e.InstanceCount}
	if len(e.InstanceIDs) > 0 {
		v.InstanceIDs = &ids{ID: e.InstanceIDs}
	}
	return enc.EncodeElement(v, start)
}

// Result is the answer of an invocation: the StartInstances response shape,
// extended (DESIGN §5).
type Result struct {
	XMLName           xml.Name          `json:"-" xml:"StartInstancesResponse"`
	RequestID         string            `json:"RequestId" xml:"RequestId"`
	DryRun            bool              `json:"DryRun" xml:"DryRun"`
	InstanceResponses InstanceResponses `json:"InstanceResponses" xml:"InstanceResponses"`
	Summary           Summary           `json:"Summary" xml:"Summary"`
	Ignored           []IgnoredEvent    `json:"Ignored" xml:"Ignored>Event"`
	// Preview is the answer of a schedule request with preview (DESIGN
	// §3.2): what its schedules will start, nothing started; nil otherwise.
	Preview *Preview `json:"Preview,omitempty" xml:"Preview,omitempty"`

	// unresolved describes the tag selections whose lookup did not finish
	// (DESIGN §3.1): no instance stands for them, yet the invocation is
	// unfinished and safe to retry.
	Unresolved []string `json:"-" xml:"-"`
	// MidnightTick says a schedule tick's window (T − every, T] held 00:00
	// UTC: an instance Rejected only for InvalidSchedule is then a problem
	// to notify (DESIGN §9), once a day.
	MidnightTick bool `json:"-" xml:"-"`
}

// Unfinished says whether the invocation left work undone that a retry can
// do: an Unfinished instance, or a tag selection not read to its end.
func (r *Result) Unfinished() bool { return r.Summary.Unfinished > 0 || len(r.Unresolved) > 0 }

// InstanceResponses wraps the list as ECS does.
type InstanceResponses struct {
	InstanceResponse []InstanceResult `json:"InstanceResponse" xml:"InstanceResponse"`
}

// Summarize counts r's results into r.Summary. Scheduled and Due, counts
// of instances a schedule lookup read rather than of entries, are kept.
func (r *Result) Summarize() {
	s := Summary{Requested: len(r.InstanceResponses.InstanceResponse), Ignored: len(r.Ignored),
		Scheduled: r.Summary.Scheduled, Due: r.Summary.Due}
	for _, ig := range r.Ignored {
		if ig.Mistake {
			s.Mistakes++
		}
	}
	for _, ir := range r.InstanceResponses.InstanceResponse {
		if ir.Mistake {
			s.Mistakes++
		}
		switch ir.Outcome {
		case Started:
			s.Started++
		case AlreadyRunning:
			s.AlreadyRunning++
		case DryRunPassed:
			s.DryRunPassed++
		case Rejected:
			s.Rejected++
		case Failed:
			s.Failed++
		case Unfinished:
			s.Unfinished++
		case Skipped:
			s.Skipped++
		}
	}
	r.Summary = s
}

// RefusedIgnored says whether an Ignored entry stands for instances that were
// refused (too many, an invalid request): for an HTTP caller, not all is well.
func (r *Result) RefusedIgnored() bool {
	for _, ig := range r.Ignored {
		if ig.Code != "" {
			return true
		}
	}
	return false
}

// Preview lists what a schedule request's schedules will start in a
// period (DESIGN §3.2): for every instance carrying the tag key, its next
// start times, or why its value is invalid. Nothing is started.
type Preview struct {
	// From is the moment the period starts (RFC 3339), Period as sent
	// ("7d").
	From      string            `json:"From" xml:"From"`
	Period    string            `json:"Period" xml:"Period"`
	Instances []PreviewInstance `json:"Instances" xml:"Instances>Instance"`
}

// PreviewInstance is one instance of a Preview.
type PreviewInstance struct {
	InstanceID string `json:"InstanceId" xml:"InstanceId"`
	RegionID   string `json:"RegionId" xml:"RegionId"`
	AccountID  string `json:"AccountId,omitempty" xml:"AccountId,omitempty"`
	// Schedule is the tag's value as written on the instance.
	Schedule string `json:"Schedule" xml:"Schedule"`
	// Starts are its start times in the period, at most MaxPreviewStarts,
	// RFC 3339 with the schedule zone's offset; empty for off, or a
	// schedule with no start in the period.
	Starts []string `json:"Starts" xml:"Starts>Start"`
	// Code is InvalidSchedule for a value that is no schedule, Message
	// then quoting it and saying why; for off (or a SCHEDULES name defined
	// as off) Message alone says so; both empty otherwise.
	Code    string `json:"Code,omitempty" xml:"Code,omitempty"`
	Message string `json:"Message,omitempty" xml:"Message,omitempty"`
}

// MaxPreviewStarts bounds the start times a Preview lists per instance.
const MaxPreviewStarts = 50
