package plan

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/tzdb"
)

// ValidInstanceID says whether id is "i-" and 6 to 30 lowercase letters or
// digits (^i-[a-z0-9]{6,30}$, checked without a regexp: it is the hot path,
// and a regexp would be compiled at start-up, before the first invocation).
func ValidInstanceID(id string) bool {
	if len(id) < 2+6 || len(id) > 2+30 || id[0] != 'i' || id[1] != '-' {
		return false
	}
	for i := 2; i < len(id); i++ {
		if c := id[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// checkedRequest carries the limits of a start request's scalar fields in its
// tags; the json names are the canonical ones, which errors turn into the
// caller's spelling. The IDs are checked one by one in Validate, so that each
// error names its element as the caller spelled it and carries its index.
type checkedRequest struct {
	RegionID          string `json:"regionId" validate:"omitempty,region_id"`
	BatchOptimization string `json:"batchOptimization" validate:"omitempty,oneof=SuccessFirst AllTogether"`
	NotAfter          string `json:"notAfter" validate:"omitempty,rfc3339"`
	Wait              string `json:"wait" validate:"omitempty,wait"`
}

// The limits of tags (DESIGN §3.1, ECS's own rules).
const (
	maxTags        = 20
	maxTagKeyLen   = 128
	maxTagValueLen = 128
)

// checkedTag carries ECS's rules for one pair of tags: a key of 1 to 128
// characters, a value of 0 to 128, neither starting with aliyun or acs:.
// Each pair is checked on its own, so that an error names it as the caller
// spelled it (tags[0].key, Tag.1.Key).
type checkedTag struct {
	Key   string `json:"key" validate:"min=1,max=128,tag_text"`
	Value string `json:"value" validate:"max=128,tag_text"`
}

// maxWait bounds a wait's duration before the deadline does: FC's longest
// timeout is a day.
const maxWait = 24 * time.Hour

// ParseWait reads a valid wait: none (absent or false), until the deadline
// (true: forever, capped by it later), or a duration.
func ParseWait(s string) (d time.Duration, on, ok bool) {
	switch strings.ToLower(s) {
	case "", "false":
		return 0, false, true
	case "true":
		return maxWait, true, true
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > maxWait {
		return 0, false, false
	}
	return d, true, true
}

// validate is the process's one validator: it caches struct metadata, and its
// custom rules are registered once, before use. It is made on first use, not
// at start-up: a cold start does not wait for it, and the first
// request pays about what the floor function pays before its first poll.
var validate = sync.OnceValue(newValidator)

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		return name
	})
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(v.RegisterValidation("region_id", func(fl validator.FieldLevel) bool {
		return ecsapi.ValidRegionID(fl.Field().String())
	}))
	must(v.RegisterValidation("rfc3339", func(fl validator.FieldLevel) bool {
		_, err := time.Parse(time.RFC3339, fl.Field().String())
		return err == nil
	}))
	must(v.RegisterValidation("wait", func(fl validator.FieldLevel) bool {
		_, _, ok := ParseWait(fl.Field().String())
		return ok
	}))
	must(v.RegisterValidation("tag_text", func(fl validator.FieldLevel) bool {
		s := fl.Field().String()
		return !strings.HasPrefix(s, "aliyun") && !strings.HasPrefix(s, "acs:")
	}))
	return v
}

// Validate checks a decoded start request against DESIGN §3 and §5 and returns
// its defects, each naming the field as the caller spelled it (req.IDField,
// req.FieldName) and, for an ID, carrying its index (FieldError.Elem); none
// means valid. Values are taken as sent: nothing is trimmed. The region may be
// empty here: it is resolved from the event and configuration later.
func Validate(req events.StartRequest) []events.FieldError {
	return validateRequest(req, false)
}

// ValidateRequest is Validate for a request the decoder read; decodeErrs
// says the decoder already found defects in the request, so that a list
// whose every element was refused there (["A",5] keeps "A"; [5] keeps
// nothing) is not also called missing.
func ValidateRequest(req events.StartRequest, decodeErrs bool) []events.FieldError {
	return validateRequest(req, decodeErrs)
}

// validateRequest is ValidateRequest without the build's limits: the
// contract's rules alone, applied to targets and groups too.
func validateRequest(req events.StartRequest, decodeErrs bool) []events.FieldError {
	batch, batchOK := normalBatch(req.Batch())
	cr := checkedRequest{
		RegionID:          req.RegionID,
		BatchOptimization: batch,
		NotAfter:          req.NotAfter,
		Wait:              req.Wait,
	}
	var out []events.FieldError
	if !batchOK {
		out = append(out, events.FieldError{Field: req.FieldName("batchOptimization"),
			Message: fmt.Sprintf("%s is not SuccessFirst or AllTogether", Quote(req.BatchOptimization))})
		cr.BatchOptimization = ""
	}
	err := validate().Struct(cr)
	var verrs validator.ValidationErrors
	if errors.As(err, &verrs) {
		for _, fe := range verrs {
			out = append(out, events.FieldError{Field: req.FieldName(fe.Field()), Message: ruleMessage(fe)})
		}
	} else if err != nil {
		// An InvalidValidationError means this code passed a non-struct: a bug.
		panic(err)
	}
	if len(req.InstanceIDs) == 0 && req.Tags == nil && req.Targets == nil && req.Sequence == nil && req.Schedule == nil && !decodeErrs {
		out = append(out, events.FieldError{Field: req.FieldName("instanceIds"), Message: "is required: name at least one instance ID, or select instances by tags"})
	}
	out = append(out, validateTags(req, decodeErrs)...)
	out = append(out, validateSkipDates(req, decodeErrs)...)
	out = append(out, validateSchedule(req, decodeErrs)...)
	out = append(out, validateReach(req, decodeErrs)...)
	out = append(out, validateSequence(req, decodeErrs)...)
	for i, id := range req.InstanceIDs {
		if !ValidInstanceID(id) {
			out = append(out, events.FieldError{Field: req.IDField(i), Elem: i + 1,
				Message: fmt.Sprintf("%s is not an instance ID: i- followed by 6 to 30 lowercase letters or digits", Quote(id))})
		}
	}
	if n := len(UniqueStrings(req.InstanceIDs)); batch == ecsapi.AllTogether && n > ecsapi.MaxPerCall {
		why := ""
		if req.BatchOptimization == "" {
			why = " (the default of ECS's spelling of the IDs: send BatchOptimization=SuccessFirst to start more)"
		}
		out = append(out, events.FieldError{Field: req.FieldName("instanceIds"),
			Message: fmt.Sprintf("AllTogether starts all or nothing in one call: at most %d instances, got %d%s", ecsapi.MaxPerCall, n, why)})
	}
	return out
}

// validateTags checks a request's tags (DESIGN §3.1): 1 to 20 pairs, each by
// ECS's rules, errors naming the pair's part as the caller spelled it.
func validateTags(req events.StartRequest, decodeErrs bool) []events.FieldError {
	if req.Tags == nil {
		return nil
	}
	var out []events.FieldError
	switch n := len(req.Tags); {
	case n == 0 && !decodeErrs:
		out = append(out, events.FieldError{Field: req.FieldName("tags"), Message: "is empty: give 1 to 20 pairs {\"key\": …, \"value\": …}"})
	case n > maxTags:
		out = append(out, events.FieldError{Field: req.FieldName("tags"), Message: fmt.Sprintf("has %d pairs: ECS takes at most %d", n, maxTags)})
	}
	for i, t := range req.Tags {
		ct := checkedTag{Key: t.Key}
		if t.Value != nil {
			ct.Value = *t.Value
		}
		var verrs validator.ValidationErrors
		if err := validate().Struct(ct); errors.As(err, &verrs) {
			for _, fe := range verrs {
				out = append(out, events.FieldError{Field: req.TagField(i, fe.Field()), Message: ruleMessage(fe)})
			}
		} else if err != nil {
			panic(err) // an InvalidValidationError: a bug
		}
	}
	return out
}

// maxTargets bounds a request's targets (DESIGN §3.1).
const maxTargets = 50

// validateReach checks roleArn and targets (DESIGN §3.1): a role's ARN
// acs:ram::<account id>:role/<name>; 1 to 50 targets, each a valid start
// request with no targets of its own, and neither
// instanceIds, tags nor roleArn beside them. A target's defects are named
// targets[i].<field>. A target without regionId takes the request's (outer
// fields, DESIGN §3.1); the plan names one left without any.
func validateReach(req events.StartRequest, decodeErrs bool) []events.FieldError {
	var out []events.FieldError
	if req.RoleArn != "" && ecsapi.AccountOf(req.RoleArn) == "" {
		out = append(out, events.FieldError{Field: req.FieldName("roleArn"),
			Message: fmt.Sprintf("%s is not a RAM role's ARN like acs:ram::1234567890123456:role/start-ecs-target", Quote(req.RoleArn))})
	}
	if req.Targets == nil {
		return out
	}
	switch n := len(req.Targets); {
	case n == 0 && !decodeErrs:
		out = append(out, events.FieldError{Field: "targets", Message: "is empty: give 1 to 50 start requests, each with its regionId"})
	case n > maxTargets:
		out = append(out, events.FieldError{Field: "targets", Message: fmt.Sprintf("has %d start requests: at most %d", n, maxTargets)})
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"instanceIds", len(req.InstanceIDs) > 0}, {"tags", req.Tags != nil}, {"roleArn", req.RoleArn != ""}} {
		if f.set {
			out = append(out, events.FieldError{Field: req.FieldName(f.name),
				Message: "cannot stand beside targets: name the instances, tags and role in each target"})
		}
	}
	for i, t := range req.Targets {
		prefix := fmt.Sprintf("targets[%d].", i)
		if t.Targets != nil {
			out = append(out, events.FieldError{Field: prefix + "targets", Message: "a target cannot hold targets of its own"})
			t.Targets = nil
		}
		// schedule and preview are outer fields (DESIGN §3.2): a target
		// is judged with them, so that one naming instances beside an
		// outer schedule is refused as if it carried the schedule.
		if t.Schedule == nil {
			t.Schedule = req.Schedule
		}
		if t.Preview == "" {
			t.Preview = req.Preview
		}
		if t.WorkDates == nil && req.WorkDates != nil && t.Schedule == nil {
			// An outer workDates reaches a target without a schedule:
			// it would be accepted and ignored (validateWorkDates).
			out = append(out, events.FieldError{Field: prefix + t.FieldName("workDates"),
				Message: "stands only beside schedule: make-up working days count only for the workdays of schedules"})
		}
		for _, fe := range validateRequest(t, decodeErrs) {
			fe.Field, fe.Elem = prefix+fe.Field, 0
			out = append(out, fe)
		}
	}
	return out
}

