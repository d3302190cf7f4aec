package plan

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/handler/schedule"
)

// This file holds the schedule request of DESIGN §3.2 as far as it is a pure
// function of its inputs: its validation, and what a tick makes of the
// instances found carrying the tag key (due, not due, off, invalid) or what
// a preview lists. The plan's side of the tick — a pending selection by the
// tag key alone, its instances judged on what the lookup found — is in
// schedtick.go.

// DefaultScheduleTagKey is the tag key of a schedule request when neither
// the request nor SCHEDULE_TAG_KEY names one (DESIGN §3.2).
const DefaultScheduleTagKey = "start-schedule"

// DefaultMaxScheduled is MAX_SCHEDULED's default: the most instances one
// schedule lookup reads (DESIGN §3.2, §6).
const DefaultMaxScheduled = 100000

// ScheduledPages is the most DescribeInstances pages a schedule lookup
// reads: ⌈maxScheduled / 100⌉ + 2, as a tag selection's bound (DESIGN §3.2).
func ScheduledPages(maxScheduled int) int {
	return (maxScheduled+ecsapi.MaxPerCall-1)/ecsapi.MaxPerCall + 2
}

// The bounds of preview (DESIGN §3.2).
const (
	MinPreview = time.Hour
	MaxPreview = 31 * 24 * time.Hour
)

// ParseEvery reads a schedule's every: a duration of whole minutes, 1m to
// 24h (DESIGN §3.2).
func ParseEvery(s string) (time.Duration, bool) {
	d, err := time.ParseDuration(s)
	if err != nil || d < schedule.MinEvery || d > schedule.MaxEvery || d%time.Minute != 0 {
		return 0, false
	}
	return d, true
}

// ParsePreview reads a preview's period: whole days ("7d") or a duration
// ("36h", "90m"), 1h to 31d (DESIGN §3.2).
func ParsePreview(s string) (time.Duration, bool) {
	var d time.Duration
	if n, found := strings.CutSuffix(s, "d"); found {
		days, err := strconv.Atoi(n)
		if err != nil || strconv.Itoa(days) != n || days < 0 || days > 31 {
			return 0, false
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, false
		}
	}
	return d, d >= MinPreview && d <= MaxPreview
}

// validateSchedule checks schedule, preview and workDates (DESIGN §3.2):
// schedule never beside instanceIds, tags or sequence; every 1m to 24h in
// whole minutes (required, save for a preview); tagKey a valid ECS tag key;
// preview 1h to 31d, only beside schedule (or beside targets, whose
// schedules inherit it); workDates like skipDates, each a Saturday or a
// Sunday. Errors name the field as spelled and quote the value.
func validateSchedule(req events.StartRequest, decodeErrs bool) []events.FieldError {
	var out []events.FieldError
	if s := req.Schedule; s != nil {
		for _, f := range []struct {
			name string
			set  bool
		}{{"instanceIds", len(req.InstanceIDs) > 0}, {"tags", req.Tags != nil}, {"sequence", req.Sequence != nil}} {
			if f.set {
				out = append(out, events.FieldError{Field: req.FieldName(f.name),
					Message: "cannot stand beside schedule: a schedule selects the instances that carry its tag key"})
			}
		}
		switch {
		case s.EveryField != "":
			if _, ok := ParseEvery(s.Every); !ok {
				out = append(out, events.FieldError{Field: s.EveryField,
					Message: fmt.Sprintf("%s is not the timer's period: whole minutes, 1m to 24h, like \"5m\"", Quote(s.Every))})
			}
		case req.Preview == "":
			out = append(out, events.FieldError{Field: req.FieldName("schedule") + "." + schedulePart(req, "every"),
				Message: "is required: the period of the timer that sends the request, 1m to 24h, like \"5m\""})
		}
		if s.TagKeySet {
			if why := TagKeyProblem(s.TagKey); why != "" {
				out = append(out, events.FieldError{Field: s.TagKeyField, Message: why})
			}
		}
	}
	if req.Preview != "" {
		if req.Schedule == nil && req.Targets == nil {
			out = append(out, events.FieldError{Field: req.FieldName("preview"),
				Message: "stands only beside schedule: it previews what a schedule will start"})
		}
		if _, ok := ParsePreview(req.Preview); !ok {
			out = append(out, events.FieldError{Field: req.FieldName("preview"),
				Message: fmt.Sprintf("%s is not a period of 1h to 31d, like \"7d\" or \"12h\"", Quote(req.Preview))})
		}
	}
	return append(out, validateWorkDates(req, decodeErrs)...)
}

