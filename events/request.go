package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The start request of DESIGN §3 comes in two spellings. The canonical one, in
// lower camel case:
//
//	{"regionId": "cn-hangzhou", "instanceIds": ["i-bp67acfmxazb4p0001"],
//	 "batchOptimization": "SuccessFirst", "dryRun": false, "notAfter": "2026-11-26T09:00:00Z"}
//
// and ECS's own, as StartInstances takes it (a JSON object, a form body or a query
// string):
//
//	{"Action": "StartInstances", "RegionId": "cn-hangzhou",
//	 "InstanceId": ["i-bp67acfmxazb4p0001"],      // or "[\"i-…\"]", or "i-…,i-…"
//	 "InstanceId.1": "i-bp67acfmxazb4p0001",      // … or numbered, instead of InstanceId
//	 "BatchOptimization": "SuccessFirst", "DryRun": "false"}
//
// Rules of decoding (validation of the values is the handler's):
//
//   - Each field may use either spelling, but one field in two spellings (regionId and
//     RegionId; InstanceId and InstanceId.1; instanceIds and InstanceId) is an error
//     naming the second spelling sent.
//   - Instance IDs: a JSON array of strings, a string holding such an array, or a
//     string of comma-separated IDs; InstanceId.N in the order of N (1, 2, …).
//   - dryRun: a boolean, or the string "true" or "false" (any case).
//   - Action, when present, must be StartInstances.
//   - ECS's common parameters (Version, AccessKeyId, Signature*, Timestamp, Format,
//     SecurityToken, OwnerId, ResourceOwner*, …) are ignored.
//   - Any other field is an error that names it ("unknown field", with a hint when it
//     is a misspelling such as instanceID): a typo must not silently start nothing,
//     nor start what it was meant to keep out.
//   - null is the same as absent.
//   - A key given twice in one JSON object is an error naming it (DESIGN §5).
//   - tags (DESIGN §3.1): a JSON array of {"key": …, "value": …} objects (a pair
//     without value matches any value), or ECS's Tag.N.Key / Tag.N.Value in the
//     order of N; a Tag.N.Value without its Tag.N.Key is an error naming it.
//     Errors name a pair's part as spelled: tags[0].key, Tag.1.Key.
//   - wait: true, false, or a string (a duration such as "90s"), kept as sent.
//   - roleArn: a string, as sent; targets and sequence: JSON arrays of start
//     requests, each decoded by these rules, its defects named
//     targets[i].<field> or sequence[i].<field>.
//   - skipDates: a JSON array of strings ("2026-12-25"); timeZone: a string (an
//     IANA zone), both kept as sent (DESIGN §3.1). JSON spelling only.
//   - Values are taken as sent: nothing is trimmed, so that the validator refuses
//     "i-…\n" and "cn-hangzhou\n" (DESIGN §5). An element of the IDs that is not a
//     string is an error naming the element, never an ID.

// The canonical (lower-camel) field names; FieldErrors about a field in either
// spelling name it by these.
const (
	fieldRegion   = "regionId"
	fieldIDs      = "instanceIds"
	fieldBatch    = "batchOptimization"
	fieldDryRun   = "dryRun"
	fieldNotAfter = "notAfter"
	fieldTags     = "tags"
	fieldWait     = "wait"
	fieldSkip     = "skipDates"
	fieldZone     = "timeZone"
	fieldRole     = "roleArn"
	fieldTargets  = "targets"
	fieldSequence = "sequence"
	fieldAction   = "Action"
)

// canonical maps every accepted spelling of a field to its canonical name.
var canonical = map[string]string{
	fieldRegion: fieldRegion, "RegionId": fieldRegion,
	fieldIDs: fieldIDs, "InstanceId": fieldIDs,
	fieldBatch: fieldBatch, "BatchOptimization": fieldBatch,
	fieldDryRun: fieldDryRun, "DryRun": fieldDryRun,
	fieldNotAfter: fieldNotAfter,
	fieldTags:     fieldTags,
	fieldWait:     fieldWait,
	fieldSkip:     fieldSkip,
	fieldZone:     fieldZone,
	fieldRole:     fieldRole,
	fieldTargets:  fieldTargets,
	fieldSequence: fieldSequence,
}

