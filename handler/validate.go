package handler

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-playground/validator/v10"

	"github.com/start-ecs/start-ecs/events"
)

// Batch optimisations of StartInstances.
const (
	SuccessFirst = "SuccessFirst"
	AllTogether  = "AllTogether"
)

// maxPerCall is ECS's limit of instance IDs in one StartInstances call.
const maxPerCall = 100

// validInstanceID says whether id is "i-" and 6 to 30 lowercase letters or
// digits (^i-[a-z0-9]{6,30}$, checked without a regexp: it is the hot path,
// and a regexp would be compiled at start-up, before the first invocation).
func validInstanceID(id string) bool {
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
}

// validate is the process's one validator: it caches struct metadata, and its
// custom rules are registered once, before use. It is made on first use, not
// at start-up: a cold start does not wait for it (issue 9), and the first
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
		return validRegionID(fl.Field().String())
	}))
	must(v.RegisterValidation("rfc3339", func(fl validator.FieldLevel) bool {
		_, err := time.Parse(time.RFC3339, fl.Field().String())
		return err == nil
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

// validateRequest is Validate; decodeErrs says the decoder already found
// defects in the request, so that a list whose every element was refused
// there (["A",5] keeps "A"; [5] keeps nothing) is not also called missing.
func validateRequest(req events.StartRequest, decodeErrs bool) []events.FieldError {
	batch, batchOK := normalBatch(req.BatchOptimization)
	cr := checkedRequest{
		RegionID:          req.RegionID,
		BatchOptimization: batch,
		NotAfter:          req.NotAfter,
	}
	var out []events.FieldError
	if !batchOK {
		out = append(out, events.FieldError{Field: req.FieldName("batchOptimization"),
			Message: fmt.Sprintf("%s is not SuccessFirst or AllTogether", quote(req.BatchOptimization))})
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
	if len(req.InstanceIDs) == 0 && !decodeErrs {
		out = append(out, events.FieldError{Field: req.FieldName("instanceIds"), Message: "is required: name at least one instance ID"})
	}
	for i, id := range req.InstanceIDs {
		if !validInstanceID(id) {
			out = append(out, events.FieldError{Field: req.IDField(i), Elem: i + 1,
				Message: fmt.Sprintf("%s is not an instance ID: i- followed by 6 to 30 lowercase letters or digits", quote(id))})
		}
	}
	if n := len(uniqueStrings(req.InstanceIDs)); batch == AllTogether && n > maxPerCall {
		out = append(out, events.FieldError{Field: req.FieldName("instanceIds"),
			Message: fmt.Sprintf("AllTogether starts all or nothing in one call: at most %d instances, got %d", maxPerCall, n)})
	}
	return out
}

// normalBatch maps any spelling (any case) of a batch optimisation to ECS's;
// empty is SuccessFirst, so that one bad instance never blocks the others.
// Nothing is trimmed: " AllTogether" is no batch optimisation (DESIGN §5).
func normalBatch(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "", "successfirst":
		return SuccessFirst, true
	case "alltogether": //nolint:misspell // ECS's AllTogether, lower-cased
		return AllTogether, true
	}
	return s, false
}

// quote quotes a value for a message, cut to 64 characters: messages are
// logged, and must not carry a body's worth of bytes.
func quote(s string) string {
	if r := []rune(s); len(r) > 64 {
		s = string(r[:64]) + "…"
	}
	return strconv.Quote(s)
}

func ruleMessage(fe validator.FieldError) string {
	val := fmt.Sprint(fe.Value())
	switch fe.Tag() {
	case "region_id":
		return fmt.Sprintf("%s is not a region ID: lowercase letters, digits and dashes, like cn-hangzhou", quote(val))
	case "oneof":
		return fmt.Sprintf("%s is not one of %s", quote(val), fe.Param())
	case "rfc3339":
		return fmt.Sprintf("%s is not an RFC 3339 time like 2026-11-26T09:00:00Z", quote(val))
	}
	return fmt.Sprintf("fails rule %s", fe.Tag())
}

func uniqueStrings(in []string) []string {
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