// The bounds of a sequence's groups (DESIGN §3.1).
const (
	minGroups = 2
	maxGroups = 10
)

// validateSequence checks a sequence (DESIGN §3.1): 2 to 10 groups, each a
// valid start request (instanceIds, tags, targets, regionId,
// batchOptimization) without a sequence of its own, and neither
// instanceIds, tags, targets nor roleArn beside it. An instance named by two
// groups is a defect of the later one (sequenceOverlaps; the plan checks
// again once the region's defaults are known). Defects are named
// sequence[i].<field>.
func validateSequence(req events.StartRequest, decodeErrs bool) []events.FieldError {
	if req.Sequence == nil {
		return nil
	}
	var out []events.FieldError
	switch n := len(req.Sequence); {
	case n < minGroups && (n != 0 || !decodeErrs):
		out = append(out, events.FieldError{Field: "sequence", Message: fmt.Sprintf("has %d groups: give 2 to 10 start requests, started in order", n)})
	case n > maxGroups:
		out = append(out, events.FieldError{Field: "sequence", Message: fmt.Sprintf("has %d groups: at most %d", n, maxGroups)})
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"instanceIds", len(req.InstanceIDs) > 0}, {"tags", req.Tags != nil}, {"targets", req.Targets != nil}, {"roleArn", req.RoleArn != ""}} {
		if f.set {
			out = append(out, events.FieldError{Field: req.FieldName(f.name),
				Message: "cannot stand beside sequence: name the instances of each group in the group"})
		}
	}
	for i, g := range req.Sequence {
		prefix := fmt.Sprintf("sequence[%d].", i)
		if g.Sequence != nil {
			out = append(out, events.FieldError{Field: prefix + "sequence", Message: "no sequence inside a sequence"})
			g.Sequence = nil
		}
		// A group is started once the one before it runs; a schedule's
		// instances are started when their own time comes (DESIGN §3.2).
		if g.Schedule != nil || slices.ContainsFunc(g.Targets, func(t events.StartRequest) bool { return t.Schedule != nil }) {
			out = append(out, events.FieldError{Field: prefix + g.FieldName("schedule"),
				Message: "a schedule cannot be a group of a sequence: its instances start at their own times"})
		}
		for _, fe := range validateRequest(g, decodeErrs) {
			fe.Field, fe.Elem = prefix+fe.Field, 0
			out = append(out, fe)
		}
	}
	return append(out, sequenceOverlaps(req, req.RegionID)...)
}

