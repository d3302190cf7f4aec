package schedule

import (
	"slices"
	"testing"
	"time"
)

// The calendar a holiday notice gives, for the tests: the State Council's
// 2026 arrangement (国务院办公厅关于2026年部分节假日安排的通知, 2025-11-04):
// the Spring Festival holiday 2026-02-15 (Sun) to 02-23 (Mon), make-up
// working Saturdays 02-14 and 02-28.
var (
	springFestival2026 = []string{
		"2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19",
		"2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23",
	}
	makeUp2026 = []string{"2026-02-14", "2026-02-28"}
)

func mustCalendar(t testing.TB, skip, work []string) *Calendar {
	t.Helper()
	c, err := NewCalendar(skip, work)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func at(t testing.TB, rfc3339 string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// §3.2 Due: a schedule is due when a start time, on a day its DAYS and the
// calendar allow (dates in the schedule's own zone), falls in (T − every, T];
// a start time the spring-forward gap skips is taken at the first minute
// after it, one the fall-back overlap repeats at its first occurrence.
func TestDue(t *testing.T) {
	china := mustCalendar(t, springFestival2026, makeUp2026)
	p := mustParser(t, "UTC", map[string]string{"office": "08:00 workdays Asia/Shanghai"})
	for _, tc := range []struct {
		name     string
		schedule string
		tick     string // T, the timer's triggerTime
		every    time.Duration
		cal      *Calendar
		want     string // the start time that made it due, "" if not due
	}{
		// A holiday on a weekday: Monday 2026-02-23 is a skip date.
		{"holiday Monday, workdays", "08:00 workdays Asia/Shanghai", "2026-02-23T08:00:00+08:00", 5 * time.Minute, china, ""},
		{"holiday Monday, named", "office", "2026-02-23T08:00:00+08:00", 5 * time.Minute, china, ""},
		{"holiday Monday, daily: skip dates hold for every schedule", "08:00 Asia/Shanghai", "2026-02-23T08:02:00+08:00", 5 * time.Minute, china, ""},
		{"holiday Monday, MON", "08:00 MON Asia/Shanghai", "2026-02-23T08:00:00+08:00", 5 * time.Minute, china, ""},
		{"the next Monday, a working day", "08:00 workdays Asia/Shanghai", "2026-03-02T08:00:00+08:00", 5 * time.Minute, china, "2026-03-02T08:00:00+08:00"},
		{"no calendar: the holiday Monday is a Monday", "08:00 workdays Asia/Shanghai", "2026-02-23T08:00:00+08:00", 5 * time.Minute, nil, "2026-02-23T08:00:00+08:00"},
		// A make-up Saturday: workdays include it, day lists do not.
		{"make-up Saturday, workdays", "08:00 workdays Asia/Shanghai", "2026-02-14T08:03:00+08:00", 5 * time.Minute, china, "2026-02-14T08:00:00+08:00"},
		{"make-up Saturday, named", "office", "2026-02-28T08:00:00+08:00", 5 * time.Minute, china, "2026-02-28T08:00:00+08:00"},
		{"make-up Saturday, MON-FRI", "08:00 MON-FRI Asia/Shanghai", "2026-02-14T08:00:00+08:00", 5 * time.Minute, china, ""},
		{"make-up Saturday, SAT", "08:00 SAT Asia/Shanghai", "2026-02-14T08:00:00+08:00", 5 * time.Minute, china, "2026-02-14T08:00:00+08:00"},
		{"an ordinary Saturday, workdays", "08:00 workdays Asia/Shanghai", "2026-02-07T08:00:00+08:00", 5 * time.Minute, china, ""},
		// A zone east of UTC whose date differs from UTC's.
		{"Shanghai Monday is UTC Sunday", "07:00 workdays Asia/Shanghai", "2026-03-01T23:00:00Z", 5 * time.Minute, china, "2026-03-02T07:00:00+08:00"},
		{"Shanghai Sunday is UTC Saturday", "07:00 SAT Asia/Shanghai", "2026-02-28T23:00:00Z", 5 * time.Minute, china, ""},
		{"skip date judged in the zone, not in UTC", "07:00 Asia/Shanghai", "2026-02-22T23:00:00Z", 5 * time.Minute, mustCalendar(t, []string{"2026-02-22"}, nil), "2026-02-23T07:00:00+08:00"},
		{"Tokyo, east", "06:30 TUE Asia/Tokyo", "2026-03-02T21:30:00Z", time.Hour, nil, "2026-03-03T06:30:00+09:00"},
		{"Los Angeles, west: Friday evening is UTC Saturday", "20:00 workdays America/Los_Angeles", "2026-03-07T04:00:00Z", 5 * time.Minute, nil, "2026-03-06T20:00:00-08:00"},
		{"Auckland, date a day ahead", "09:00 MON Pacific/Auckland", "2026-03-01T20:00:00Z", 5 * time.Minute, nil, "2026-03-02T09:00:00+13:00"},
		// A window across midnight: the start time's own date decides.
		{"across midnight, before it", "23:58 Asia/Shanghai", "2026-03-03T00:05:00+08:00", 10 * time.Minute, nil, "2026-03-02T23:58:00+08:00"},
		{"across midnight, after it", "00:02 TUE Asia/Shanghai", "2026-03-03T00:05:00+08:00", 10 * time.Minute, nil, "2026-03-03T00:02:00+08:00"},
		{"across midnight, the earlier date's DAYS", "23:58 TUE Asia/Shanghai", "2026-03-03T00:05:00+08:00", 10 * time.Minute, nil, ""},
		{"across midnight, the earlier date skipped", "23:58 Asia/Shanghai", "2026-03-03T00:05:00+08:00", 10 * time.Minute, mustCalendar(t, []string{"2026-03-02"}, nil), ""},
		{"across midnight, earliest of two", "23:58,00:02 Asia/Shanghai", "2026-03-03T00:05:00+08:00", 10 * time.Minute, nil, "2026-03-02T23:58:00+08:00"},
		// Daylight saving in America/New_York: 2026-03-08 02:00 EST jumps to
		// 03:00 EDT; 2026-11-01 02:00 EDT falls back to 01:00 EST.
		{"gap: 02:30 is taken at 03:00 EDT", "02:30 America/New_York", "2026-03-08T07:00:00Z", time.Minute, nil, "2026-03-08T03:00:00-04:00"},
		{"gap: not at 03:30 EDT", "02:30 America/New_York", "2026-03-08T07:30:00Z", time.Minute, nil, ""},
		{"gap: not at 02:30 EST's instant", "02:30 America/New_York", "2026-03-08T07:31:00Z", time.Minute, nil, ""},
		{"gap: 03:00 itself", "03:00 America/New_York", "2026-03-08T07:00:00Z", time.Minute, nil, "2026-03-08T03:00:00-04:00"},
		{"gap: the day after, 02:30 EDT", "02:30 America/New_York", "2026-03-09T06:30:00Z", time.Minute, nil, "2026-03-09T02:30:00-04:00"},
		{"overlap: first 01:30 (EDT)", "01:30 America/New_York", "2026-11-01T05:30:00Z", time.Minute, nil, "2026-11-01T01:30:00-04:00"},
		{"overlap: not the second 01:30 (EST)", "01:30 America/New_York", "2026-11-01T06:30:00Z", time.Minute, nil, ""},
		{"overlap: 5m window over the repeated 01:30 EST", "01:30 America/New_York", "2026-11-01T06:34:00Z", 5 * time.Minute, nil, ""},
		{"overlap: 02:00 happens once, EST", "02:00 America/New_York", "2026-11-01T07:00:00Z", time.Minute, nil, "2026-11-01T02:00:00-05:00"},
		// every of 1m and 24h.
		{"1m: at the start time", "08:00 UTC", "2026-03-02T08:00:00Z", time.Minute, nil, "2026-03-02T08:00:00Z"},
		{"1m: 59s late", "08:00 UTC", "2026-03-02T08:00:59Z", time.Minute, nil, "2026-03-02T08:00:00Z"},
		{"1m: a minute late is the next window", "08:00 UTC", "2026-03-02T08:01:00Z", time.Minute, nil, ""},
		{"1m: a second early", "08:00 UTC", "2026-03-02T07:59:59Z", time.Minute, nil, ""},
		{"24h: yesterday's start time", "08:00 workdays Asia/Shanghai", "2026-03-03T07:00:00+08:00", 24 * time.Hour, china, "2026-03-02T08:00:00+08:00"},
		{"24h: the window's end is in it", "07:00 Asia/Shanghai", "2026-03-03T07:00:00+08:00", 24 * time.Hour, nil, "2026-03-03T07:00:00+08:00"},
		{"24h: the window's start is not", "07:00 Asia/Shanghai", "2026-03-03T06:59:59+08:00", 24 * time.Hour, nil, "2026-03-02T07:00:00+08:00"},
		{"24h: over the holiday Monday", "08:00 workdays Asia/Shanghai", "2026-02-24T07:00:00+08:00", 24 * time.Hour, china, ""},
		{"24h: earliest of two", "07:00,20:00 UTC", "2026-03-03T12:00:00Z", 24 * time.Hour, nil, "2026-03-02T20:00:00Z"},
		// Never due.
		{"off", "off", "2026-03-02T08:00:00Z", 24 * time.Hour, nil, ""},
		{"every over 24h", "08:00 UTC", "2026-03-02T08:00:00Z", 25 * time.Hour, nil, ""},
		{"every under 1m", "08:00 UTC", "2026-03-02T08:00:00Z", 59 * time.Second, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := p.Parse(tc.schedule)
			if err != nil {
				t.Fatal(err)
			}
			got, due := Due(s, at(t, tc.tick), tc.every, tc.cal)
			switch {
			case tc.want == "" && due:
				t.Errorf("Due(%q, %s, %v) = %s, want not due", tc.schedule, tc.tick, tc.every, got.Format(time.RFC3339))
			case tc.want != "" && (!due || got.Format(time.RFC3339) != tc.want):
				t.Errorf("Due(%q, %s, %v) = %s, %v; want %s", tc.schedule, tc.tick, tc.every, got.Format(time.RFC3339), due, tc.want)
			}
		})
	}
}

// The make-up days are Saturdays or Sundays, dates are YYYY-MM-DD, and no
// date is both skipped and worked.
func TestNewCalendarRefuses(t *testing.T) {
	for _, tc := range []struct {
		skip, work []string
	}{
		{nil, []string{"2026-02-16"}}, // a Monday
		{nil, []string{"2026-2-14"}},
		{[]string{"2026-02-30"}, nil},
		{[]string{"20260214"}, nil},
		{[]string{"2026-02-14"}, []string{"2026-02-14"}},
	} {
		if _, err := NewCalendar(tc.skip, tc.work); err == nil {
			t.Errorf("NewCalendar(%q, %q) accepted", tc.skip, tc.work)
		}
	}
	if _, err := NewCalendar(springFestival2026, append(makeUp2026, "2026-01-04")); err != nil {
		t.Errorf("the 2026 calendar: %v", err)
	}
}

// Preview (§3.2): the next start times in (from, from+period], calendar
// applied, at most max, RFC 3339 with the zone's offset.
func TestNext(t *testing.T) {
	china := mustCalendar(t, springFestival2026, makeUp2026)
	p := mustParser(t, "Asia/Shanghai", nil)
	format := func(ts []time.Time) []string {
		var out []string
		for _, v := range ts {
			out = append(out, v.Format(time.RFC3339))
		}
		return out
	}
	s, _ := p.Parse("08:00 workdays")
	got := format(Next(s, at(t, "2026-02-13T08:00:00+08:00"), 7*24*time.Hour, china, 50))
	// The make-up Saturday, then the Spring Festival holiday to the week's end.
	want := []string{"2026-02-14T08:00:00+08:00"}
	if !slices.Equal(got, want) {
		t.Errorf("Next over the holiday week = %v, want %v", got, want)
	}
	got = format(Next(s, at(t, "2026-02-24T00:00:00+08:00"), 7*24*time.Hour, china, 50))
	want = []string{"2026-02-24T08:00:00+08:00", "2026-02-25T08:00:00+08:00", "2026-02-26T08:00:00+08:00",
		"2026-02-27T08:00:00+08:00", "2026-02-28T08:00:00+08:00", "2026-03-02T08:00:00+08:00"}
	if !slices.Equal(got, want) {
		t.Errorf("Next over the make-up week = %v, want %v", got, want)
	}
	ny, _ := p.Parse("01:30,02:30 America/New_York")
	got = format(Next(ny, at(t, "2026-03-07T12:00:00Z"), 48*time.Hour, nil, 50))
	want = []string{"2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-09T01:30:00-04:00", "2026-03-09T02:30:00-04:00"}
	if !slices.Equal(got, want) {
		t.Errorf("Next over the gap = %v, want %v", got, want)
	}
	gap, _ := p.Parse("02:10,02:40,03:00 America/New_York")
	got = format(Next(gap, at(t, "2026-03-08T00:00:00-05:00"), 12*time.Hour, nil, 50))
	if want = []string{"2026-03-08T03:00:00-04:00"}; !slices.Equal(got, want) {
		t.Errorf("three start times in or at the gap = %v, want one moment %v", got, want)
	}
	every, _ := p.Parse("00:00,06:00,12:00,18:00")
	if got := Next(every, at(t, "2026-03-01T00:00:00Z"), 31*24*time.Hour, nil, 50); len(got) != 50 {
		t.Errorf("Next(max 50) gave %d", len(got))
	}
	if got := Next(Schedule{}, at(t, "2026-03-01T00:00:00Z"), 24*time.Hour, nil, 50); got != nil {
		t.Errorf("Next(off) = %v", got)
	}
}
