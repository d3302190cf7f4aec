// Package schedule reads the start schedules that teams write on their
// instances as a tag value, and says when each is due (DESIGN §3.2).
//
// A value is one of:
//
//   - `HH:MM[,HH:MM…] [DAYS] [ZONE]`, words separated by blanks:
//     `08:00`, `07:30,13:00 MON-FRI`, `08:00 workdays Asia/Shanghai`.
//     Start times run 00:00 to 23:59, two digits each, 1 to MaxTimes of
//     them, each once, in any order. DAYS is `daily` (the default),
//     `workdays`, or days MON…SUN as a comma-separated list of days and
//     ranges (`MON-FRI`, `MON,WED,FRI`, `SAT,SUN`); a range may wrap past
//     Sunday (`FRI-MON` is Friday to Monday) and no day may be named twice.
//     ZONE is `UTC` or an Area/Location zone of the embedded time zone
//     database (§3.1; resolved by handler/tzdb, never from the machine);
//     without one, the Parser's default zone.
//   - `off`: never started by a schedule.
//   - a name defined in SCHEDULES (Parser's named schedules), whose
//     definition is a value of the first form or `off`, never another name.
//
// Keywords, days, zones and names are case-insensitive; blanks around and
// between words are ignored. A value is at most MaxLen characters (an ECS
// tag value's limit), so parsing is bounded whatever the input.
//
// Dates are judged in each schedule's own zone, with a Calendar of skip
// dates (no scheduled start, whatever DAYS says) and make-up working days
// (a Saturday or Sunday that `workdays` includes). See Due and Next for the
// window rule and daylight saving.
package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxLen is the longest value accepted: ECS's limit on a tag value.
const MaxLen = 128

// MaxTimes is the most start times one value may hold. It keeps String of
// any valid value, its zone spelled out, within MaxLen.
const MaxTimes = 12

// Error is an invalid value: Value as written (quoted in Error) and what is
// wrong with it. The request turns it into InvalidSchedule.
type Error struct {
	Value   string
	Problem string
}

func (e *Error) Error() string {
	return fmt.Sprintf("schedule %q: %s", e.Value, e.Problem)
}

// Schedule is a parsed value. The zero Schedule is `off`.
type Schedule struct {
	times []int // minutes after midnight, ascending, distinct
	days  days
	zone  *time.Location
	name  string
}

// days is the DAYS word: workdays, or a set of weekdays (bit 1<<Weekday).
type days struct {
	workdays bool
	week     uint8
}

const allWeek = 1<<7 - 1

// Off says whether the schedule never starts its instance.
func (s Schedule) Off() bool { return len(s.times) == 0 }

// Zone is the zone the schedule's dates and times are read in (nil when Off).
func (s Schedule) Zone() *time.Location { return s.zone }

// Name is the SCHEDULES name the value named, or "".
func (s Schedule) Name() string { return s.name }

// String spells the schedule out in its canonical form (times ascending,
// DAYS and ZONE written), which parses to the same start times.
func (s Schedule) String() string {
	if s.Off() {
		return "off"
	}
	var b strings.Builder
	for i, m := range s.times {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%02d:%02d", m/60, m%60)
	}
	b.WriteByte(' ')
	b.WriteString(s.days.String())
	b.WriteByte(' ')
	b.WriteString(s.zone.String())
	return b.String()
}

// Parser parses values against a default zone and the named schedules.
type Parser struct {
	zone  *time.Location
	named map[string]Schedule // by lower-case name
}

// NewParser checks the named schedules (SCHEDULES: name → value) and
// returns a parser whose values without a zone are read in zone (nil: UTC).
// A name is 1 to 64 letters, digits, '-', '_' or '.', not `off`, distinct
// from every other name ignoring case; its value is valid and not a name.
func NewParser(zone *time.Location, named map[string]string) (*Parser, error) {
	if zone == nil {
		zone = time.UTC
	}
	p := &Parser{zone: zone, named: make(map[string]Schedule, len(named))}
	var errs []error
	for name, value := range named {
		if err := checkName(name); err != nil {
			errs = append(errs, fmt.Errorf("SCHEDULES name %q: %w", name, err))
			continue
		}
		key := strings.ToLower(name)
		if _, dup := p.named[key]; dup {
			errs = append(errs, fmt.Errorf("SCHEDULES name %q: defined twice (names ignore case)", name))
			continue
		}
		if isName(value, named) {
			errs = append(errs, fmt.Errorf("SCHEDULES %q: %w", name,
				&Error{Value: value, Problem: "names another schedule; a name must be defined by a schedule, not a name"}))
			continue
		}
		s, err := p.parse(value)
		if err != nil {
			errs = append(errs, fmt.Errorf("SCHEDULES %q: %w", name, err))
			continue
		}
		s.name = name
		p.named[key] = s
	}
	return p, errors.Join(errs...)
}

