package schedule

import (
	"slices"
	"time"
)

// Longest window Due accepts: a timer's period is 1m to 24h (§3.2).
const (
	MinEvery = time.Minute
	MaxEvery = 24 * time.Hour
)

// Due says whether s is due in the tick at t with period every: whether
// one of its start times, on a day its DAYS and cal allow, falls in the
// window (t − every, t]. It returns that start time (the earliest, if the
// window holds several), in the schedule's zone. Consecutive ticks' windows
// meet without overlapping, so a start time is due in exactly one tick; a
// tick sent again for the same t finds the same start time. every outside
// MinEvery..MaxEvery, or an Off schedule, is never due.
func Due(s Schedule, t time.Time, every time.Duration, cal *Calendar) (time.Time, bool) {
	if s.Off() || every < MinEvery || every > MaxEvery {
		return time.Time{}, false
	}
	moments := s.between(t.Add(-every), t, cal, 1)
	if len(moments) == 0 {
		return time.Time{}, false
	}
	return moments[0], true
}

// Next lists s's start times in (from, from+period], cal applied, at most
// most of them, ascending, each a time.Time in the schedule's zone (format
// with time.RFC3339 for the zone's offset). period is bounded by the caller
// (preview: 1h to 31d).
func Next(s Schedule, from time.Time, period time.Duration, cal *Calendar, most int) []time.Time {
	if s.Off() || period <= 0 || most <= 0 {
		return nil
	}
	return s.between(from, from.Add(period), cal, most)
}

// between lists the start times in (after, until], at most most, ascending.
// It reads every date of the zone from the day before after's date to the
// day after until's, so that a window across midnight, or one that a
// daylight-saving shift moves across a date, misses nothing.
func (s Schedule) between(after, until time.Time, cal *Calendar, most int) []time.Time {
	var out []time.Time
	first := civilOf(after.In(s.zone))
	last := civilOf(until.In(s.zone))
	day := time.Date(first.year, first.month, first.day-1, 12, 0, 0, 0, time.UTC)
	end := time.Date(last.year, last.month, last.day+1, 12, 0, 0, 0, time.UTC)
	for ; !day.After(end); day = day.AddDate(0, 0, 1) {
		c := civilOf(day)
		if !cal.allows(s.days, c) {
			continue
		}
		for _, m := range s.times {
			at := resolve(c, m, s.zone)
			if at.After(after) && !at.After(until) && !slices.ContainsFunc(out, at.Equal) {
				out = append(out, at)
			}
		}
		if len(out) >= most { // enough: a later date only adds later times
			break
		}
	}
	// An insertion sort: a few dozen times, mostly in order already; and
	// no generic sort instantiated for time.Time in the shipped binary.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Before(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	if len(out) > most {
		out = out[:most]
	}
	return out
}

// resolve is the moment of wall time minute on date c in zone. A wall time
// that the zone skips that day (the spring-forward gap) is the first
// minute after the gap, the moment the clocks jump; one it shows twice (the
// fall-back overlap) is its first occurrence. time.Date guarantees neither.
func resolve(c civil, minute int, zone *time.Location) time.Time {
	wall := time.Date(c.year, c.month, c.day, minute/60, minute%60, 0, 0, time.UTC).Unix()
	// The zone's offsets a day either side of the wall time: a zone changes
	// its offset at most once in two days.
	_, before := time.Unix(wall-86400, 0).In(zone).Zone()
	_, after := time.Unix(wall+86400, 0).In(zone).Zone()
	var found []int64
	for _, off := range []int{before, after} {
		u := wall - int64(off)
		if _, o := time.Unix(u, 0).In(zone).Zone(); o == off {
			found = append(found, u)
		}
	}
	if len(found) > 0 {
		return time.Unix(slices.Min(found), 0).In(zone)
	}
	// In the gap: read with the earlier offset, the wall time is past the
	// jump; the zone period in effect then began at the jump.
	t := time.Unix(wall-int64(before), 0).In(zone)
	if start, _ := t.ZoneBounds(); !start.IsZero() {
		return start.In(zone)
	}
	return t
}