// schedulePart spells a part of the schedule object as the request spells
// the object: every in schedule, Every in Schedule.
func schedulePart(req events.StartRequest, part string) string {
	if req.FieldName("schedule") == "Schedule" {
		return strings.ToUpper(part[:1]) + part[1:]
	}
	return part
}

// TagKeyProblem says what makes key no ECS tag key (DESIGN §3.1's rules),
// "" when it is one.
func TagKeyProblem(key string) string {
	n := len([]rune(key))
	switch {
	case n == 0:
		return "is empty: a tag key is 1 to 128 characters (leave tagKey out for SCHEDULE_TAG_KEY, else start-schedule)"
	case n > maxTagKeyLen:
		return fmt.Sprintf("has %d characters: a tag key is at most %d", n, maxTagKeyLen)
	case strings.HasPrefix(key, "aliyun") || strings.HasPrefix(key, "acs:"):
		return fmt.Sprintf("%s starts with aliyun or acs:, which ECS keeps for its own tags", Quote(key))
	}
	return ""
}

// validateWorkDates checks workDates: only beside schedule (or targets,
// whose schedules inherit it); 1 to 400 dates like 2027-02-20, each a
// Saturday or a Sunday (a weekday works already: it is a typo).
func validateWorkDates(req events.StartRequest, decodeErrs bool) []events.FieldError {
	if req.WorkDates == nil {
		return nil
	}
	var out []events.FieldError
	name := req.FieldName("workDates")
	if req.Schedule == nil && req.Targets == nil {
		// Make-up days count only for workdays schedules: beside
		// instanceIds, tags or a sequence they would be accepted and
		// ignored (DESIGN §3.1, §3.2).
		out = append(out, events.FieldError{Field: name,
			Message: "stands only beside schedule: make-up working days count only for the workdays of schedules"})
	}
	switch n := len(req.WorkDates); {
	case n == 0 && !decodeErrs:
		out = append(out, events.FieldError{Field: name, Message: "is empty: give 1 to 400 dates like \"2027-02-20\", or leave it out"})
	case n > maxSkipDates:
		out = append(out, events.FieldError{Field: name, Message: fmt.Sprintf("has %d dates: at most %d", n, maxSkipDates)})
	}
	for i, d := range req.WorkDates {
		if d == "" && decodeErrs {
			continue
		}
		field := fmt.Sprintf("%s[%d]", name, i)
		t, err := time.Parse(DateLayout, d)
		switch {
		case err != nil || t.Format(DateLayout) != d:
			out = append(out, events.FieldError{Field: field, Message: fmt.Sprintf("%s is not a date like 2027-02-20", Quote(d))})
		case t.Weekday() != time.Saturday && t.Weekday() != time.Sunday:
			out = append(out, events.FieldError{Field: field,
				Message: fmt.Sprintf("%s is a %s: a make-up working day is a Saturday or a Sunday", Quote(d), t.Weekday())})
		case slices.Contains(req.SkipDates, d):
			out = append(out, events.FieldError{Field: field, Message: fmt.Sprintf("%s is in skipDates too: a date is skipped or worked, not both", Quote(d))})
		}
	}
	return out
}

// ScheduleConfig is what a schedule tick reads of the function's
// configuration (DESIGN §6).
type ScheduleConfig struct {
	TagKey    string            // SCHEDULE_TAG_KEY; "": DefaultScheduleTagKey
	Named     map[string]string // SCHEDULES: name → value
	SkipDates []string          // SKIP_DATES
	WorkDates []string          // WORK_DATES
	Zone      *time.Location    // TIME_ZONE; nil: UTC
}

