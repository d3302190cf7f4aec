package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Calendar holds the dates every schedule follows: skip dates (SKIP_DATES,
// skipDates: no scheduled start on them, whatever DAYS says) and make-up
// working days (WORK_DATES, workDates: a Saturday or Sunday the holiday
// calendar makes a working day, added to `workdays` only). A date is a
// civil date, judged in each schedule's own zone. A nil *Calendar has no
// dates.
type Calendar struct {
	skip map[civil]bool
	work map[civil]bool
}

// civil is a date without a zone.
type civil struct {
	year  int
	month time.Month
	day   int
}

func civilOf(t time.Time) civil {
	y, m, d := t.Date()
	return civil{y, m, d}
}

func (c civil) String() string { return fmt.Sprintf("%04d-%02d-%02d", c.year, c.month, c.day) }

// NewCalendar reads skip dates and make-up working days, each YYYY-MM-DD.
// A make-up day that is not a Saturday or a Sunday is an error (a weekday
// is a working day already: it is a typo for another date), and so is a
// date both skipped and made a working day.
func NewCalendar(skipDates, workDates []string) (*Calendar, error) {
	c := &Calendar{skip: map[civil]bool{}, work: map[civil]bool{}}
	var errs []error
	for _, s := range skipDates {
		d, err := parseDate(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("skip date: %w", err))
			continue
		}
		c.skip[d] = true
	}
	for _, s := range workDates {
		d, err := parseDate(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("make-up working day: %w", err))
			continue
		}
		switch wd := d.weekday(); {
		case wd != time.Saturday && wd != time.Sunday:
			errs = append(errs, fmt.Errorf("make-up working day %s is a %s: it must be a Saturday or a Sunday", d, wd))
		case c.skip[d]:
			errs = append(errs, fmt.Errorf("%s is both a skip date and a make-up working day", d))
		default:
			c.work[d] = true
		}
	}
	return c, errors.Join(errs...)
}

// parseDate reads exactly YYYY-MM-DD, a real date.
func parseDate(s string) (civil, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil || t.Format(time.DateOnly) != strings.TrimSpace(s) {
		return civil{}, fmt.Errorf("%q is not a date YYYY-MM-DD", s)
	}
	return civilOf(t), nil
}

func (c civil) weekday() time.Weekday {
	return time.Date(c.year, c.month, c.day, 12, 0, 0, 0, time.UTC).Weekday()
}

// allows says whether a schedule with DAYS d may start on date c.
func (cal *Calendar) allows(d days, c civil) bool {
	if cal != nil && cal.skip[c] {
		return false
	}
	wd := c.weekday()
	if d.workdays {
		return wd != time.Saturday && wd != time.Sunday || cal != nil && cal.work[c]
	}
	return d.week&(1<<wd) != 0
}
