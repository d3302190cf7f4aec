// Command zipdir writes a reproducible zip of the regular files under a folder:
// the code package that Function Compute's go1 runtime takes. Two runs over the
// same files give the same bytes, so a release can be rebuilt and compared.
//
// Usage:
//
//	go run ./scripts/zipdir -o dist/start-ecs.zip FOLDER
//
// Entries are sorted by name and carry a fixed time. Modes are normalised — 0755
// for a file with any execute bit, 0644 otherwise — so that the umask of the
// machine that built the binary does not change the archive; the runtime execs
// the handler file, so it must keep its execute bit inside the zip.
//
// Entries are deflated at flate.BestCompression: the function's binary is
// the whole package, and FC's code size, the shipped zip's 4 MiB budget and
// the cold start's download all count its bytes. The standard library's
// flate is deterministic for a given level, so the bytes stay reproducible.
package main

import (
	"archive/zip"
	"compress/flate"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// fixedTime is every entry's modification time. Zip stores local DOS times without
// a zone, so a UTC constant keeps the bytes independent of TZ and of the clock.
var fixedTime = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("o", "", "zip file to write")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: zipdir -o OUT.zip FOLDER")
		os.Exit(2)
	}
	if err := zipDir(*out, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "zipdir:", err)
		os.Exit(1)
	}
}

func zipDir(out, dir string) error {
	var names []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				return err
			}
			names = append(names, filepath.ToSlash(rel))
		} else if !d.IsDir() {
			return fmt.Errorf("%s: only regular files can be packaged", path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return fmt.Errorf("%s holds no files", dir)
	}
	sort.Strings(names)

	// Written next to the target and renamed, so that a failed run never leaves
	// a truncated zip where a deploy would pick it up.
	tmp, err := os.CreateTemp(filepath.Dir(out), ".zipdir-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	zw := zip.NewWriter(tmp)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	for _, name := range names {
		if err := addFile(zw, dir, name); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := errors.Join(zw.Close(), tmp.Close()); err != nil {
		return err
	}
	// A release artifact is read by deploy tools and other users.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil { //nolint:gosec // G302: see above
		return err
	}
	return os.Rename(tmp.Name(), out)
}

func addFile(zw *zip.Writer, dir, name string) error {
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(name))) //nolint:gosec // G304: zipping the directory the caller names is the job
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	hdr := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: fixedTime}
	mode := fs.FileMode(0o644)
	if info.Mode().Perm()&0o111 != 0 {
		mode = 0o755
	}
	hdr.SetMode(mode)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}
