package events

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The JSON scanner: what the decoders read of a JSON value that json.Valid
// has passed, without a json.Decoder's tokens (they cost a direct invoke's
// decoding half its time). A scan finds an object's keys in the
// order sent, duplicates kept, and the span of each value; keys are compared
// as encoding/json matches them to a struct's fields (DESIGN §5); white space
// is JSON's own and nothing else. TestObjectFieldsMatchesTheDecoder and
// TestDuplicateKeyMatchesTheDecoder hold the scan equal to encoding/json;
// jsonString, jsonBool and jsonKind read one scanned value.

// field is one key of a JSON object (or of a form) and its value, in the order
// sent: a key given twice appears twice, so that it is seen (DESIGN §5).
type field struct {
	key string
	val json.RawMessage
}

// objectFields reads the keys of the JSON object raw in the order sent,
// duplicates kept. Once json.Valid has passed raw, a scan of its top level
// finds each key and the span of its value, which is all this needs: a
// json.Decoder's tokens cost a direct invoke's decoding half its time
// (TestObjectFieldsMatchesTheDecoder holds the two equal).
func objectFields(raw []byte) ([]field, error) {
	if !json.Valid(raw) {
		return nil, errors.New("not valid JSON")
	}
	return scanObject(raw)
}

// scanObject is objectFields of raw that has passed json.Valid already (a
// payload decodeValue or Read checked, an element of an array
// json.Unmarshal read), so that no payload is checked twice.
func scanObject(raw []byte) ([]field, error) {
	i := skipSpace(raw, 0)
	if raw[i] != '{' {
		return nil, errors.New("not a JSON object")
	}
	var out []field
	for i = skipSpace(raw, i+1); raw[i] != '}'; i = skipSpace(raw, i) {
		if raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
		end := valueEnd(raw, i) // the key, a string
		key, err := jsonKey(raw[i:end])
		if err != nil {
			return nil, err
		}
		i = skipSpace(raw, skipSpace(raw, end)+1) // past the ':'
		end = valueEnd(raw, i)
		out = append(out, field{key: key, val: json.RawMessage(raw[i:end:end])})
		i = end
	}
	return out, nil
}

// skipSpace is the index of the first byte at or after i that is not JSON
// white space.
func skipSpace(raw []byte, i int) int {
	for i < len(raw) && isJSONSpace(raw[i]) {
		i++
	}
	return i
}

