package schedule

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/tzdb"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := tzdb.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustParser(t testing.TB, zone string, named map[string]string) *Parser {
	t.Helper()
	p, err := NewParser(mustZone(t, zone), named)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The grammar of §3.2, `HH:MM[,HH:MM…] [DAYS] [ZONE]`, `off` or a name, any
// case: every valid spelling comes back in its canonical form.
func TestParseValid(t *testing.T) {
	p := mustParser(t, "Asia/Shanghai", map[string]string{
		"office": "08:00 workdays Asia/Shanghai",
		"Night":  "22:30 daily",
		"never":  "off",
	})
	for _, tc := range []struct{ in, want string }{
		{"08:00", "08:00 daily Asia/Shanghai"},
		{"  08:00  ", "08:00 daily Asia/Shanghai"},
		{"13:00,07:30 MON-FRI", "07:30,13:00 MON-FRI Asia/Shanghai"},
		{"08:00 workdays Asia/Shanghai", "08:00 workdays Asia/Shanghai"},
		{"09:00 SAT,SUN", "09:00 SAT,SUN Asia/Shanghai"},
		{"09:00 sat,sun", "09:00 SAT,SUN Asia/Shanghai"},
		{"09:00 mon,wed,fri utc", "09:00 MON,WED,FRI UTC"},
		{"09:00 FRI-MON", "09:00 MON,FRI-SUN Asia/Shanghai"},
		{"09:00 SUN-SAT", "09:00 daily Asia/Shanghai"},
		{"09:00 MON-MON", "09:00 MON Asia/Shanghai"},
		{"09:00 MON-WED,FRI", "09:00 MON-WED,FRI Asia/Shanghai"},
		{"00:00,23:59 America/new_york", "00:00,23:59 daily America/New_York"},
		{"06:00 WORKDAYS europe/berlin", "06:00 workdays Europe/Berlin"},
		{"06:00 DAILY etc/gmt-8", "06:00 daily Etc/GMT-8"},
		{"off", "off"},
		{" OFF ", "off"},
		{"office", "08:00 workdays Asia/Shanghai"},
		{"OFFICE", "08:00 workdays Asia/Shanghai"},
		{"night", "22:30 daily Asia/Shanghai"},
		{"never", "off"},
	} {
		s, err := p.Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := s.String(); got != tc.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
	}
	if s, _ := p.Parse("Office"); s.Name() != "office" {
		t.Errorf("a named schedule's Name is %q, want office", s.Name())
	}
}

// An invalid value is an *Error quoting the value and saying what is wrong.
func TestParseInvalid(t *testing.T) {
	p := mustParser(t, "UTC", map[string]string{"office": "08:00 workdays"})
	for _, tc := range []struct{ in, problem string }{
		{"", "empty"},
		{"   ", "empty"},
		{"8:00", `"8:00" is not a start time`},
		{"24:00", `"24:00" is not a start time`},
		{"07:60", `"07:60" is not a start time`},
		{"08:00,", "an empty start time"},
		{"08:00,08:00", "08:00 written twice"},
		{"08:00 weekdays", `"weekdays" is not daily, workdays`},
		{"08:00 MON-", `"MON-" is not`},
		{"08:00 MON,MON-FRI", "MON named twice"},
		{"08:00 FRI-MON,MON", "MON named twice"},
		{"08:00 Mars/Olympus", `zone "Mars/Olympus" is not`},
		{"08:00 Local", `"Local" is not daily`},
		{"08:00 posix/Asia/Shanghai", `zone "posix/Asia/Shanghai"`},
		{"08:00 daily UTC extra", "more than three words"},
		{"08:00 UTC daily", `"daily" after the zone`},
		{"08:00 UTC UTC", `"UTC" after the zone`},
		{"officer", "not a start time HH:MM, off, or a name SCHEDULES defines"},
		{strings.Repeat("é", 65), "not a start time HH:MM, off, or a name"}, // 130 bytes, but 65 characters: not too long
		{"08:00 " + strings.Repeat("a", 123), "longer than 128 characters"},
		{"office workdays", `"office" is not a start time`},
		{strings.Repeat("0", 129), "longer than 128 characters"},
		{"00:00,01:00,02:00,03:00,04:00,05:00,06:00,07:00,08:00,09:00,10:00,11:00,12:00", "more than 12 start times"},
	} {
		_, err := p.Parse(tc.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) = %v, want an *Error", tc.in, err)
			continue
		}
		if e.Value != tc.in || !strings.Contains(err.Error(), `"`+strings.ReplaceAll(tc.in, `"`, `\"`)+`"`) || !strings.Contains(e.Problem, tc.problem) {
			t.Errorf("Parse(%q) = %v, want the value quoted and %q", tc.in, err, tc.problem)
		}
	}
}

// SCHEDULES: a name is defined by a schedule, never by another name, and
// names are distinct ignoring case.
func TestNewParserChecksNames(t *testing.T) {
	for _, tc := range []struct {
		named   map[string]string
		problem string
	}{
		{map[string]string{"office": "08:00", "team": "office"}, "names another schedule"},
		{map[string]string{"office": "08:00", "team": " OFFICE "}, "names another schedule"},
		{map[string]string{"loop": "loop"}, "names another schedule"},
		{map[string]string{"office": "08:00", "Office": "09:00"}, "defined twice"},
		{map[string]string{"off": "08:00"}, "`off` is not a name"},
		{map[string]string{"08:00": "09:00"}, "is not a letter"},
		{map[string]string{"": "09:00"}, "1 to 64"},
		{map[string]string{"office": "8am"}, `schedule "8am": not a start time`},
	} {
		_, err := NewParser(time.UTC, tc.named)
		if err == nil || !strings.Contains(err.Error(), tc.problem) {
			t.Errorf("NewParser(%v) = %v, want %q", tc.named, err, tc.problem)
		}
	}
}

// The zone names read for case-insensitive zones are the embedded
// database's Area/Location names, no more and no fewer: every one loads
// with tzdb, and they equal the names of Go's zoneinfo.zip, which
// TestEmbeddedDatabaseIsGos holds equal to tzdb's copy.
func TestZoneNamesAreTheDatabases(t *testing.T) {
	names := slices.Sorted(maps.Values(zoneNames()))
	names = slices.DeleteFunc(names, func(n string) bool { return n == "UTC" })
	if len(names) < 400 {
		t.Fatalf("%d zone names", len(names))
	}
	for _, name := range names {
		if _, err := tzdb.Load(name); err != nil {
			t.Errorf("zone names: %v", err)
		}
	}
	want := goZoneNames(t)
	if got := strings.Join(names, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("the zone names differ from the database's %d Area/Location names", len(want))
	}
}