// sequenceOverlaps names each instance that two groups of a sequence name
// (DESIGN §3.1): the instance being the (region, account, ID) once every
// default is applied — a group's or target's own region, else the group's,
// else region (the request's, resolved) — whether a group names it itself or
// in its targets. It could not be started both before and after: a defect of
// the later place, naming the earlier.
func sequenceOverlaps(req events.StartRequest, region string) []events.FieldError {
	type place struct {
		group int
		field string
	}
	var out []events.FieldError
	first := map[string]place{} // region/account/ID → where it was named first
	note := func(group int, field, region, role, id string) {
		k := region + "/" + ecsapi.AccountOf(role) + "/" + id
		at, ok := first[k]
		switch {
		case !ok:
			first[k] = place{group, field}
		case at.group != group:
			where := region
			if role != "" {
				where += ", account " + ecsapi.AccountOf(role)
			}
			out = append(out, events.FieldError{Field: field,
				Message: fmt.Sprintf("%s (in %s) is named by %s already: an instance belongs to one group", Quote(id), where, at.field)})
		}
	}
	for i, g := range req.Sequence {
		gr := g.RegionID
		if gr == "" {
			gr = region
		}
		prefix := fmt.Sprintf("sequence[%d].", i)
		for j, id := range g.InstanceIDs {
			note(i, prefix+g.IDField(j), gr, g.RoleArn, id)
		}
		for t, tg := range g.Targets {
			tr := tg.RegionID
			if tr == "" {
				tr = gr
			}
			for j, id := range tg.InstanceIDs {
				note(i, fmt.Sprintf("%stargets[%d].%s", prefix, t, tg.IDField(j)), tr, tg.RoleArn, id)
			}
		}
	}
	return out
}

