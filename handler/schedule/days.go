package schedule

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/start-ecs/start-ecs/handler/tzdb"
)

// dayNames are the DAYS words for the weekdays, by time.Weekday.
var dayNames = [7]string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

// parseDays reads `daily`, `workdays`, or a list of days and ranges.
func parseDays(word string) (days, string) {
	switch strings.ToLower(word) {
	case "daily":
		return days{week: allWeek}, ""
	case "workdays":
		return days{workdays: true}, ""
	}
	var d days
	for _, item := range strings.Split(word, ",") {
		first, last, isRange := strings.Cut(item, "-")
		from, ok := weekday(first)
		to := from
		if ok && isRange {
			to, ok = weekday(last)
		}
		if !ok {
			return days{}, fmt.Sprintf("%q is not daily, workdays, a day MON…SUN or a range MON-FRI", item)
		}
		for wd := from; ; wd = (wd + 1) % 7 {
			if d.week&(1<<wd) != 0 {
				return days{}, fmt.Sprintf("%s named twice in %q", dayNames[wd], word)
			}
			d.week |= 1 << wd
			if wd == to {
				break
			}
		}
	}
	return d, ""
}

// weekday reads MON…SUN, any case.
func weekday(s string) (time.Weekday, bool) {
	for i, name := range dayNames {
		if strings.EqualFold(s, name) {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// String writes DAYS: daily, workdays, or the days with runs of three or
// more as ranges (MON-FRI, SAT,SUN), Monday first.
func (d days) String() string {
	switch {
	case d.workdays:
		return "workdays"
	case d.week == allWeek:
		return "daily"
	}
	var parts []string
	for i := 0; i < 7; {
		wd := time.Weekday((i + 1) % 7) // Monday first
		if d.week&(1<<wd) == 0 {
			i++
			continue
		}
		j := i
		for j+1 < 7 && d.week&(1<<((j+2)%7)) != 0 {
			j++
		}
		last := time.Weekday((j + 1) % 7)
		switch j - i {
		case 0:
			parts = append(parts, dayNames[wd])
		case 1:
			parts = append(parts, dayNames[wd], dayNames[last])
		default:
			parts = append(parts, dayNames[wd]+"-"+dayNames[last])
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// looksLikeZone tells a ZONE word from a DAYS word: DAYS never holds '/'.
func looksLikeZone(word string) bool {
	return strings.Contains(word, "/") || strings.EqualFold(word, "UTC")
}

// zoneNames maps each zone name of the embedded database (tzdb.Names),
// lower-cased, to its spelling, for reading a zone in any case.
var zoneNames = sync.OnceValue(func() map[string]string {
	m := map[string]string{"utc": "UTC"}
	for _, name := range tzdb.Names() {
		m[strings.ToLower(name)] = name
	}
	return m
})

// parseZone reads a zone in any case, loaded from the embedded database.
func parseZone(word string) (*time.Location, string) {
	name, ok := zoneNames()[strings.ToLower(word)]
	if !ok {
		name = word
	}
	loc, err := tzdb.Load(name)
	if err != nil {
		return nil, fmt.Sprintf("zone %q is not UTC or an Area/Location zone of the time zone database", word)
	}
	return loc, ""
}
