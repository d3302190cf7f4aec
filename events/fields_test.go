package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// decoderFields is objectFields as a json.Decoder reads it: the reference
// the scan must equal.
func decoderFields(raw []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var out []field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, field{key: k, val: v})
	}
	_, err := dec.Token()
	return out, err
}

// decoderDuplicateKey is duplicateKey as a json.Decoder reads it: the
// reference the scan must equal.
func decoderDuplicateKey(raw []byte, root string) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var (
		found string
		stop  = errors.New("stop")
		walk  func(path string) error
	)
	walk = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			var seen []string
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k, _ := kt.(string)
				p := joinPath(path, safe(k))
				// encoding/json matches a field's name with
				// bytes.EqualFold (its fold.go says so): two keys
				// it would read as one are one key given twice.
				if slices.ContainsFunc(seen, func(s string) bool { return bytes.EqualFold([]byte(s), []byte(k)) }) {
					found = p
					return stop
				}
				seen = append(seen, k)
				if err := walk(p); err != nil {
					return err
				}
			}
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := walk(path + "[" + strconv.Itoa(i) + "]"); err != nil {
					return err
				}
			}
		default:
			return nil
		}
		_, err = dec.Token()
		return err
	}
	_ = walk(root)
	return found, found != ""
}

// duplicateKey finds what the json.Decoder's walk finds, in both letter-case
// modes, in valid JSON: the sample events, every object in them and random objects with
// keys given twice at any depth.
func TestDuplicateKeyMatchesTheDecoder(t *testing.T) {
	inputs := sampleObjects(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		inputs = append(inputs, []byte(randomObject(rng, 0)), []byte("["+randomObject(rng, 1)+","+randomObject(rng, 1)+"]"))
	}
	dups := 0
	for _, in := range inputs {
		if !json.Valid(in) {
			// Its callers hand it valid JSON only; what is not has none.
			if p, ok := duplicateKey(in, "root"); ok {
				t.Errorf("%q: not valid JSON, yet %q is given twice", in, p)
			}
			continue
		}
		wp, wok := decoderDuplicateKey(in, "root")
		gp, gok := duplicateKey(in, "root")
		if wp != gp || wok != gok {
			t.Errorf("%q: scan %q %v, decoder %q %v", in, gp, gok, wp, wok)
		}
		if wok {
			dups++
		}
	}
	if dups < 1000 {
		t.Fatalf("only %d inputs with a key given twice: the test would test little", dups)
	}
}

// objectFields equals the json.Decoder's reading on every valid JSON object
// — the sample events, every object nested in them, and random objects with
// escapes, non-ASCII and invalid UTF-8 in keys, white space, nesting and
// keys given twice — and refuses what is not valid JSON.
func TestObjectFieldsMatchesTheDecoder(t *testing.T) {
	inputs := sampleObjects(t)
	rng := rand.New(rand.NewPCG(5, 7))
	for range 5000 {
		inputs = append(inputs, []byte(randomObject(rng, 0)))
	}
	for _, in := range inputs {
		want, werr := decoderFields(in)
		got, gerr := objectFields(in)
		if !json.Valid(in) {
			if gerr == nil {
				t.Errorf("%q: not valid JSON, yet read as %v", in, got)
			}
			continue
		}
		if (werr == nil) != (gerr == nil) || (werr == nil && !reflect.DeepEqual(got, want)) {
			t.Errorf("%q:\n scan    %q %v\n decoder %q %v", in, got, gerr, want, werr)
		}
	}
	for _, bad := range []string{``, ` `, `{`, `{"a":1`, `{"a":1} x`, `{"a" 1}`, `{"a":1,}`, `[1]`, `"s"`, `{"a":tru}`, "{\"a\":\"\x00\"}"} {
		if got, err := objectFields([]byte(bad)); err == nil {
			t.Errorf("%q read as %v", bad, got)
		}
	}
}

// sampleObjects is every sample event of testdata/events and every JSON
// object inside one (see objectsIn).
func sampleObjects(t *testing.T) [][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "events", "*.json"))
	if len(files) < 20 {
		t.Fatalf("%d sample events: the test would test little", len(files))
	}
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, objectsIn(b)...)
	}
	return out
}

// objectsIn is raw and every JSON object inside it, strings holding JSON too.
func objectsIn(raw []byte) [][]byte {
	out := [][]byte{raw}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return out
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			b, _ := json.Marshal(x)
			out = append(out, b)
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case string:
			if s := strings.TrimSpace(x); strings.HasPrefix(s, "{") {
				out = append(out, []byte(s))
			}
		}
	}
	walk(v)
	return out
}

