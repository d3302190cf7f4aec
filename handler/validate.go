package handler

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
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

var instanceIDRE = regexp.MustCompile(`^i-[a-z0-9]{6,30}$`)

// checkedRequest carries the limits of a start request in its tags; the json names
// are the ones errors report.
type checkedRequest struct {
	RegionID          string   `json:"regionId" validate:"omitempty,region_id"`
	InstanceIDs       []string `json:"instanceIds" validate:"required,min=1,dive,ecs_instance_id"`
	BatchOptimization string   `json:"batchOptimization" validate:"omitempty,oneof=SuccessFirst AllTogether"`
	NotAfter          string   `json:"notAfter" validate:"omitempty,rfc3339"`
}

// validate is the process's one validator: it caches struct metadata, and its
// custom rules are registered once, before use.
var validate = newValidator()

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
	must(v.RegisterValidation("ecs_instance_id", func(fl validator.FieldLevel) bool {
		return instanceIDRE.MatchString(fl.Field().String())
	}))
	must(v.RegisterValidation("region_id", func(fl validator.FieldLevel) bool {
		return regionRE.MatchString(fl.Field().String())
	}))
	must(v.RegisterValidation("rfc3339", func(fl validator.FieldLevel) bool {
		_, err := time.Parse(time.RFC3339, fl.Field().String())
		return err == nil
	}))
	return v
}

// Validate checks a decoded start request against DESIGN §3 and returns its
// defects, each naming the JSON field it concerns; none means valid. The region
// may be empty here: it is resolved from the event and configuration later.
func Validate(req events.StartRequest) []events.FieldError {
	batch, batchOK := normalBatch(req.BatchOptimization)
	cr := checkedRequest{
		RegionID:          req.RegionID,
		InstanceIDs:       req.InstanceIDs,
		BatchOptimization: batch,
		NotAfter:          req.NotAfter,
	}
	var out []events.FieldError
	if !batchOK {
		out = append(out, events.FieldError{Field: "batchOptimization",
			Message: fmt.Sprintf("%s is not SuccessFirst or AllTogether", quote(req.BatchOptimization))})
		cr.BatchOptimization = ""
	}
	err := validate.Struct(cr)
	var verrs validator.ValidationErrors
	if errors.As(err, &verrs) {
		for _, fe := range verrs {
			out = append(out, events.FieldError{Field: fieldPath(fe), Message: ruleMessage(fe)})
		}
	} else if err != nil {
		// An InvalidValidationError means this code passed a non-struct: a bug.
		panic(err)
	}
	if batch == AllTogether && len(uniqueStrings(req.InstanceIDs)) > maxPerCall {
		out = append(out, events.FieldError{Field: "instanceIds",
			Message: fmt.Sprintf("AllTogether starts all or nothing in one call: at most %d instances, got %d", maxPerCall, len(uniqueStrings(req.InstanceIDs)))})
	}
	return out
}

// normalBatch maps any spelling of a batch optimisation to ECS's; empty is
// SuccessFirst, so that one bad instance never blocks the others.
func normalBatch(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "successfirst":
		return SuccessFirst, true
	case "alltogether":
		return AllTogether, true
	}
	return s, false
}

// fieldPath turns "checkedRequest.instanceIds[2]" into "instanceIds[2]".
func fieldPath(fe validator.FieldError) string {
	ns := fe.Namespace()
	if _, rest, ok := strings.Cut(ns, "."); ok {
		return rest
	}
	return fe.Field()
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
	case "required":
		return "is required: name at least one instance ID"
	case "min":
		return "needs at least one instance ID"
	case "ecs_instance_id":
		return fmt.Sprintf("%s is not an instance ID: i- followed by 6 to 30 lowercase letters or digits", quote(val))
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