// maxSkipDates bounds a request's skipDates: a year of days, and some.
const maxSkipDates = 400

// DateLayout is the form of a skip date (DESIGN §3.1).
const DateLayout = "2006-01-02"

// validateSkipDates checks skipDates (1 to 400 dates like 2026-12-25) and
// timeZone (an IANA zone of the embedded database), errors naming the field
// or the element as sent (DESIGN §3.1).
func validateSkipDates(req events.StartRequest, decodeErrs bool) []events.FieldError {
	var out []events.FieldError
	if req.TimeZone != "" {
		if _, err := LoadZone(req.TimeZone); err != nil {
			out = append(out, events.FieldError{Field: req.FieldName("timeZone"),
				Message: fmt.Sprintf("%s is not UTC or an IANA Area/Location zone of the embedded time zone database, like Asia/Shanghai", Quote(req.TimeZone))})
		}
	}
	if req.SkipDates == nil {
		return out
	}
	switch n := len(req.SkipDates); {
	case n == 0 && !decodeErrs:
		out = append(out, events.FieldError{Field: req.FieldName("skipDates"), Message: "is empty: give 1 to 400 dates like \"2026-12-25\", or leave it out"})
	case n > maxSkipDates:
		out = append(out, events.FieldError{Field: req.FieldName("skipDates"), Message: fmt.Sprintf("has %d dates: at most %d", n, maxSkipDates)})
	}
	for i, d := range req.SkipDates {
		if d == "" && decodeErrs {
			continue // an element the decoder refused (not a string)
		}
		if !ValidDate(d) {
			out = append(out, events.FieldError{Field: fmt.Sprintf("%s[%d]", req.FieldName("skipDates"), i),
				Message: fmt.Sprintf("%s is not a date like 2026-12-25", Quote(d))})
		}
	}
	return out
}