// randomObject writes a JSON object (now and then an invalid one) with
// keys and values that stress a scanner.
func randomObject(rng *rand.Rand, depth int) string {
	keys := []string{`"a"`, `"instanceIds"`, `"InstanceId"`, `"\u0061"`, `"a\"b"`, `"a\\"`, `"ü"`, "\"\xff\"", `""`, `"{"`, `"}"`, `"x,y"`, `"a"`,
		// Keys encoding/json reads as one field: any case, and Unicode
		// simple folding (ſ is s, the Kelvin sign is k), escaped or not.
		`"A"`, `"Ü"`, `"s"`, `"ſ"`, `"\u017F"`, `"k"`, "\"\u212a\"", `"\u212A"`, "\"\xef\xbf\xbd\""}
	sp := []string{"", " ", "\n\t ", "\r\n"}
	var b strings.Builder
	b.WriteString(sp[rng.IntN(len(sp))] + "{")
	n, key := rng.IntN(5), func() string { return keys[rng.IntN(len(keys))] }
	if rng.IntN(8) == 0 {
		// Past foldSet's first keys, which it compares pairwise: keys
		// that differ, or that fold to one (s1 and S1, ſ1 and s1).
		n = 15 + rng.IntN(12)
		key = func() string {
			return `"` + []string{"s", "S", "ſ", "k", "\u212a"}[rng.IntN(5)] + strconv.Itoa(rng.IntN(60)) + `"`
		}
	}
	for i := range n {
		if i > 0 {
			b.WriteString(sp[rng.IntN(len(sp))] + ",")
		}
		b.WriteString(sp[rng.IntN(len(sp))] + key() + sp[rng.IntN(len(sp))] + ":" + sp[rng.IntN(len(sp))])
		b.WriteString(randomValue(rng, depth))
	}
	b.WriteString(sp[rng.IntN(len(sp))] + "}" + sp[rng.IntN(len(sp))])
	if rng.IntN(40) == 0 {
		return b.String()[:rng.IntN(b.Len()+1)] // cut short: invalid
	}
	return b.String()
}

func randomValue(rng *rand.Rand, depth int) string {
	switch n := rng.IntN(9); {
	case n == 0 && depth < 3:
		return randomObject(rng, depth+1)
	case n == 1 && depth < 3:
		return "[" + randomValue(rng, depth+1) + " , " + randomValue(rng, depth+1) + "]"
	case n == 2:
		return `"i-bp67acfmxazb4p0001"`
	case n == 3:
		return `"q\"}]\\"`
	case n == 4:
		return "-12.5e3"
	case n == 5:
		return []string{"true", "false", "null"}[rng.IntN(3)]
	case n == 6:
		return `[]`
	case n == 7:
		return `{}`
	default:
		return `"{\"nested\": [1, \"]\"]}"`
	}
}

// Read, which checks and scans a payload once, gives what ParseHTTP and then
// Decode give, on every sample payload (HTTP trigger events among them) and
// on random objects.
func TestReadIsParseHTTPThenDecode(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "events", "*"))
	var inputs [][]byte
	for _, f := range files {
		if strings.HasSuffix(f, ".md") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}
	rng := rand.New(rand.NewPCG(8, 9))
	for range 2000 {
		inputs = append(inputs, []byte(randomObject(rng, 0)))
	}
	inputs = append(inputs, []byte(""), []byte("  "), []byte("[]"), []byte(`"x"`), []byte(`{"a":1} x`))
	https := 0
	for _, in := range inputs {
		got := Read(in)
		req, ok, err := ParseHTTP(in)
		if ok {
			https++
			if !reflect.DeepEqual(got.HTTP, req) || fmt.Sprint(got.HTTPErr) != fmt.Sprint(err) || got.Messages != nil {
				t.Errorf("%.80q: Read %+v, ParseHTTP %+v %v", in, got, req, err)
			}
			continue
		}
		if want := Decode(in); got.HTTP != nil || !reflect.DeepEqual(got.Messages, want) {
			t.Errorf("%.80q: Read %+v, Decode %+v", in, got.Messages, want)
		}
	}
	if https < 3 {
		t.Fatalf("%d HTTP trigger events among the samples: the test would test little", https)
	}
}