// ScheduleTick is one schedule request made ready to judge instances: its
// tag key, period and moment T, and the parser and calendar of its zone and
// dates.
type ScheduleTick struct {
	TagKey string
	Every  time.Duration // 0 for a preview that sent none
	T      time.Time
	parser *schedule.Parser
	cal    *schedule.Calendar
}

// NewScheduleTick readies a valid schedule request req (outer fields
// already inherited: Inherit) for the tick at t (the timer's triggerTime as
// sent; other triggers: the invocation's start). The default zone of values
// without one is req's timeZone, else cfg.Zone, else UTC; the calendar is
// SKIP_DATES and skipDates, WORK_DATES and workDates. An error means a
// configuration or request the validators should have refused.
func NewScheduleTick(req events.StartRequest, cfg ScheduleConfig, t time.Time) (*ScheduleTick, error) {
	if req.Schedule == nil {
		return nil, errors.New("not a schedule request")
	}
	tk := &ScheduleTick{TagKey: req.Schedule.TagKey, T: t}
	if tk.TagKey == "" {
		tk.TagKey = cfg.TagKey
	}
	if tk.TagKey == "" {
		tk.TagKey = DefaultScheduleTagKey
	}
	if req.Schedule.Every != "" {
		d, ok := ParseEvery(req.Schedule.Every)
		if !ok {
			return nil, fmt.Errorf("every %s is not 1m to 24h", Quote(req.Schedule.Every))
		}
		tk.Every = d
	}
	zone := cfg.Zone
	if req.TimeZone != "" {
		z, err := LoadZone(req.TimeZone)
		if err != nil {
			return nil, err
		}
		zone = z
	}
	var err error
	if tk.parser, err = schedule.NewParser(zone, cfg.Named); err != nil {
		return nil, err
	}
	// Skip dates hold for every schedule (DESIGN §3.2): a make-up day of one
	// list (WORK_DATES, workDates) that the other list skips (skipDates,
	// SKIP_DATES) is skipped; a clash inside one list is refused where it
	// is written (the configuration, validateWorkDates).
	skip := slices.Concat(cfg.SkipDates, req.SkipDates)
	work := slices.DeleteFunc(slices.Concat(cfg.WorkDates, req.WorkDates), func(d string) bool {
		return slices.ContainsFunc(skip, func(s string) bool { return strings.TrimSpace(s) == strings.TrimSpace(d) })
	})
	if tk.cal, err = schedule.NewCalendar(skip, work); err != nil {
		return nil, err
	}
	return tk, nil
}

// ScheduleVerdict is what a tick makes of one instance.
type ScheduleVerdict int

const (
	// NotScheduled is an instance that does not carry the tag key; it is not
	// counted and not listed.
	NotScheduled ScheduleVerdict = iota
	// ScheduleOff is an instance whose value is off; counted as Scheduled, never due.
	ScheduleOff
	// ScheduleInvalid is an instance whose value is no schedule; Rejected with
	// InvalidSchedule in every tick.
	ScheduleInvalid
	// NotDue is an instance with no start time in the window (T − every, T].
	NotDue
	// Due is an instance with a start time in the window; started, with ScheduledAt.
	Due
)

// ScheduleDecision is a tick's verdict on one instance.
type ScheduleDecision struct {
	Instance ecsapi.InstanceInfo
	Verdict  ScheduleVerdict
	// Value is the tag's value as written.
	Value string
	// ScheduledAt is, when Due, the start time that made it due, in the
	// schedule's zone.
	ScheduledAt time.Time
	// Message is, when ScheduleInvalid, InvalidSchedule's message: the value
	// quoted and what is wrong with it.
	Message string
}

