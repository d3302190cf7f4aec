package deploytest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // CRON_TZ names are checked on machines without a zoneinfo database too
)

// cronField is one field of FC's six-field cron: seconds minutes hours
// day-of-month month day-of-week.
type cronField struct {
	name     string
	min, max int
	names    []string // accepted names, names[i] standing for min+i
	question bool     // "?" allowed (day-of-month, day-of-week)
}

var cronFields = []cronField{
	{name: "seconds", min: 0, max: 59},
	{name: "minutes", min: 0, max: 59},
	{name: "hours", min: 0, max: 23},
	{name: "day-of-month", min: 1, max: 31, question: true},
	{name: "month", min: 1, max: 12, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{name: "day-of-week", min: 0, max: 6, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}, question: true},
}

// validateFCCron checks a timer trigger's cronExpression as Function Compute
// reads it: "@every <duration>", or six fields with an optional
// "CRON_TZ=Area/City " prefix (UTC without it).
func validateFCCron(expr string) error {
	if d, ok := strings.CutPrefix(expr, "@every "); ok {
		dur, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil || dur <= 0 {
			return fmt.Errorf("@every needs a positive duration like 30m, got %q", d)
		}
		return nil
	}
	rest := expr
	if tz, after, ok := strings.Cut(expr, " "); ok && strings.HasPrefix(tz, "CRON_TZ=") {
		zone := strings.TrimPrefix(tz, "CRON_TZ=")
		if _, err := time.LoadLocation(zone); err != nil || zone == "" {
			return fmt.Errorf("CRON_TZ=%s is not a time zone name like Asia/Shanghai", zone)
		}
		rest = after
	}
	fields := strings.Fields(rest)
	if len(fields) != len(cronFields) {
		return fmt.Errorf("%d fields; FC's cron has six: seconds minutes hours day-of-month month day-of-week", len(fields))
	}
	for i, f := range fields {
		if err := cronFields[i].check(f); err != nil {
			return fmt.Errorf("%s %q: %w", cronFields[i].name, f, err)
		}
	}
	return nil
}

func (cf cronField) check(f string) error {
	if f == "?" {
		if !cf.question {
			return fmt.Errorf("? is allowed in day-of-month and day-of-week only")
		}
		return nil
	}
	for _, item := range strings.Split(f, ",") {
		rng, step, hasStep := strings.Cut(item, "/")
		if hasStep {
			n, err := strconv.Atoi(step)
			if err != nil || n < 1 || n > cf.max-cf.min+1 {
				return fmt.Errorf("step %q is not a whole number from 1 to %d", step, cf.max-cf.min+1)
			}
		}
		if rng == "*" {
			continue
		}
		lo, hi, isRange := strings.Cut(rng, "-")
		a, err := cf.value(lo)
		if err != nil {
			return err
		}
		if isRange {
			b, err := cf.value(hi)
			if err != nil {
				return err
			}
			if a > b {
				return fmt.Errorf("range %s runs backwards", rng)
			}
		}
	}
	return nil
}

func (cf cronField) value(s string) (int, error) {
	for i, n := range cf.names {
		if strings.EqualFold(s, n) {
			return cf.min + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < cf.min || n > cf.max {
		return 0, fmt.Errorf("%q is not a value from %d to %d", s, cf.min, cf.max)
	}
	return n, nil
}

// TestCronValidator pins the validator itself, so that the s.yaml check below
// can be trusted to reject what FC would.
func TestCronValidator(t *testing.T) {
	valid := []string{
		"0 0 8 * * 1-5",
		"CRON_TZ=Asia/Shanghai 0 0 8 * * 1-5",
		"0 30 7 1 * *",
		"0 0/15 * * * ?",
		"0 0 22 ? JAN,APR,JUL,OCT MON-FRI",
		"*/10 * * * * *",
		"@every 4m",
		"@every 1h30m",
	}
	invalid := []string{
		"0 8 * * 1-5",        // five fields: the Unix form FC does not take
		"0 0 8 * * 1-5 2026", // seven fields
		"0 60 8 * * *",       // minute out of range
		"0 0 24 * * *",       // hour out of range
		"0 0 8 0 * *",        // day-of-month starts at 1
		"0 0 8 * 13 *",       // month out of range
		"0 0 8 * * 7",        // day-of-week is 0-6
		"? 0 8 * * *",        // ? only in day fields
		"0 0 8 * * 5-1",      // backwards range
		"0 0/0 * * * *",      // zero step
		"CRON_TZ=Mars/Olympus 0 0 8 * * *",
		"CRON_TZ= 0 0 8 * * *",
		"@every -5m",
		"@every soon",
		"",
	}
	for _, c := range valid {
		if err := validateFCCron(c); err != nil {
			t.Errorf("%q rejected: %v", c, err)
		}
	}
	for _, c := range invalid {
		if err := validateFCCron(c); err == nil {
			t.Errorf("%q accepted", c)
		}
	}
}

// namedWeekdays reports whether a day-of-week field uses no numbers: "*", "?",
// or names such as MON-FRI, which no reader can take for another day.
func namedWeekdays(f string) bool {
	return !strings.ContainsAny(f, "0123456789") || f == "*" || f == "?"
}

func TestTimerCronsAreValidForFC(t *testing.T) {
	timers := 0
	for _, tr := range triggers(t) {
		if tr.typ != "timer" {
			continue
		}
		timers++
		expr := str(tr.config, "cronExpression")
		if err := validateFCCron(expr); err != nil {
			t.Errorf("trigger %s: cronExpression %q: %v", tr.name, expr, err)
		}
		if f := strings.Fields(expr); len(f) > 0 && !namedWeekdays(f[len(f)-1]) {
			t.Errorf("trigger %s: day-of-week %q: name the days (MON-FRI); cron dialects number them differently", tr.name, f[len(f)-1])
		}
	}
	if timers == 0 {
		t.Fatal("s.yaml has no timer trigger")
	}
}