// valueEnd is the index just past the JSON value that starts at i in raw,
// which json.Valid has passed.
func valueEnd(raw []byte, i int) int {
	switch raw[i] {
	case '"':
		for i++; raw[i] != '"'; i++ {
			if raw[i] == '\\' {
				i++
			}
		}
		return i + 1
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch raw[i] {
			case '"':
				i = valueEnd(raw, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	default: // a number, true, false or null
		for i < len(raw) && !strings.ContainsRune(",}] \t\n\r", rune(raw[i])) {
			i++
		}
		return i
	}
}

// jsonKey is the string the JSON string q (quotes included) holds. One
// without escapes or bytes past ASCII is its bytes; any other goes through
// the JSON decoder, so that escapes and invalid UTF-8 read as they always
// did.
func jsonKey(q []byte) (string, error) {
	plain := true
	for _, c := range q[1 : len(q)-1] {
		if c == '\\' || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return string(q[1 : len(q)-1]), nil
	}
	var k string
	err := json.Unmarshal(q, &k)
	return k, err
}

// foldKey is the key k as encoding/json matches a struct's field names: two
// keys with the same foldKey are one field to it (DESIGN §5), so the function
// takes them for one key given twice. It is encoding/json's own rule
// (foldName in its fold.go, the same as bytes.EqualFold): ASCII letters in any
// case, and every other rune by Unicode simple folding, so that 'ſ' (U+017F)
// is 's' and the Kelvin sign 'K' (U+212A) is 'k'. An ASCII key without a
// lower-case letter is its own fold, with no copy.
func foldKey(k string) string {
	plain := true
	for i := 0; i < len(k); i++ {
		if c := k[i]; c >= utf8.RuneSelf || ('a' <= c && c <= 'z') {
			plain = false
			break
		}
	}
	if plain {
		return k
	}
	out := make([]byte, 0, len(k))
	for i := 0; i < len(k); {
		if c := k[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(k[i:])
		out = utf8.AppendRune(out, foldRune(r))
		i += n
	}
	return string(out)
}

// foldSet holds the keys of one JSON object to find two that encoding/json
// would read as one field. An object's first keys are compared pairwise with
// strings.EqualFold (the same rule as foldKey, and as bytes.EqualFold, which
// encoding/json's fold.go names as its own), without allocating; past
// foldSmall keys, a map of foldKey serves.
type foldSet struct {
	small  [foldSmall]string
	n      int
	folded map[string]string // foldKey → the first key sent so
}

const foldSmall = 16

// add adds k and, when an earlier key is the same field, returns that key.
func (s *foldSet) add(k string) (prev string, dup bool) {
	if s.folded == nil {
		for _, p := range s.small[:s.n] {
			if strings.EqualFold(p, k) {
				return p, true
			}
		}
		if s.n < foldSmall {
			s.small[s.n] = k
			s.n++
			return "", false
		}
		s.folded = make(map[string]string, 2*foldSmall)
		for _, p := range s.small[:s.n] {
			s.folded[foldKey(p)] = p
		}
	}
	f := foldKey(k)
	if p, ok := s.folded[f]; ok {
		return p, true
	}
	s.folded[f] = k
	return "", false
}

// foldRune is the smallest rune of r's Unicode simple-folding orbit, as
// encoding/json's foldRune.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// trimJSONSpace trims the white space JSON allows around a value (space, tab,
// line feed, carriage return) and nothing else: a payload is JSON exactly when
// encoding/json says so (DESIGN §5), so U+00A0, U+0085, \f or \v around it
// stay, and make it no JSON, as they make json.Valid false.
func trimJSONSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isJSONSpace(b[i]) {
		i++
	}
	for j > i && isJSONSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

// jsonSpace is the white space JSON allows, as a cutset for strings.Trim.
const jsonSpace = " \t\n\r"

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// jsonKind names the kind of a JSON value for an error, never quoting it.
func jsonKind(v json.RawMessage) string {
	v = trimJSONSpace(v)
	if len(v) == 0 {
		return "empty"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// jsonString reads a JSON string; null is not one (it would be a phantom "").
func jsonString(v json.RawMessage) (string, bool) {
	v = trimJSONSpace(v)
	if len(v) == 0 || v[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}

func jsonBool(v json.RawMessage) (bool, bool) {
	var b bool
	if err := json.Unmarshal(v, &b); err == nil {
		return b, true
	}
	s, ok := jsonString(v)
	if !ok {
		return false, false
	}
	switch strings.ToLower(s) { // any case, but as sent: "true\n" is not true
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

func mustJSON(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// duplicateKey finds a key given twice in one object anywhere in the JSON value
// raw, and returns its path from root ("instanceIds", "data.body.regionId",
// "[1].InstanceId"), cleaned for a log line. Two keys are one when
// encoding/json would read them as one field (foldKey): "alertState" and
// "alertſtate" are. Raw that is not valid JSON has none. A scan of raw (see
// objectFields), not a json.Decoder's tokens (TestDuplicateKeyMatchesTheDecoder
// holds the two equal).
func duplicateKey(raw []byte, root string) (string, bool) {
	if !json.Valid(raw) {
		return "", false
	}
	found := ""
	// walk reads the value at i and returns the index just past it.
	var walk func(i int, path string) int
	walk = func(i int, path string) int {
		i = skipSpace(raw, i)
		switch raw[i] {
		case '{':
			var seen foldSet
			for i = skipSpace(raw, i+1); raw[i] != '}'; i = skipSpace(raw, i) {
				if raw[i] == ',' {
					i = skipSpace(raw, i+1)
				}
				end := valueEnd(raw, i)
				k, _ := jsonKey(raw[i:end])
				if _, dup := seen.add(k); dup {
					found = joinPath(path, safe(k))
					return len(raw)
				}
				if i = walk(skipSpace(raw, end)+1, joinPath(path, safe(k))); found != "" {
					return len(raw)
				}
			}
			return i + 1
		case '[':
			i = skipSpace(raw, i+1)
			for n := 0; raw[i] != ']'; n++ {
				if raw[i] == ',' {
					i = skipSpace(raw, i+1)
				}
				if raw[i] != '{' && raw[i] != '[' {
					i = skipSpace(raw, valueEnd(raw, i)) // holds no key: no path to build
					continue
				}
				if i = skipSpace(raw, walk(i, path+"["+strconv.Itoa(n)+"]")); found != "" {
					return len(raw)
				}
			}
			return i + 1
		default:
			return valueEnd(raw, i)
		}
	}
	walk(0, root)
	return found, found != ""
}
