// Command gen writes handler/tzdb's zones.db from a zoneinfo.zip (Go's
// lib/time/zoneinfo.zip by default): the same zones and the same TZif bytes,
// with each distinct zone's data once.
//
// Go's zip holds 598 files of which 436 are distinct (a link such as
// Asia/Chongqing is a second copy of Asia/Shanghai's data), stored
// uncompressed and far apart, where the package's deflate window cannot
// see that the copies repeat. zones.db writes each distinct data once, in
// the order of the first name that has it (zones of one area are alike
// and compress well side by side), after a text index:
//
//	tzdb 1\n
//	<name> <offset> <length>\n   (one line per zone, in name order)
//	\n
//	<the distinct TZif data, concatenated>
//
// Offsets count from the start of the data. Usage:
//
//	go run ./internal/gen [-zip PATH] [-o zones.db]
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	zipPath := flag.String("zip", "", "the zoneinfo.zip to read (default: $(go env GOROOT)/lib/time/zoneinfo.zip)")
	out := flag.String("o", "zones.db", "the file to write")
	flag.Parse()
	if err := run(*zipPath, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(zipPath, out string) error {
	if zipPath == "" {
		goroot, err := exec.CommandContext(context.Background(), "go", "env", "GOROOT").Output()
		if err != nil {
			return fmt.Errorf("go env GOROOT: %w", err)
		}
		zipPath = filepath.Join(strings.TrimSpace(string(goroot)), "lib", "time", "zoneinfo.zip")
	}
	zones, err := readZip(zipPath)
	if err != nil {
		return err
	}
	return os.WriteFile(out, Encode(zones), 0o644) //nolint:gosec // G306: a source file of the repository, read by everyone
}

// readZip returns the files of a zip by name (directories left out).
func readZip(path string) (map[string][]byte, error) {
	r, err := zip.OpenReader(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	zones := make(map[string][]byte, len(r.File))
	for _, f := range r.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		zones[f.Name] = data
	}
	return zones, nil
}

// Encode writes zones in the zones.db format.
func Encode(zones map[string][]byte) []byte {
	names := make([]string, 0, len(zones))
	for name := range zones {
		names = append(names, name)
	}
	sort.Strings(names)
	var index, data bytes.Buffer
	index.WriteString("tzdb 1\n")
	at := map[string]int{} // distinct data → its offset
	for _, name := range names {
		d := zones[name]
		off, ok := at[string(d)]
		if !ok {
			off = data.Len()
			at[string(d)] = off
			data.Write(d)
		}
		fmt.Fprintf(&index, "%s %d %d\n", name, off, len(d))
	}
	index.WriteString("\n")
	index.Write(data.Bytes())
	return index.Bytes()
}
