package tzdb

import (
	"archive/zip"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeZones is a ZONEINFO directory whose Asia/Shanghai is UTC+5 (Etc/GMT-5's
// data) and which has a localtime: a machine whose zone files disagree with
// the embedded database.
var fakeZones string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tzdb")
	if err != nil {
		panic(err)
	}
	plus5 := index()["Etc/GMT-5"]
	for _, name := range []string{"Asia/Shanghai", "localtime", "Europe/Atlantis"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			panic(err)
		}
		if err := os.WriteFile(p, []byte(plus5), 0o644); err != nil {
			panic(err)
		}
	}
	fakeZones = dir
	// Before any time.LoadLocation of this process: time reads it once.
	os.Setenv("ZONEINFO", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// offset is loc's offset from UTC in seconds on 2026-07-01.
func offset(loc *time.Location) int {
	_, off := time.Date(2026, 7, 1, 0, 0, 0, 0, loc).Zone()
	return off
}

// DESIGN §3.1: zones are always resolved from the embedded database, never
// from the machine's files, which time.LoadLocation prefers.
func TestZonesComeFromTheEmbeddedDatabase(t *testing.T) {
	sys, err := time.LoadLocation("Asia/Shanghai")
	if err != nil || offset(sys) != 5*3600 {
		t.Fatalf("premise: time.LoadLocation reads the machine's (fake, UTC+5) Asia/Shanghai: %v %v", sys, err)
	}
	loc, err := Load("Asia/Shanghai")
	if err != nil || offset(loc) != 8*3600 {
		t.Fatalf("Load(Asia/Shanghai) = %v (offset %d), %v; want UTC+8 from the embedded database", loc, offset(loc), err)
	}
	// A zone only the machine has is no zone.
	if _, err := time.LoadLocation("Europe/Atlantis"); err != nil {
		t.Fatalf("premise: the machine has Europe/Atlantis: %v", err)
	}
	if _, err := Load("Europe/Atlantis"); !errors.Is(err, ErrNotAZone) {
		t.Errorf("Load(Europe/Atlantis) = %v, want ErrNotAZone", err)
	}
}

// DESIGN §3.1: a zone is UTC or an Area/Location name of the embedded
// database; Local, localtime (the machine's own zone, what refusing Local
// meant to prevent), posixrules, Factory, right/… and posix/… are not.
func TestOnlyUTCOrAreaLocation(t *testing.T) {
	for _, name := range []string{"UTC", "Asia/Shanghai", "Pacific/Pago_Pago", "America/Argentina/Buenos_Aires", "Etc/GMT-8", "Etc/UTC", "America/New_York"} {
		if _, err := Load(name); err != nil {
			t.Errorf("Load(%q): %v", name, err)
		}
	}
	for _, name := range []string{"", "Local", "localtime", "posixrules", "Factory", "right/UTC", "right/Asia/Shanghai",
		"posix/Asia/Shanghai", "EST5EDT", "GMT", "PRC", "UCT", "utc", "asia/shanghai", "Asia/Shanghai ", "/etc/localtime",
		"../zoneinfo/UTC", "Asia/../UTC", "Asia/", "Asia"} {
		if loc, err := Load(name); !errors.Is(err, ErrNotAZone) {
			t.Errorf("Load(%q) = %v, %v; want ErrNotAZone", name, loc, err)
		}
	}
}

// The embedded database is the one of the Go that builds, zone by zone
// and byte for byte (go generate in this directory writes it again when Go
// is upgraded); each distinct zone's data is in it once.
func TestEmbeddedDatabaseIsGos(t *testing.T) {
	out, err := exec.CommandContext(t.Context(), "go", "env", "GOROOT").Output()
	if err != nil {
		t.Skip("no go command:", err)
	}
	z, err := zip.OpenReader(filepath.Join(strings.TrimSpace(string(out)), "lib", "time", "zoneinfo.zip"))
	if err != nil {
		t.Skip("no lib/time/zoneinfo.zip in GOROOT:", err)
	}
	defer z.Close()
	const regenerate = "run go generate ./handler/tzdb"
	got := index()
	files := 0
	for _, f := range z.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		files++
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		want, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := got[f.Name]; !ok || d != string(want) {
			t.Errorf("%s: the embedded data differs from this Go's zoneinfo.zip (%d bytes, found %v): %s", f.Name, len(want), ok, regenerate)
		}
	}
	if files != len(got) || files < 500 {
		t.Errorf("%d zones embedded, this Go's zoneinfo.zip has %d: %s", len(got), files, regenerate)
	}
	distinct := map[string]bool{}
	for _, d := range got {
		distinct[d] = true
	}
	_, data, _ := strings.Cut(zones, "\n\n")
	size := 0
	for d := range distinct {
		size += len(d)
	}
	if size != len(data) {
		t.Errorf("the data holds %d bytes, the %d distinct zones %d: a zone's data is in it twice", len(data), len(distinct), size)
	}
}

// readDB refuses what is not an index it can trust: an offset or a length
// past the data is an error, never a slice out of range.
func TestReadDBRefusesBadIndexes(t *testing.T) {
	for _, db := range []string{"", "tzdb 2\n\n", "tzdb 1\nA/B 0 5\n\nabc", "tzdb 1\nA/B -1 1\n\nabc", "tzdb 1\nA/B 2 x\n\nabc", "tzdb 1\nA/B 0\n\nabc", "tzdb 1\nA/B 0 3"} {
		if m, err := readDB(db); err == nil {
			t.Errorf("readDB(%q) = %v, want an error", db, m)
		}
	}
	m, err := readDB("tzdb 1\nA/B 0 3\nA/C 1 2\n\nabc")
	if err != nil || m["A/B"] != "abc" || m["A/C"] != "bc" {
		t.Errorf("readDB = %v, %v", m, err)
	}
}
