// Package tzdb resolves IANA time zones from the time zone database embedded
// in the binary, and from nothing else (DESIGN §3.1).
//
// time.LoadLocation reads the machine's zone files first ($ZONEINFO, then
// /usr/share/zoneinfo and its like) and falls back to time/tzdata only when
// they lack the zone: the same name could then mean another zone on another
// machine, and "localtime" is whatever the machine is set to. Load reads the
// embedded copy of Go's own lib/time/zoneinfo.zip (the data time/tzdata
// embeds; the binary imports one of the two, not both; each distinct zone
// once) with
// time.LoadLocationFromTZData, which never touches the file system.
//
// A zone a request or TIME_ZONE may name is UTC or an Area/Location name of
// that database (Asia/Shanghai, America/Argentina/Buenos_Aires, Etc/GMT-8):
// Local, localtime, posixrules, Factory, EST5EDT and the right/… and posix/…
// trees are refused.
package tzdb

import (
	_ "embed" // the zone database
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// zones is Go's lib/time/zoneinfo.zip (the data time/tzdata embeds) with
// each distinct zone's data once: 598 zones, 436 distinct, written by
// internal/gen in its zones.db format. Deflated in the shipped zip it takes
// 59.6 KB where the zip's own copy took 94.8 KB (a link such as
// Asia/Chongqing repeats Asia/Shanghai's data too far away for deflate's
// window). TestEmbeddedDatabaseIsGos holds it equal to the Go that builds;
// go generate writes it again.
//
//go:generate go run ./internal/gen -o zones.db
//go:embed zones.db
var zones string

// index maps each zone name of the database to its TZif data, slices of
// zones (no copy).
var index = sync.OnceValue(func() map[string]string {
	m, err := readDB(zones)
	if err != nil {
		panic("tzdb: the embedded zone database is unreadable: " + err.Error())
	}
	return m
})

// cache holds the locations loaded so far: name → *time.Location.
var cache sync.Map

// ErrNotAZone is the error of a name that is not a zone Load resolves.
var ErrNotAZone = errors.New("not UTC or an Area/Location zone of the embedded time zone database")

// Load returns the zone name names: time.UTC for "UTC", else the
// Area/Location zone of the embedded database, never the machine's.
func Load(name string) (*time.Location, error) {
	if name == "UTC" {
		return time.UTC, nil
	}
	if loc, ok := cache.Load(name); ok {
		return loc.(*time.Location), nil
	}
	area, _, hasArea := strings.Cut(name, "/")
	data, found := index()[name]
	if !hasArea || area == "posix" || area == "right" || !found {
		return nil, fmt.Errorf("%q: %w", name, ErrNotAZone)
	}
	loc, err := time.LoadLocationFromTZData(name, []byte(data))
	if err != nil {
		return nil, fmt.Errorf("%q: %w", name, err)
	}
	cache.Store(name, loc)
	return loc, nil
}

// Names lists the Area/Location names of the embedded database, the zones
// Load resolves besides UTC, in no particular order. Read from the database's own
// index: a second list of names in the binary would be one more copy to
// keep equal (and the binary's size check counts each name).
func Names() []string {
	var out []string
	for name := range index() {
		if area, _, ok := strings.Cut(name, "/"); ok && !strings.HasSuffix(name, "/") && area != "posix" && area != "right" {
			out = append(out, name)
		}
	}
	return out
}

// readDB indexes the zones.db format (internal/gen): a first line
// "tzdb 1", one line "<name> <offset> <length>" per zone, an empty line,
// then the data the offsets point into.
func readDB(db string) (map[string]string, error) {
	head, data, ok := strings.Cut(db, "\n\n")
	lines := strings.Split(head, "\n")
	if !ok || lines[0] != "tzdb 1" {
		return nil, errors.New("not a zones.db of format 1")
	}
	out := make(map[string]string, len(lines)-1)
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("bad index line %q", line)
		}
		off, err1 := strconv.Atoi(f[1])
		n, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || off < 0 || n < 0 || off > len(data)-n {
			return nil, fmt.Errorf("bad index line %q", line)
		}
		out[f[0]] = data[off : off+n]
	}
	return out, nil
}
