package schedule

import (
	"fmt"
	"testing"
	"time"
)

// oracle lists s's start moments over (from, until] by reading the zone's
// wall clock minute by minute, independently of resolve: a moment is the
// first instant whose wall clock shows a start time on an allowed date, and
// when the clock jumps forward, start times it jumped over are taken at the
// instant after the jump.
func oracle(s Schedule, from, until time.Time, cal *Calendar) []time.Time {
	isStart := map[int]bool{}
	for _, m := range s.times {
		isStart[m] = true
	}
	seen := map[string]bool{} // date and minute already started
	var out []time.Time
	prev := from.In(s.zone)
	for u := from.Add(time.Minute); !u.After(until); u = u.Add(time.Minute) {
		w := u.In(s.zone)
		c := civilOf(w)
		wallMinute := w.Hour()*60 + w.Minute()
		// The wall minutes this instant stands for: itself, and those the
		// clock jumped over since prev.
		first := wallMinute
		pc, pm := civilOf(prev), prev.Hour()*60+prev.Minute()
		switch {
		case pc == c && wallMinute > pm+1:
			first = pm + 1
		case pc.before(c):
			first = 0
		}
		due := false
		for m := first; m <= wallMinute; m++ {
			key := fmt.Sprint(c, m)
			if isStart[m] && !seen[key] && cal.allows(s.days, c) {
				due = true
			}
			seen[key] = true
		}
		if due {
			out = append(out, w)
		}
		prev = w
	}
	return out
}

// §3.2: consecutive ticks T, T+every, T+2·every… have windows that meet, so
// that every start time is due in exactly one tick: never twice (the
// fall-back overlap repeats an hour of wall clock), never skipped (the
// spring-forward gap removes one), across midnight, the calendar and zones
// on either side of UTC. Due must report, tick by tick, the earliest moment
// the minute-by-minute oracle finds in that tick's window.
func TestEveryStartTimeIsDueOnce(t *testing.T) {
	china := mustCalendar(t, springFestival2026, makeUp2026)
	p := mustParser(t, "UTC", nil)
	spans := []struct {
		schedule string
		from     string
		days     int
		cal      *Calendar
	}{
		{"00:00,01:30,02:00,02:30,03:00,23:59 America/New_York", "2026-03-06T00:00:00Z", 4, nil},
		{"00:00,00:59,01:00,01:30,01:59,02:00 America/New_York", "2026-10-30T00:00:00Z", 4, nil},
		{"00:00,08:00,23:55 workdays Asia/Shanghai", "2026-02-12T00:00:00Z", 18, china},
		{"07:30,13:00 SAT,SUN Asia/Shanghai", "2026-02-12T00:00:00Z", 18, china},
		{"00:30,02:15 FRI-MON Australia/Lord_Howe", "2026-04-02T00:00:00Z", 5, nil}, // a 30-minute shift
		{"02:30 America/New_York", "2026-03-06T00:00:00Z", 4, nil},
		{"02:15,02:45 daily Australia/Lord_Howe", "2026-10-02T00:00:00Z", 4, nil}, // 02:00 jumps to 02:30
		{"00:00,03:00 daily America/Los_Angeles", "2026-11-29T00:00:00Z", 3, nil},
	}
	for _, sp := range spans {
		s, err := p.Parse(sp.schedule)
		if err != nil {
			t.Fatal(err)
		}
		from := at(t, sp.from)
		until := from.Add(time.Duration(sp.days) * 24 * time.Hour)
		want := oracle(s, from, until, sp.cal)
		if len(want) == 0 {
			t.Fatalf("%q: the oracle found no start time", sp.schedule)
		}
		if got := Next(s, from, until.Sub(from), sp.cal, 1000); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%q: Next = %v\n oracle = %v", sp.schedule, got, want)
		}
		for _, every := range []time.Duration{time.Minute, 5 * time.Minute, 7 * time.Minute, time.Hour, 24 * time.Hour} {
			checkTicks(t, s, from, until, every, sp.cal, want)
		}
	}
}

// checkTicks runs the ticks from+every, from+2·every… up to until and holds
// each one's Due to the earliest oracle moment in its window.
func checkTicks(t *testing.T, s Schedule, from, until time.Time, every time.Duration, cal *Calendar, want []time.Time) {
	t.Helper()
	i, dueTicks := 0, 0
	for tick := from.Add(every); !tick.After(until); tick = tick.Add(every) {
		var expect *time.Time
		first := i
		for i < len(want) && !want[i].After(tick) {
			if i == first {
				expect = &want[i]
			}
			i++
		}
		got, due := Due(s, tick, every, cal)
		if due {
			dueTicks++
		}
		switch {
		case expect == nil && due:
			t.Errorf("%s every %v: tick %s due at %s, which no start time makes", s, every, tick.Format(time.RFC3339), got.Format(time.RFC3339))
		case expect != nil && (!due || !got.Equal(*expect)):
			t.Errorf("%s every %v: tick %s = %s, %v; want %s", s, every, tick.Format(time.RFC3339), got.Format(time.RFC3339), due, expect.Format(time.RFC3339))
		}
	}
	if every == time.Minute && dueTicks != len(want) {
		t.Errorf("%s every 1m: %d ticks due for %d start times", s, dueTicks, len(want))
	}
}

func (c civil) before(d civil) bool {
	return time.Date(c.year, c.month, c.day, 0, 0, 0, 0, time.UTC).Before(time.Date(d.year, d.month, d.day, 0, 0, 0, 0, time.UTC))
}
