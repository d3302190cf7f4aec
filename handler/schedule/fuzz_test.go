package schedule

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// FuzzParse: no value panics or takes long (parsing is bounded by MaxLen),
// an invalid one is an *Error quoting it, and a valid one round-trips:
// String spells it within MaxLen, and that parses to the same start times,
// days and zone.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"08:00", "07:30,13:00 MON-FRI", "08:00 workdays Asia/Shanghai", "09:00 SAT,SUN",
		"09:00 fri-mon utc", "00:00,23:59 daily America/Argentina/ComodRivadavia", "off", "OFF", "office",
		"08:00,08:00", "24:00", "8:00", "08:00 MON,MON", "08:00 Local", "08:00 posix/UTC", "",
		"00:00,01:00,02:00,03:00,04:00,05:00,06:00,07:00,08:00,09:00,10:00,11:00 MON,TUE,THU,FRI,SUN America/Argentina/ComodRivadavia",
		"08:00 MON-WED,FRI-SUN etc/gmt+12", "08:00\tworkdays\nasia/shanghai", "08:00 -", "08:00 ,", "08:00 MON--FRI",
	} {
		f.Add(seed)
	}
	p, err := NewParser(time.UTC, map[string]string{"office": "08:00 workdays Asia/Shanghai", "never": "off"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, value string) {
		start := time.Now()
		s, err := p.Parse(value)
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Fatalf("Parse(%q) took %v", value, d)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Value != value {
				t.Fatalf("Parse(%q) = %#v, want an *Error with the value", value, err)
			}
			return
		}
		text := s.String()
		if len(text) > MaxLen {
			t.Fatalf("Parse(%q).String() = %q, longer than a tag value", value, text)
		}
		again, err := p.Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q, which does not parse: %v", value, text, err)
		}
		if !slices.Equal(again.times, s.times) || again.days != s.days || zoneName(again) != zoneName(s) || again.String() != text {
			t.Fatalf("Parse(%q) = %q, which parses to %q", value, text, again)
		}
	})
}

func zoneName(s Schedule) string {
	if s.zone == nil {
		return ""
	}
	return s.zone.String()
}