// ValidDate says whether d is a calendar date written YYYY-MM-DD.
func ValidDate(d string) bool {
	t, err := time.Parse(DateLayout, d)
	return err == nil && t.Format(DateLayout) == d
}

// LoadZone loads a zone of a request's timeZone or TIME_ZONE (DESIGN §3.1):
// UTC or an Area/Location zone, always from the embedded database (about
// 400 KB, handler/tzdb), never the machine's zone files, which
// time.LoadLocation prefers; Local, localtime, posixrules, Factory, right/…
// and posix/… would mean whatever the machine is set to, and are refused.
func LoadZone(name string) (*time.Location, error) {
	return tzdb.Load(name)
}

// normalBatch maps any spelling (any case) of a batch optimisation to ECS's;
// empty is SuccessFirst, so that one bad instance never blocks the others
// (a request in ECS's spelling brings ECS's default, AllTogether, as
// StartRequest.Batch).
// Nothing is trimmed: " AllTogether" is no batch optimisation (DESIGN §5).
func normalBatch(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "", "successfirst":
		return ecsapi.SuccessFirst, true
	case "alltogether": //nolint:misspell // ECS's AllTogether, lower-cased
		return ecsapi.AllTogether, true
	}
	return s, false
}

// Quote quotes a value for a message, cut to 64 characters: messages are
// logged, and must not carry a body's worth of bytes.
func Quote(s string) string {
	if r := []rune(s); len(r) > 64 {
		s = string(r[:64]) + "…"
	}
	return strconv.Quote(s)
}

func ruleMessage(fe validator.FieldError) string {
	val := fmt.Sprint(fe.Value())
	switch fe.Tag() {
	case "region_id":
		return fmt.Sprintf("%s is not a region ID: lowercase letters, digits and dashes, like cn-hangzhou", Quote(val))
	case "oneof":
		return fmt.Sprintf("%s is not one of %s", Quote(val), fe.Param())
	case "rfc3339":
		return fmt.Sprintf("%s is not an RFC 3339 time like 2026-11-26T09:00:00Z", Quote(val))
	case "wait":
		return fmt.Sprintf("%s is not true, false or a duration like \"90s\" (more than 0, at most 24h)", Quote(val))
	case "tag_text":
		return fmt.Sprintf("%s starts with aliyun or acs:, which ECS keeps for its own tags", Quote(val))
	case "min":
		if fe.Field() == "key" {
			return "is empty: a tag key is 1 to 128 characters"
		}
	case "max":
		if fe.Field() == "key" || fe.Field() == "value" {
			limit := maxTagKeyLen
			if fe.Field() == "value" {
				limit = maxTagValueLen
			}
			return fmt.Sprintf("has %d characters: a tag %s is at most %d", utf8.RuneCountInString(val), fe.Field(), limit)
		}
	}
	return fmt.Sprintf("fails rule %s", fe.Tag())
}

// UniqueStrings is in without repeats, in order of first mention.
func UniqueStrings(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
