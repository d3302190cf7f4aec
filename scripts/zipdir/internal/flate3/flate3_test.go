package flate3

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand/v2"
	"os"
	"testing"
)

func deflate(t *testing.T, level int, data []byte, std bool) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	var err error
	if std {
		w, err = flate.NewWriter(&b, level)
	} else {
		w, err = NewWriter(&b, level)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The zip's entries must inflate with any reader (the standard library's
// here, FC's unzip in the cloud) to the bytes that went in, the same bytes
// every run (a reproducible build), and, for an executable, smaller than
// compress/flate's best level makes them: the reason the copy exists.
func TestThreeByteMatchesRoundTripSmaller(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	rnd := make([]byte, 1<<16)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range rnd {
		rnd[i] = byte(r.IntN(4)) // short repeats: 3-byte matches everywhere
	}
	for name, data := range map[string][]byte{"empty": nil, "abc": []byte("abcabcabd"), "random": rnd, "executable": bin[:min(len(bin), 4<<20)]} {
		out := deflate(t, flate.BestCompression, data, false)
		back, err := io.ReadAll(flate.NewReader(bytes.NewReader(out)))
		if err != nil || !bytes.Equal(back, data) {
			t.Fatalf("%s: does not inflate to its input (%v)", name, err)
		}
		if again := deflate(t, flate.BestCompression, data, false); !bytes.Equal(again, out) {
			t.Fatalf("%s: two runs give different bytes", name)
		}
		std := deflate(t, flate.BestCompression, data, true)
		t.Logf("%s: %d bytes, compress/flate %d", name, len(out), len(std))
		if name == "executable" && len(out) >= len(std)*99/100 {
			t.Errorf("an executable deflates to %d bytes, compress/flate's best to %d: want at least 1 %% smaller", len(out), len(std))
		}
	}
}
