package handler

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/start-ecs/start-ecs/handler/plan"
)

// calendarHorizonDays is how far ahead SKIP_DATES must reach: a holiday
// calendar whose last date is at most this many days after today is
// running out (DESIGN §9, the calendar).
const calendarHorizonDays = 30

// calendarState remembers the day, in TIME_ZONE, on which the process last
// wrote its calendar line, so that it writes one a day however many
// invocations run at once.
type calendarState struct {
	lastDay atomic.Int64 // days since 1970-01-01 of TIME_ZONE's date, +1; 0 = never
}

// calendarEnd says, at now, whether SKIP_DATES is running out: its last
// date (as SKIP_DATES writes it) and how many days after today, in
// TIME_ZONE, that is (negative once it has passed). ok is false when
// SKIP_DATES is unset or holds a date more than 30 days ahead.
func (h *Handler) calendarEnd(now time.Time) (last string, daysAhead int, ok bool) {
	last = h.cfg.LastSkipDate // found once, when the configuration is read
	if last == "" {
		return "", 0, false
	}
	end, err := time.Parse(plan.DateLayout, last)
	if err != nil {
		return "", 0, false
	}
	daysAhead = int(end.Sub(dayOf(now, h.zone())).Hours() / 24)
	return last, daysAhead, daysAhead <= calendarHorizonDays
}

// calendarEnds is SKIP_DATES's last date while it holds none more than 30
// days ahead of now, else "": what notify.Context.CalendarEnds takes.
func (h *Handler) calendarEnds(now time.Time) string {
	last, _, ok := h.calendarEnd(now)
	if !ok {
		return ""
	}
	return last
}

// calendarNote is the note notifications carry while SKIP_DATES is running
// out, or "" (DESIGN §9, the calendar).
func (h *Handler) calendarNote(now time.Time) string {
	if last := h.calendarEnds(now); last != "" {
		return "the holiday calendar ends on " + last
	}
	return ""
}

// logCalendar writes the invocation's calendar line at WARN when SKIP_DATES
// is running out and no invocation of this process has written one today
// (a day of TIME_ZONE): one line a day per process, found by an alert
// before the calendar runs out.
func (h *Handler) logCalendar(inv *invocation) {
	last, days, ok := h.calendarEnd(inv.Start)
	if !ok {
		return
	}
	today := int64(dayOf(inv.Start, h.zone()).Unix()/86400) + 1
	for {
		seen := h.calendar.lastDay.Load()
		if seen == today {
			return
		}
		if h.calendar.lastDay.CompareAndSwap(seen, today) {
			break
		}
	}
	inv.log.LogAttrs(context.Background(), slog.LevelWarn, "calendar",
		slog.String("requestId", inv.requestID), slog.String("lastSkipDate", last),
		slog.Int("daysAhead", days),
		slog.String("message", fmt.Sprintf("the holiday calendar ends on %s: SKIP_DATES holds no date more than %d days ahead; extend it", last, calendarHorizonDays)))
}

func (h *Handler) zone() *time.Location {
	if h.cfg.TimeZone == nil {
		return time.UTC
	}
	return h.cfg.TimeZone
}

// dayOf is the midnight, read as UTC, of t's date in zone: two dates'
// difference is a whole number of days whatever the zone's offsets.
func dayOf(t time.Time, zone *time.Location) time.Time {
	y, m, d := t.In(zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