// ecsCommon are ECS's common request parameters (and StartInstances' owner
// parameters) that a request in the ECS spelling may carry; they are ignored.
var ecsCommon = map[string]bool{
	"Format": true, "Version": true, "AccessKeyId": true, "Timestamp": true,
	"SecurityToken": true, "OwnerId": true, "OwnerAccount": true,
	"ResourceOwnerId": true, "ResourceOwnerAccount": true, "RequestId": true,
}

const indexedPrefix = "InstanceId."

// tagPrefix starts ECS's spelling of tags: Tag.N.Key, Tag.N.Value.
const tagPrefix = "Tag."

// looksLikeRequest reports whether obj is meant as a start request: it has a key
// that is, or nearly is (any case, any punctuation), one of the request's fields.
func looksLikeRequest(obj map[string]json.RawMessage) bool {
	for k := range obj {
		if k == fieldAction || strings.HasPrefix(k, indexedPrefix) || strings.HasPrefix(k, tagPrefix) || nearField(k) != "" {
			return true
		}
	}
	return false
}

// nearField returns the canonical field that k spells loosely ("instanceID",
// "instance_ids", "RegionID"), or "".
func nearField(k string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(k) {
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	switch b.String() {
	case "regionid":
		return fieldRegion
	case "instanceids", "instanceid", "instances", "instanceidlist":
		return fieldIDs
	case "batchoptimization":
		return fieldBatch
	case "dryrun":
		return fieldDryRun
	case "notafter":
		return fieldNotAfter
	case "tags", "tag", "tagfilter", "tagfilters":
		return fieldTags
	case "wait", "waitforrunning":
		return fieldWait
	case "skipdates", "skipdate", "holidays":
		return fieldSkip
	case "timezone", "tz":
		return fieldZone
	case "rolearn", "role", "assumerole":
		return fieldRole
	case "targets", "target", "regions", "accounts":
		return fieldTargets
	case "sequence", "sequences", "groups", "order", "steps":
		return fieldSequence
	}
	return ""
}

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
// (issue 9; TestObjectFieldsMatchesTheDecoder holds the two equal).
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

// msgDuplicate is the defect of a key given twice in one JSON object (DESIGN §5):
// a gateway that reads the first occurrence must never see another request than
// the one run, so neither occurrence is picked.
const msgDuplicate = "given more than once: a key may appear once in a JSON object"

// decodeRequest decodes a start request in either spelling from the fields of a
// JSON object (or of a form, see decodeValues), in the order sent. A key given
// twice is a defect, except, in a form (idsAddUp), the instance-ID keys whose
// values add up. Values are taken as sent: nothing is trimmed (DESIGN §5).
//
// Every ID the request holds is kept, even in a refused request, so that each is
// reported; IDFields names where each came from, as the caller spelled it:
//
//   - a JSON array (instanceIds or InstanceId): "instanceIds[i]", "InstanceId[i]";
//   - a string holding a JSON array (InstanceId=["…"]): "InstanceId[i]";
//   - a comma-separated string ("i-…,i-…"): "InstanceId[i]" too, i counting the
//     items between the commas (an empty item is a defect at its own index), and
//     going on across the repeated values of a form;
//   - the numbered form: "InstanceId.N", the caller's own N.
//
// An element that is not a string (a number, null, an object) is a defect named by
// its element, never an ID.
func decodeRequest(fields []field, idsAddUp bool) (StartRequest, []FieldError) {
	type numbered struct {
		n   int
		key string
		id  string
	}
	// ecsTag is one Tag.N of ECS's spelling, as its parts come.
	type ecsTag struct {
		key, value       *string
		keyName, valName string
	}
	var (
		req      StartRequest
		errs     []FieldError
		used     = map[string][]string{} // canonical field → spellings, in the order sent
		firstKey = map[string]string{}   // spelling → the first key sent in it
		seen     foldSet                 // the keys sent, as encoding/json matches them
		count    = map[string]int{}      // items read so far per ID key (form values add up)
		indexed  []numbered
		indexes  = map[int]string{} // every InstanceId.N sent, null or not: N → key
		ecsTags  = map[int]*ecsTag{}
	)
	fail := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	spell := func(canon, spelling, key string) {
		if _, ok := firstKey[spelling]; !ok {
			firstKey[spelling] = key
			used[canon] = append(used[canon], spelling)
		}
	}

	for _, f := range fields {
		k := f.key
		// Two keys encoding/json would read as one field are one key
		// given twice (DESIGN §5), save the two spellings of one field
		// (regionId, RegionId), which are refused as such below.
		if prev, dup := seen.add(k); dup {
			if addsUp := idsAddUp && k == prev && (k == "InstanceId" || k == fieldIDs); !addsUp &&
				(k == prev || canonical[k] == "" || canonical[k] != canonical[prev]) {
				fail(safe(k), msgDuplicate)
			}
		}
		if n, ok := indexOf(k); ok {
			indexes[n] = k
		}
		v := trimJSONSpace(f.val)
		if len(v) == 0 || string(v) == "null" {
			continue
		}
		if v[0] == '{' || v[0] == '[' {
			if p, dup := duplicateKey(v, safe(k)); dup {
				fail(p, msgDuplicate)
			}
		}
		if k == fieldAction {
			if s, ok := jsonString(v); !ok || s != "StartInstances" {
				fail(fieldAction, "must be StartInstances: this function only starts instances")
			}
			continue
		}
		if strings.HasPrefix(k, indexedPrefix) {
			n, ok := indexOf(k)
			if !ok {
				fail(safe(k), "is not InstanceId.1, InstanceId.2, …")
				continue
			}
			s, ok := jsonString(v)
			switch {
			case !ok:
				fail(k, "must be a string: one instance ID, not %s", jsonKind(v))
				continue
			case s == "":
				fail(k, "is empty: an instance ID is i- followed by letters and digits")
				continue
			}
			spell(fieldIDs, "InstanceId.N", k)
			indexed = append(indexed, numbered{n: n, key: k, id: s})
			continue
		}
		if strings.HasPrefix(k, tagPrefix) {
			n, part, ok := tagKey(k)
			if !ok {
				fail(safe(k), "is not Tag.1.Key, Tag.1.Value, Tag.2.Key, …")
				continue
			}
			s, isString := jsonString(v)
			if !isString {
				fail(k, "must be a string, not %s", jsonKind(v))
				continue
			}
			spell(fieldTags, "Tag.N", k)
			t := ecsTags[n]
			if t == nil {
				t = &ecsTag{}
				ecsTags[n] = t
			}
			if part == "Key" {
				t.key, t.keyName = &s, k
			} else {
				t.value, t.valName = &s, k
			}
			continue
		}
		canon, known := canonical[k]
		if !known {
			if ecsCommon[k] || strings.HasPrefix(k, "Signature") {
				continue
			}
			if near := nearField(k); near != "" {
				fail(safe(k), "unknown field: did you mean %s?", near)
			} else {
				fail(safe(k), "unknown field")
			}
			continue
		}
		spell(canon, k, k)
		switch canon {
		case fieldRegion, fieldBatch, fieldNotAfter, fieldZone, fieldRole:
			s, ok := jsonString(v)
			if !ok {
				fail(k, "must be a string")
				continue
			}
			if s == "" {
				// An empty value is most often a template's unset
				// variable: taking it for "absent" would run the request
				// with a default the caller did not choose (DESIGN §5).
				fail(k, "is empty: leave the field out (or null) for the default")
				continue
			}
			switch canon {
			case fieldRegion:
				req.RegionID = s
			case fieldBatch:
				req.BatchOptimization = s
			case fieldZone:
				req.TimeZone = s
			case fieldRole:
				req.RoleArn = s
			default:
				req.NotAfter = s
			}
		case fieldTargets:
			targets, targetErrs := targetList(v, k)
			req.Targets = append(req.Targets, targets...)
			if req.Targets == nil {
				req.Targets = []StartRequest{} // sent, but empty: the validator names it
			}
			errs = append(errs, targetErrs...)
		case fieldSequence:
			groups, groupErrs := targetList(v, k)
			req.Sequence = append(req.Sequence, groups...)
			if req.Sequence == nil {
				req.Sequence = []StartRequest{} // sent, but empty: the validator names it
			}
			errs = append(errs, groupErrs...)
		case fieldSkip:
			dates, dateErrs := stringList(v, k)
			req.SkipDates = append(req.SkipDates, dates...)
			if req.SkipDates == nil {
				req.SkipDates = []string{} // sent, but empty: the validator names it
			}
			errs = append(errs, dateErrs...)
		case fieldIDs:
			l := idList(v, k, count[k])
			count[k] += l.items
			req.InstanceIDs = append(req.InstanceIDs, l.ids...)
			req.IDFields = append(req.IDFields, l.fields...)
			errs = append(errs, l.errs...)
		case fieldDryRun:
			b, ok := jsonBool(v)
			if !ok {
				fail(k, "must be true or false")
				continue
			}
			req.DryRun, req.DryRunSet = b, true
		case fieldTags:
			tags, names, tagErrs := tagList(v, k)
			req.Tags = append(req.Tags, tags...)
			req.TagFields = append(req.TagFields, names...)
			if req.Tags == nil {
				req.Tags = []TagFilter{} // sent, but empty: the validator names it
			}
			errs = append(errs, tagErrs...)
		case fieldWait:
			switch v[0] {
			case 't', 'f': // a JSON boolean
				b, ok := jsonBool(v)
				if !ok {
					fail(k, "must be true, false or a duration like \"90s\"")
					continue
				}
				req.Wait = strconv.FormatBool(b)
			default:
				s, ok := jsonString(v)
				if !ok {
					fail(k, "must be true, false or a duration like \"90s\", not %s", jsonKind(v))
					continue
				}
				req.Wait = s
			}
		}
	}

	sort.SliceStable(indexed, func(i, j int) bool { return indexed[i].n < indexed[j].n })
	gapAt := firstGap(indexes)
	for _, x := range indexed {
		req.InstanceIDs = append(req.InstanceIDs, x.id)
		req.IDFields = append(req.IDFields, x.key)
		if x.n == gapAt {
			errs = append(errs, FieldError{Field: x.key, Elem: len(req.InstanceIDs),
				Message: fmt.Sprintf("the indexes must run InstanceId.1, InstanceId.2, … without a gap: InstanceId.%d is missing", missingBefore(indexes, gapAt))})
		}
	}
	if gapAt > 0 && !slices.ContainsFunc(indexed, func(x numbered) bool { return x.n == gapAt }) {
		errs = append(errs, FieldError{Field: indexes[gapAt],
			Message: fmt.Sprintf("the indexes must run InstanceId.1, InstanceId.2, … without a gap: InstanceId.%d is missing", missingBefore(indexes, gapAt))})
	}
	if len(ecsTags) > 0 {
		ns := make([]int, 0, len(ecsTags))
		for n := range ecsTags {
			ns = append(ns, n)
		}
		sort.Ints(ns)
		for i, n := range ns {
			t := ecsTags[n]
			if n != i+1 && (i == 0 || ns[i-1] == i) {
				// Like InstanceId.N (DESIGN §3.1): a lost pair would
				// widen the selection, so N runs 1, 2, … without a gap,
				// and a huge N is a gap too.
				fail(firstNonEmpty(t.keyName, t.valName), "the indexes must run Tag.1, Tag.2, … without a gap: Tag.%d is missing", i+1)
			}
			if t.key == nil {
				fail(t.valName, "has no %s%d.Key: a tag value needs its key", tagPrefix, n)
				continue
			}
			req.Tags = append(req.Tags, TagFilter{Key: *t.key, Value: t.value})
			req.TagFields = append(req.TagFields, tagPrefix+strconv.Itoa(n))
		}
	}
	if ids := used[fieldIDs]; len(ids) > 0 && ids[0] != fieldIDs {
		// ECS's spelling of the IDs takes ECS's default (DESIGN §3), so
		// that a request copied from the StartInstances reference
		// behaves as ECS would; instanceIds keeps SuccessFirst.
		req.DefaultBatch = "AllTogether"
	}
	for _, canon := range []string{fieldRegion, fieldIDs, fieldBatch, fieldDryRun, fieldNotAfter, fieldTags, fieldWait, fieldSkip, fieldZone, fieldRole, fieldTargets, fieldSequence} {
		spellings := used[canon]
		if len(spellings) == 0 {
			continue
		}
		if spellings[0] != canon {
			if req.FieldNames == nil {
				req.FieldNames = map[string]string{}
			}
			req.FieldNames[canon] = spellings[0]
		}
		if len(spellings) > 1 {
			second := firstKey[spellings[1]]
			sorted := append([]string(nil), spellings...)
			sort.Strings(sorted)
			fail(second, "given as both %s: use one spelling", strings.Join(sorted, " and "))
		}
	}
	return req, errs
}

// indexOf reads N from a key InstanceId.N (N ≥ 1, written without a sign or a
// leading zero).
func indexOf(k string) (int, bool) {
	if !strings.HasPrefix(k, indexedPrefix) {
		return 0, false
	}
	digits := k[len(indexedPrefix):]
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 || strconv.Itoa(n) != digits {
		return 0, false
	}
	return n, true
}

// firstGap returns the first index N sent after a missing one (InstanceId.1
// and InstanceId.3: 3), 0 when the indexes run 1, 2, … without a gap. A gap,
// like a huge index, is most often a line lost or mistyped: the caller meant
// another list than the one sent, so it is refused (DESIGN §3) rather than
// read in the order of N.
func firstGap(indexes map[int]string) int {
	ns := make([]int, 0, len(indexes))
	for n := range indexes {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	for i, n := range ns {
		if n != i+1 {
			return n
		}
	}
	return 0
}

// missingBefore is the first index missing before gapAt.
func missingBefore(indexes map[int]string, gapAt int) int {
	for n := 1; n < gapAt; n++ {
		if _, ok := indexes[n]; !ok {
			return n
		}
	}
	return gapAt
}

// tagKey reads ECS's Tag.N.Key or Tag.N.Value: N (1, 2, … as written, no
// leading zero) and the part.
func tagKey(k string) (n int, part string, ok bool) {
	rest := k[len(tagPrefix):]
	num, part, found := strings.Cut(rest, ".")
	if !found || (part != "Key" && part != "Value") {
		return 0, "", false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || strconv.Itoa(n) != num {
		return 0, "", false
	}
	return n, part, true
}

// tagList reads the JSON spelling of tags: an array of {"key": …, "value": …}
// objects, values as sent. A pair without value (or with null) matches any
// value of its key. key is the field as spelled; names holds each pair's name
// ("tags[2]"), and defects name the element or its part ("tags[1]",
// "tags[0].key").
func tagList(v json.RawMessage, key string) (tags []TagFilter, names []string, errs []FieldError) {
	var elems []json.RawMessage
	if err := json.Unmarshal(v, &elems); err != nil {
		return nil, nil, []FieldError{{Field: key, Message: `must be an array of {"key": …, "value": …} pairs, not ` + jsonKind(v)}}
	}
	for i, e := range elems {
		name := key + "[" + strconv.Itoa(i) + "]"
		fields, err := scanObject(e)
		if err != nil {
			errs = append(errs, FieldError{Field: name, Message: `must be an object {"key": …, "value": …}, not ` + jsonKind(e)})
			continue
		}
		var t TagFilter
		ok := true
		for _, f := range fields {
			val := trimJSONSpace(f.val)
			switch f.key {
			case "key", "value":
				if string(val) == "null" {
					continue // the same as absent: a key is then missing, a value any
				}
				s, isString := jsonString(val)
				if !isString {
					errs = append(errs, FieldError{Field: name + "." + f.key, Message: "must be a string, not " + jsonKind(val)})
					ok = false
					continue
				}
				if f.key == "key" {
					t.Key = s
				} else {
					t.Value = &s
				}
			default:
				msg := "unknown field: a tag is {\"key\": …, \"value\": …}"
				switch strings.ToLower(f.key) {
				case "key", "tagkey":
					msg = "unknown field: did you mean key?"
				case "value", "tagvalue":
					msg = "unknown field: did you mean value?"
				}
				errs = append(errs, FieldError{Field: name + "." + safe(f.key), Message: msg})
				ok = false
			}
		}
		if ok {
			tags = append(tags, t)
			names = append(names, name)
		}
	}
	return tags, names, errs
}

// targetList reads targets or a sequence's groups (DESIGN §3.1): a JSON
// array of start requests in the JSON spelling, each decoded like a request;
// a defect names the element and its field (targets[1].regionId). An element that is no object is a
// defect and no target.
func targetList(v json.RawMessage, key string) (out []StartRequest, errs []FieldError) {
	var elems []json.RawMessage
	if err := json.Unmarshal(v, &elems); err != nil {
		return nil, []FieldError{{Field: key, Message: "must be an array of start requests, not " + jsonKind(v)}}
	}
	for i, e := range elems {
		name := key + "[" + strconv.Itoa(i) + "]"
		fields, err := scanObject(e)
		if err != nil {
			errs = append(errs, FieldError{Field: name, Message: "must be a start request (a JSON object), not " + jsonKind(e)})
			continue
		}
		t, terrs := decodeRequest(fields, false)
		for _, fe := range terrs {
			fe.Field = name + "." + fe.Field
			fe.Elem = 0
			errs = append(errs, fe)
		}
		out = append(out, t)
	}
	return out, errs
}

// stringList reads a JSON array of strings, as sent; a defect names its
// element (skipDates[1]), which is kept as "" so that the others keep their
// index. key is the field as spelled.
func stringList(v json.RawMessage, key string) (out []string, errs []FieldError) {
	var elems []json.RawMessage
	if err := json.Unmarshal(v, &elems); err != nil {
		return nil, []FieldError{{Field: key, Message: "must be an array of strings, not " + jsonKind(v)}}
	}
	for i, e := range elems {
		s, ok := jsonString(e)
		if !ok {
			errs = append(errs, FieldError{Field: key + "[" + strconv.Itoa(i) + "]", Message: "must be a string, not " + jsonKind(e)})
		}
		out = append(out, s)
	}
	return out, errs
}

// decodeValues decodes a start request from a form body or a query string. Values are
// strings; a key given more than once is an error, except the instance-ID keys whose
// values add up.
func decodeValues(vals url.Values) (StartRequest, []FieldError) {
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var fields []field
	for _, k := range keys {
		for _, v := range vals[k] {
			fields = append(fields, field{key: k, val: mustJSON(v)})
		}
	}
	return decodeRequest(fields, true)
}

// ids is what idList read from one instance-ID field.
type ids struct {
	ids, fields []string
	errs        []FieldError
	items       int // elements or comma-separated items read, IDs or not
}

// idList reads instance IDs, as sent, from a JSON array of strings, a JSON string
// holding such an array, or a JSON string of comma-separated IDs. key is the field
// as spelled; base is the index of its first item (a form's repeated values add
// up). See decodeRequest for how each ID and defect is named.
func idList(v json.RawMessage, key string, base int) (l ids) {
	name := func(i int) string { return key + "[" + strconv.Itoa(base+i) + "]" }
	if s, ok := jsonString(v); ok {
		if t := strings.Trim(s, jsonSpace); strings.HasPrefix(t, "[") {
			if !json.Valid([]byte(t)) {
				l.errs = append(l.errs, FieldError{Field: key, Message: "must be an array of instance IDs (strings): it holds broken JSON"})
				return l
			}
			return idList(json.RawMessage(t), key, base)
		}
		if s == "" {
			return l
		}
		for i, id := range strings.Split(s, ",") {
			l.items++
			if id == "" {
				l.errs = append(l.errs, FieldError{Field: name(i), Message: "is empty: an instance ID is i- followed by letters and digits"})
				continue
			}
			l.ids = append(l.ids, id)
			l.fields = append(l.fields, name(i))
		}
		return l
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(v, &elems); err != nil {
		l.errs = append(l.errs, FieldError{Field: key, Message: "must be an array of instance IDs (strings), not " + jsonKind(v)})
		return l
	}
	for i, e := range elems {
		l.items++
		s, isString := jsonString(e)
		switch {
		case !isString:
			l.errs = append(l.errs, FieldError{Field: name(i), Message: "must be a string (an instance ID), not " + jsonKind(e)})
		case s == "":
			l.errs = append(l.errs, FieldError{Field: name(i), Message: "is empty: an instance ID is i- followed by letters and digits"})
		default:
			l.ids = append(l.ids, s)
			l.fields = append(l.fields, name(i))
		}
	}
	return l
}

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