// Decide judges one instance: not carrying the key, off, invalid, not due,
// or due in the window (T − Every, T].
func (tk *ScheduleTick) Decide(info ecsapi.InstanceInfo) ScheduleDecision {
	d := ScheduleDecision{Instance: info}
	value, ok := info.Tags[tk.TagKey]
	if !ok {
		return d
	}
	d.Value = value
	s, err := tk.parser.Parse(value)
	switch {
	case err != nil:
		d.Verdict, d.Message = ScheduleInvalid, invalidMessage(tk.TagKey, value, err)
	case s.Off():
		d.Verdict = ScheduleOff
	default:
		d.Verdict = NotDue
		if at, due := schedule.Due(s, tk.T, tk.Every, tk.cal); due {
			d.Verdict, d.ScheduledAt = Due, at
		}
	}
	return d
}

// invalidMessage is InvalidSchedule's message for value, the tag key's on
// an instance.
func invalidMessage(key, value string, err error) string {
	why := err.Error()
	var se *schedule.Error
	if errors.As(err, &se) {
		why = se.Problem
	}
	return fmt.Sprintf("tag %s has %s, which is no schedule: %s", Quote(key), Quote(value), why)
}

// DecideAll judges every instance found, in order, and counts those that
// carry the key (Summary.Scheduled) and those due (Summary.Due). Teams
// share their schedules: each distinct value is judged once a tick.
func (tk *ScheduleTick) DecideAll(infos []ecsapi.InstanceInfo) (ds []ScheduleDecision, scheduled, due int) {
	judged := map[string]ScheduleDecision{}
	ds = make([]ScheduleDecision, 0, len(infos))
	for _, info := range infos {
		value, ok := info.Tags[tk.TagKey]
		if !ok {
			continue
		}
		d, seen := judged[value]
		if !seen {
			d = tk.Decide(info)
			judged[value] = d
		}
		d.Instance = info
		scheduled++
		if d.Verdict == Due {
			due++
		}
		ds = append(ds, d)
	}
	return ds, scheduled, due
}

// Rejection is the result of an instance whose value is invalid: Rejected,
// InvalidSchedule, with its advice; nil for any other verdict.
func (d ScheduleDecision) Rejection() *result.InstanceResult {
	if d.Verdict != ScheduleInvalid {
		return nil
	}
	return &result.InstanceResult{InstanceID: d.Instance.InstanceID, RegionID: d.Instance.RegionID,
		Code: result.CodeInvalidSchedule, Message: d.Message, Advice: result.Advice(result.CodeInvalidSchedule),
		PreviousStatus: d.Instance.Status, CurrentStatus: d.Instance.Status, Outcome: result.Rejected}
}

// ScheduledAtText is ScheduledAt as the result and the log line carry it:
// RFC 3339 with the schedule zone's offset; "" when not due.
func (d ScheduleDecision) ScheduledAtText() string {
	if d.Verdict != Due {
		return ""
	}
	return d.ScheduledAt.Format(time.RFC3339)
}

// Preview lists, for every instance carrying the key, its start times in
// (T, T+period], at most result.MaxPreviewStarts, RFC 3339 with the zone's
// offset, skip dates and make-up days applied, or InvalidSchedule and why.
// accountID is the scope's account ("" for the function's own).
func (tk *ScheduleTick) Preview(infos []ecsapi.InstanceInfo, period time.Duration, accountID string) []result.PreviewInstance {
	var out []result.PreviewInstance
	for _, info := range infos {
		value, ok := info.Tags[tk.TagKey]
		if !ok {
			continue
		}
		p := result.PreviewInstance{InstanceID: info.InstanceID, RegionID: info.RegionID, AccountID: accountID, Schedule: value, Starts: []string{}}
		s, err := tk.parser.Parse(value)
		switch {
		case err != nil:
			p.Code, p.Message = result.CodeInvalidSchedule, invalidMessage(tk.TagKey, value, err)
		case s.Off() && s.Name() != "":
			// Told apart from a schedule with no start in the period.
			p.Message = fmt.Sprintf("%s is off in SCHEDULES: never started by a schedule", Quote(s.Name()))
		case s.Off():
			p.Message = "off: never started by a schedule"
		default:
			for _, at := range schedule.Next(s, tk.T, period, tk.cal, result.MaxPreviewStarts) {
				p.Starts = append(p.Starts, at.Format(time.RFC3339))
			}
		}
		out = append(out, p)
	}
	return out
}
