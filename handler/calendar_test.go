package handler

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
)

func calendarHandler(t *testing.T, env map[string]string) (*Handler, *bytes.Buffer) {
	t.Helper()
	fl := ecsapitest.NewFleet(ecsapitest.Stopped([]string{"i-calendar0001"}))
	env["DEFAULT_REGION_ID"] = "cn-hangzhou"
	return testHandler(t, env, fl.ECS())
}

// invokeAt invokes h with the clock at now and returns the invocation's calendar lines.
func invokeAt(t *testing.T, h *Handler, logs *bytes.Buffer, now time.Time, requestID string) []map[string]any {
	t.Helper()
	h.now = func() time.Time { return now }
	ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: requestID, Region: "cn-hangzhou"})
	if _, err := h.Handle(ctx, []byte(`{"instanceIds":["i-calendar0001"]}`)); err != nil {
		t.Fatal(err)
	}
	return calendarLinesOf(t, logs, requestID)
}

func calendarLinesOf(t *testing.T, logs *bytes.Buffer, requestID string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range logLines(t, logs) {
		if l["msg"] == "calendar" && l["requestId"] == requestID {
			out = append(out, l)
		}
	}
	return out
}

// DESIGN §9, the calendar: when SKIP_DATES holds no date more than 30 days
// ahead, each process logs one calendar line at WARN a day (a day of
// TIME_ZONE), naming the last date as SKIP_DATES writes it.
func TestCalendarRunningOutIsOneWarnLineADay(t *testing.T) {
	h, logs := calendarHandler(t, map[string]string{"SKIP_DATES": "2026-10-01,2026-10-11,2026-10-02", "TIME_ZONE": "Asia/Shanghai"})
	// 00:30 on 1 October in Shanghai (still 30 September in UTC): 10 days ahead.
	day1 := time.Date(2026, 9, 30, 16, 30, 0, 0, time.UTC)
	got := invokeAt(t, h, logs, day1, "req-1")
	if len(got) != 1 {
		t.Fatalf("first invocation of the day: %d calendar lines, want 1", len(got))
	}
	l := got[0]
	if l["level"] != "WARN" || l["lastSkipDate"] != "2026-10-11" || l["daysAhead"] != float64(10) {
		t.Fatalf("calendar line %v", l)
	}
	if note := h.calendarNote(day1); note != "the holiday calendar ends on 2026-10-11" {
		t.Fatalf("calendarNote %q", note)
	}
	if end := h.calendarEnds(day1); end != "2026-10-11" {
		t.Fatalf("calendarEnds %q", end)
	}
	// 23:30 the same day in Shanghai (next day in UTC): none.
	if got := invokeAt(t, h, logs, day1.Add(23*time.Hour), "req-2"); len(got) != 0 {
		t.Fatalf("second invocation the same day: %v", got)
	}
	// 00:30 the next day in Shanghai: one again.
	if got := invokeAt(t, h, logs, day1.Add(24*time.Hour), "req-3"); len(got) != 1 || got[0]["daysAhead"] != float64(9) {
		t.Fatalf("the next day: %v, want one line 9 days ahead", got)
	}
	// A calendar that has ended keeps saying so.
	if got := invokeAt(t, h, logs, day1.Add(20*24*time.Hour), "req-4"); len(got) != 1 || got[0]["daysAhead"] != float64(-10) {
		t.Fatalf("after the end: %v", got)
	}
}

// DESIGN §9, the calendar: a date more than 30 days ahead, or no SKIP_DATES,
// is no calendar line and no note.
func TestCalendarNotRunningOutIsNoLine(t *testing.T) {
	now := time.Date(2026, 9, 30, 16, 30, 0, 0, time.UTC) // 1 October in Shanghai
	for name, env := range map[string]map[string]string{
		"31 days ahead in TIME_ZONE": {"SKIP_DATES": "2026-10-01,2026-11-01", "TIME_ZONE": "Asia/Shanghai"},
		"unset":                      {},
	} {
		t.Run(name, func(t *testing.T) {
			h, logs := calendarHandler(t, env)
			if got := invokeAt(t, h, logs, now, "req-1"); len(got) != 0 {
				t.Fatalf("%v", got)
			}
			if note := h.calendarNote(now); note != "" {
				t.Fatalf("calendarNote %q", note)
			}
		})
	}
	// 30 days ahead is running out: in UTC 2026-10-31 is 31 days after
	// 30 September, in Shanghai 30 days after 1 October.
	h, _ := calendarHandler(t, map[string]string{"SKIP_DATES": "2026-10-31", "TIME_ZONE": "Asia/Shanghai"})
	if h.calendarNote(now) == "" {
		t.Fatal("30 days ahead in TIME_ZONE: no note")
	}
	h, _ = calendarHandler(t, map[string]string{"SKIP_DATES": "2026-10-31"})
	if note := h.calendarNote(now); note != "" {
		t.Fatalf("31 days ahead in UTC: %q", note)
	}
}

// DESIGN §9, the calendar: one line a day per process, however many
// invocations run at once.
func TestCalendarLineOnceUnderConcurrentInvocations(t *testing.T) {
	h, logs := calendarHandler(t, map[string]string{"SKIP_DATES": "2026-10-11"})
	now := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	h.now = func() time.Time { return now }
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: fmt.Sprintf("req-%d", i), Region: "cn-hangzhou"})
			if _, err := h.Handle(ctx, []byte(`{"instanceIds":["i-calendar0001"]}`)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	n := 0
	for _, l := range logLines(t, logs) {
		if l["msg"] == "calendar" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d calendar lines from 20 concurrent invocations, want 1", n)
	}
}
