package handler

import (
	"slices"
	"strings"
	"testing"

	"github.com/start-ecs/start-ecs/handler/plan"
)

// DESIGN §6: SCHEDULES (each value parsed at start-up), WORK_DATES,
// SCHEDULE_TAG_KEY (default start-schedule), MAX_SCHEDULED (default 100,000).
func TestConfigSchedules(t *testing.T) {
	c, err := ConfigFromEnv(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.ScheduleTagKey != "start-schedule" || c.MaxScheduled != 100000 || c.Schedules != nil || c.WorkDates != nil {
		t.Fatalf("defaults: %q %d %v %v", c.ScheduleTagKey, c.MaxScheduled, c.Schedules, c.WorkDates)
	}
	c, err = ConfigFromEnv(envOf(map[string]string{
		"SCHEDULES":        `{"office": "08:00 workdays Asia/Shanghai", "lab": "07:30,13:00 MON-FRI", "never": "off"}`,
		"SKIP_DATES":       "2027-02-15",
		"WORK_DATES":       "2027-02-20, 2027-02-21",
		"SCHEDULE_TAG_KEY": "team-start",
		"MAX_SCHEDULED":    "5000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Schedules["office"] != "08:00 workdays Asia/Shanghai" || len(c.Schedules) != 3 ||
		!slices.Equal(c.WorkDates, []string{"2027-02-20", "2027-02-21"}) || c.ScheduleTagKey != "team-start" || c.MaxScheduled != 5000 {
		t.Fatalf("%+v", c)
	}
	sc := c.ScheduleConfig()
	if sc.TagKey != "team-start" || sc.Named["lab"] == "" || !slices.Equal(sc.SkipDates, []string{"2027-02-15"}) || len(sc.WorkDates) != 2 || sc.Zone == nil {
		t.Fatalf("ScheduleConfig: %+v", sc)
	}
	if plan.ScheduledPages(c.MaxScheduled) != 52 {
		t.Fatalf("pages for MAX_SCHEDULED 5000: %d, want ⌈5000/100⌉+2", plan.ScheduledPages(c.MaxScheduled))
	}
}

// A bad named schedule is a configuration error naming the variable and
// the name, found at start-up rather than as an InvalidSchedule on every
// instance that uses it.
func TestConfigScheduleErrorsNameTheVariable(t *testing.T) {
	cases := []struct{ name, val, says string }{
		{"SCHEDULES", `{"office": "8am"}`, `"office"`},
		{"SCHEDULES", `{"office": "08:00 weekdays"}`, `"weekdays"`},
		{"SCHEDULES", `{"off": "08:00"}`, `"off"`},
		{"SCHEDULES", `{"a": "b", "b": "08:00"}`, `"a"`},
		{"SCHEDULES", `office=08:00`, "JSON object"},
		{"SCHEDULES", `{"office": 8}`, "JSON object"},
		{"WORK_DATES", "2027-02-19", "Friday"},
		{"WORK_DATES", "2027-13-01", "not a date"},
		{"SCHEDULE_TAG_KEY", "aliyun-schedule", "aliyun"},
		{"SCHEDULE_TAG_KEY", strings.Repeat("k", 129), "129 characters"},
		{"MAX_SCHEDULED", "0", "at least 1"},
		{"MAX_SCHEDULED", "many", "whole number"},
	}
	for _, tc := range cases {
		_, err := ConfigFromEnv(envOf(map[string]string{tc.name: tc.val}))
		if err == nil || !strings.Contains(err.Error(), tc.name+": ") || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s=%q: error %v, want it naming %s and %s", tc.name, tc.val, err, tc.name, tc.says)
		}
	}
	_, err := ConfigFromEnv(envOf(map[string]string{"SKIP_DATES": "2027-02-20", "WORK_DATES": "2027-02-20"}))
	if err == nil || !strings.Contains(err.Error(), "WORK_DATES: ") {
		t.Errorf("a date both skipped and worked: %v", err)
	}
}
