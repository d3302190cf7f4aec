package e2e

import (
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/internal/ecsemu"
)

// DESIGN §9, the calendar: when SKIP_DATES holds no date more than 30 days
// ahead (in TIME_ZONE), each process logs one calendar line at WARN a day.
// Through the real binary: two invocations in one process, one calendar
// line, on the first, naming the last date as SKIP_DATES writes it.
func TestCalendarRunningOutOneLineADay(t *testing.T) {
	t.Parallel()
	zone := time.FixedZone("CST", 8*3600)
	today := time.Now().In(zone).Format("2006-01-02")
	last := time.Now().In(zone).AddDate(0, 0, 10).Format("2006-01-02")
	h := start(t, map[string]string{"SKIP_DATES": "2020-01-01," + last + ",2021-05-01", "TIME_ZONE": "Asia/Shanghai"}, ecsemu.Options{})
	first := invoke(t, h, []byte(oneInstance))
	second := invoke(t, h, []byte(oneInstance))
	if time.Now().In(zone).Format("2006-01-02") != today {
		t.Skip("the day changed in Asia/Shanghai between the invocations")
	}
	lines := first.LogsOf("calendar")
	if len(lines) != 1 || lines[0]["level"] != "WARN" || lines[0]["lastSkipDate"] != last || lines[0]["daysAhead"] != float64(10) {
		t.Fatalf("first invocation's calendar lines %v, want one WARN naming %s 10 days ahead", lines, last)
	}
	if n := len(second.LogsOf("calendar")); n != 0 {
		t.Fatalf("second invocation the same day: %d calendar lines", n)
	}
	n := 0
	for _, l := range h.Fn.Records("") {
		if l["msg"] == "calendar" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d calendar lines in the process, want 1", n)
	}
}