// isName says whether value is, ignoring case, one of the names.
func isName(value string, named map[string]string) bool {
	v := strings.TrimSpace(value)
	for name := range named {
		if strings.EqualFold(name, v) {
			return true
		}
	}
	return false
}

func checkName(name string) error {
	if name == "" || len(name) > 64 {
		return errors.New("a name is 1 to 64 characters")
	}
	if strings.EqualFold(name, "off") {
		return errors.New("`off` is not a name")
	}
	for _, r := range name {
		if !isNameRune(r) {
			return fmt.Errorf("%q is not a letter, digit, '-', '_' or '.'", r)
		}
	}
	return nil
}

func isNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
}

// Parse reads one tag value: off, a name of the parser's, or a schedule.
// An invalid value is an *Error.
func (p *Parser) Parse(value string) (Schedule, error) {
	v := strings.TrimSpace(value)
	if s, ok := p.named[strings.ToLower(v)]; ok && utf8.RuneCountInString(value) <= MaxLen {
		return s, nil
	}
	return p.parse(value)
}

// parse reads a value that is not a name.
func (p *Parser) parse(value string) (Schedule, error) {
	bad := func(format string, args ...any) (Schedule, error) {
		return Schedule{}, &Error{Value: value, Problem: fmt.Sprintf(format, args...)}
	}
	if utf8.RuneCountInString(value) > MaxLen {
		return bad("longer than %d characters", MaxLen)
	}
	words := strings.Fields(value)
	switch {
	case len(words) == 0:
		return bad("empty: write start times (08:00), a SCHEDULES name, or off")
	case len(words) == 1 && strings.EqualFold(words[0], "off"):
		return Schedule{}, nil
	case len(words) > 3:
		return bad("more than three words: HH:MM[,HH:MM…] [DAYS] [ZONE]")
	}
	times, problem := parseTimes(words[0])
	if problem != "" && len(words) == 1 && !strings.Contains(value, ":") {
		return bad("not a start time HH:MM, off, or a name SCHEDULES defines")
	}
	if problem != "" {
		return bad("%s", problem)
	}
	s := Schedule{times: times, days: days{week: allWeek}, zone: p.zone}
	rest := words[1:]
	if len(rest) > 0 && !looksLikeZone(rest[0]) {
		d, problem := parseDays(rest[0])
		if problem != "" {
			return bad("%s", problem)
		}
		s.days, rest = d, rest[1:]
	}
	if len(rest) > 0 {
		zone, problem := parseZone(rest[0])
		if problem != "" {
			return bad("%s", problem)
		}
		s.zone, rest = zone, rest[1:]
	}
	if len(rest) > 0 {
		return bad("%q after the zone: HH:MM[,HH:MM…] [DAYS] [ZONE]", rest[0])
	}
	return s, nil
}

// parseTimes reads `HH:MM[,HH:MM…]` into ascending minutes after midnight.
func parseTimes(word string) ([]int, string) {
	parts := strings.Split(word, ",")
	if len(parts) > MaxTimes {
		return nil, fmt.Sprintf("more than %d start times", MaxTimes)
	}
	var seen [24 * 60]bool
	for _, part := range parts {
		m, ok := parseTime(part)
		if !ok {
			if part == "" {
				return nil, "an empty start time between commas"
			}
			return nil, fmt.Sprintf("%q is not a start time HH:MM from 00:00 to 23:59", part)
		}
		if seen[m] {
			return nil, fmt.Sprintf("start time %s written twice", part)
		}
		seen[m] = true
	}
	times := make([]int, 0, len(parts))
	for m, ok := range seen {
		if ok {
			times = append(times, m)
		}
	}
	return times, ""
}

// parseTime reads exactly HH:MM, 00:00 to 23:59.
func parseTime(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}
