// Package tzdb resolves IANA time zones from the time zone database embedded
// in the binary, and from nothing else (DESIGN §3.1).
//
// time.LoadLocation reads the machine's zone files first ($ZONEINFO, then
// /usr/share/zoneinfo and its like) and falls back to time/tzdata only when
// they lack the zone: the same name could then mean another zone on another
// machine, and "localtime" is whatever the machine is set to. Load reads the
// embedded copy of Go's own lib/time/zoneinfo.zip (the data time/tzdata
// embeds; the binary imports one of the two, not both) with
// time.LoadLocationFromTZData, which never touches the file system.
//
// A zone a request or TIME_ZONE may name is UTC or an Area/Location name of
// that database (Asia/Shanghai, America/Argentina/Buenos_Aires, Etc/GMT-8):
// Local, localtime, posixrules, Factory, EST5EDT and the right/… and posix/…
// trees are refused.
package tzdb

import (
	_ "embed" // the zone database
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// zoneinfo is Go's lib/time/zoneinfo.zip, stored (not compressed), as
// time/tzdata embeds it. TestEmbeddedDatabaseIsGos holds it equal to the Go
// that builds; go generate copies it again.
//
//go:generate sh -c "cp \"$(go env GOROOT)/lib/time/zoneinfo.zip\" zoneinfo.zip"
//go:embed zoneinfo.zip
var zoneinfo string

// index maps each zone name of the database to its TZif data, slices of
// zoneinfo (no copy).
var index = sync.OnceValue(func() map[string]string {
	m, err := readZip(zoneinfo)
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
// Load resolves besides UTC, in no particular order. Read from the zip's own
// directory: a second list of names in the binary would be one more copy to
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

// readZip indexes a zip archive of stored files by name, as time's own
// reader of zoneinfo.zip does: the central directory, then each file's local
// header for where its data starts.
func readZip(z string) (map[string]string, error) {
	const (
		eocdSig    = 0x06054b50
		centralSig = 0x02014b50
		localSig   = 0x04034b50
		eocdLen    = 22
	)
	u16 := func(off int) int { return int(binary.LittleEndian.Uint16([]byte(z[off : off+2]))) }
	u32 := func(off int) int { return int(binary.LittleEndian.Uint32([]byte(z[off : off+4]))) }
	if len(z) < eocdLen || u32(len(z)-eocdLen) != eocdSig {
		return nil, errors.New("no end of central directory")
	}
	eocd := len(z) - eocdLen
	n, off := u16(eocd+10), u32(eocd+16)
	out := make(map[string]string, n)
	for range n {
		if off+46 > len(z) || u32(off) != centralSig {
			return nil, errors.New("bad central directory entry")
		}
		method, size := u16(off+10), u32(off+24)
		nameLen, extraLen, commentLen, local := u16(off+28), u16(off+30), u16(off+32), u32(off+42)
		if off+46+nameLen > len(z) || local+30 > len(z) || u32(local) != localSig {
			return nil, errors.New("bad file header")
		}
		name := z[off+46 : off+46+nameLen]
		start := local + 30 + u16(local+26) + u16(local+28)
		if method != 0 || start+size > len(z) {
			return nil, fmt.Errorf("%s: not a stored file", name)
		}
		if !strings.HasSuffix(name, "/") {
			out[name] = z[start : start+size]
		}
		off += 46 + nameLen + extraLen + commentLen
	}
	return out, nil
}
