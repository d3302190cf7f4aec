package events

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
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
//     IANA zone), both kept as sent (DESIGN §3.1). JSON spelling only;
//     workDates (make-up working days, DESIGN §3.2) likewise.
//   - schedule (DESIGN §3.2): an object {"tagKey": …, "every": "5m"}, its
//     parts in either spelling (Schedule.TagKey, Schedule.Every), strings
//     as sent; any other field in it is an error naming it. preview (or
//     Preview): a string, a period such as "7d", as sent.
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
	fieldWork     = "workDates"
	fieldSchedule = "schedule"
	fieldPreview  = "preview"
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
	fieldWork:     fieldWork,
	fieldSchedule: fieldSchedule, "Schedule": fieldSchedule,
	fieldPreview: fieldPreview, "Preview": fieldPreview,
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
	case "workdates", "workdate", "makeupdays", "workdays":
		return fieldWork
	case "schedule", "schedules":
		return fieldSchedule
	case "preview":
		return fieldPreview
	}
	return ""
}

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
//
// Each field is read by its handler in fieldDecoders, keyed by the field's
// canonical name; Action, InstanceId.N and Tag.N, which are spelled by a
// prefix, by their own; what the fields say together (the order of N, two
// spellings of one field, the batch default) is settled once all are read.
func decodeRequest(fields []field, idsAddUp bool) (StartRequest, []FieldError) {
	d := decoders.Get().(*requestDecoder)
	*d = requestDecoder{idsAddUp: idsAddUp}
	d.spelled = d.spellBuf[:0]
	var seen foldSet // the keys sent, as encoding/json matches them
	for _, f := range fields {
		d.checkDuplicate(&seen, f.key)
		d.field(f.key, f.val)
	}
	d.finishIndexed()
	d.finishTags()
	if first := d.firstSpelling(fieldIDs); first != "" && first != fieldIDs {
		// ECS's spelling of the IDs takes ECS's default (DESIGN §3), so
		// that a request copied from the StartInstances reference
		// behaves as ECS would; instanceIds keeps SuccessFirst.
		d.req.DefaultBatch = "AllTogether"
	}
	d.checkSpellings()
	req, errs := d.req, d.errs
	*d = requestDecoder{} // keeps nothing of this request
	decoders.Put(d)
	return req, errs
}

// decoders recycles requestDecoders: calls through the handlers' table put
// each on the heap, and a direct invoke would pay for one every time.
var decoders = sync.Pool{New: func() any { return new(requestDecoder) }}

// requestDecoder is what decodeRequest knows of one object's fields as it
// reads them.
type requestDecoder struct {
	req      StartRequest
	errs     []FieldError
	idsAddUp bool
	spelled  []spelling // every spelling of a field used, in the order first sent
	spellBuf [4]spelling
	indexed  []numbered
	indexes  map[int]string // every InstanceId.N sent, null or not: N → key
	ecsTags  map[int]*ecsTag
}

// spelling is one spelling of a canonical field that a request used.
type spelling struct {
	canon, name string
	key         string // the first key sent in it (InstanceId.3 for InstanceId.N)
	items       int    // of an ID field: items read so far (form values add up)
}

// numbered is one InstanceId.N of ECS's spelling.
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

// fieldDecoder reads the value v, neither null nor absent, of a field sent
// as key.
type fieldDecoder func(d *requestDecoder, key string, v json.RawMessage)

// fieldDecoders holds the handler of each canonical field (canonical maps
// every spelling to one of these names).
var fieldDecoders map[string]fieldDecoder

func init() {
	// Set here, not in its declaration: targets and sequence decode
	// requests, whose fields these handlers read.
	fieldDecoders = map[string]fieldDecoder{
		fieldRegion:   stringField(func(r *StartRequest, s string) { r.RegionID = s }),
		fieldBatch:    stringField(func(r *StartRequest, s string) { r.BatchOptimization = s }),
		fieldNotAfter: stringField(func(r *StartRequest, s string) { r.NotAfter = s }),
		fieldZone:     stringField(func(r *StartRequest, s string) { r.TimeZone = s }),
		fieldRole:     stringField(func(r *StartRequest, s string) { r.RoleArn = s }),
		fieldIDs:      (*requestDecoder).instanceIDs,
		fieldDryRun:   (*requestDecoder).dryRun,
		fieldTags:     (*requestDecoder).tags,
		fieldWait:     (*requestDecoder).wait,
		fieldSkip:     (*requestDecoder).skipDates,
		fieldTargets:  (*requestDecoder).targets,
		fieldSequence: (*requestDecoder).sequence,
		fieldWork:     (*requestDecoder).workDates,
		fieldSchedule: (*requestDecoder).schedule,
		fieldPreview:  stringField(func(r *StartRequest, s string) { r.Preview = s }),
	}
}

// canonicalOrder is the order in which defects about a field's spellings are
// reported.
var canonicalOrder = [...]string{fieldRegion, fieldIDs, fieldBatch, fieldDryRun, fieldNotAfter, fieldTags, fieldWait, fieldSkip, fieldZone, fieldRole, fieldTargets, fieldSequence, fieldWork, fieldSchedule, fieldPreview}

func (d *requestDecoder) fail(field, format string, args ...any) {
	d.errs = append(d.errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// spell records that the field canon was sent as name (first as key), and
// returns the index of that spelling in d.spelled.
func (d *requestDecoder) spell(canon, name, key string) int {
	for i, s := range d.spelled {
		if s.name == name {
			return i
		}
	}
	d.spelled = append(d.spelled, spelling{canon: canon, name: name, key: key})
	return len(d.spelled) - 1
}

// firstSpelling is the first spelling sent of the field canon, "" if none.
func (d *requestDecoder) firstSpelling(canon string) string {
	for _, s := range d.spelled {
		if s.canon == canon {
			return s.name
		}
	}
	return ""
}

// field reads one key and its value, as sent.
func (d *requestDecoder) field(k string, val json.RawMessage) {
	if n, ok := indexOf(k); ok {
		if d.indexes == nil {
			d.indexes = map[int]string{}
		}
		d.indexes[n] = k
	}
	v := trimJSONSpace(val)
	if len(v) == 0 || string(v) == "null" {
		return
	}
	if v[0] == '{' || v[0] == '[' {
		if p, dup := duplicateKey(v, safe(k)); dup {
			d.fail(p, msgDuplicate)
		}
	}
	switch {
	case k == fieldAction:
		if s, ok := jsonString(v); !ok || s != "StartInstances" {
			d.fail(fieldAction, "must be StartInstances: this function only starts instances")
		}
	case strings.HasPrefix(k, indexedPrefix):
		d.indexedID(k, v)
	case strings.HasPrefix(k, tagPrefix):
		d.ecsTag(k, v)
	default:
		canon, known := canonical[k]
		if !known {
			d.unknown(k, v)
			return
		}
		d.spell(canon, k, k)
		fieldDecoders[canon](d, k, v)
	}
}

// instanceIDsIn returns the instance IDs (strings i-…) that v, a JSON
// string or array of strings, holds: at most MaxPerCall of them.
func instanceIDsIn(v []byte) []string {
	var list []string
	if s, ok := jsonString(v); ok {
		list = []string{s}
	} else if json.Unmarshal(v, &list) != nil {
		return nil
	}
	var out []string
	for _, s := range list {
		if strings.HasPrefix(s, "i-") && len(s) <= maxIDLen && len(out) < maxMisnamed {
			out = append(out, s)
		}
	}
	return out
}

// The bounds of the IDs instanceIDsIn keeps: the longest an instance ID
// may be named, and how many of one field.
const (
	maxIDLen    = 64
	maxMisnamed = 100
)

// checkDuplicate refuses k when encoding/json would read it and an earlier
// key as one field: one key given twice (DESIGN §5), save the two spellings
// of one field (regionId, RegionId), which checkSpellings refuses as such,
// and, in a form, the instance-ID keys whose values add up.
// seen holds the keys before k. It is kept apart from d: calls through the
// handlers' table put d on the heap, and seen (16 keys) stays on the stack.
func (d *requestDecoder) checkDuplicate(seen *foldSet, k string) {
	prev, dup := seen.add(k)
	if !dup {
		return
	}
	addsUp := d.idsAddUp && k == prev && (k == "InstanceId" || k == fieldIDs)
	if !addsUp && (k == prev || canonical[k] == "" || canonical[k] != canonical[prev]) {
		d.fail(safe(k), msgDuplicate)
	}
}

// unknown is a key that is no field: ECS's common parameters are ignored,
// anything else is a defect, with a hint when it is a misspelling.
func (d *requestDecoder) unknown(k string, v []byte) {
	if ecsCommon[k] || strings.HasPrefix(k, "Signature") {
		return
	}
	d.req.Misnamed = append(d.req.Misnamed, instanceIDsIn(v)...)
	if near := nearField(k); near != "" {
		d.fail(safe(k), "unknown field: did you mean %s?", near)
	} else {
		d.fail(safe(k), "unknown field")
	}
}

// indexedID reads one InstanceId.N; their order is settled by finishIndexed.
func (d *requestDecoder) indexedID(k string, v json.RawMessage) {
	n, ok := indexOf(k)
	if !ok {
		d.fail(safe(k), "is not InstanceId.1, InstanceId.2, …")
		return
	}
	s, ok := jsonString(v)
	switch {
	case !ok:
		d.fail(k, "must be a string: one instance ID, not %s", jsonKind(v))
		return
	case s == "":
		d.fail(k, "is empty: an instance ID is i- followed by letters and digits")
		return
	}
	d.spell(fieldIDs, "InstanceId.N", k)
	d.indexed = append(d.indexed, numbered{n: n, key: k, id: s})
}

// ecsTag reads one Tag.N.Key or Tag.N.Value; the pairs are made by
// finishTags.
func (d *requestDecoder) ecsTag(k string, v json.RawMessage) {
	n, part, ok := tagKey(k)
	if !ok {
		d.fail(safe(k), "is not Tag.1.Key, Tag.1.Value, Tag.2.Key, …")
		return
	}
	s, isString := jsonString(v)
	if !isString {
		d.fail(k, "must be a string, not %s", jsonKind(v))
		return
	}
	d.spell(fieldTags, "Tag.N", k)
	if d.ecsTags == nil {
		d.ecsTags = map[int]*ecsTag{}
	}
	t := d.ecsTags[n]
	if t == nil {
		t = &ecsTag{}
		d.ecsTags[n] = t
	}
	if part == "Key" {
		t.key, t.keyName = &s, k
	} else {
		t.value, t.valName = &s, k
	}
}

// stringField is the handler of a field whose value is a non-empty string,
// which set stores.
func stringField(set func(r *StartRequest, s string)) fieldDecoder {
	return func(d *requestDecoder, k string, v json.RawMessage) {
		s, ok := jsonString(v)
		if !ok {
			d.fail(k, "must be a string")
			return
		}
		if s == "" {
			// An empty value is most often a template's unset
			// variable: taking it for "absent" would run the request
			// with a default the caller did not choose (DESIGN §5).
			d.fail(k, "is empty: leave the field out (or null) for the default")
			return
		}
		set(&d.req, s)
	}
}

func (d *requestDecoder) instanceIDs(k string, v json.RawMessage) {
	sp := &d.spelled[d.spell(fieldIDs, k, k)]
	l := idList(v, k, sp.items)
	sp.items += l.items
	d.req.InstanceIDs = append(d.req.InstanceIDs, l.ids...)
	d.req.IDFields = append(d.req.IDFields, l.fields...)
	d.errs = append(d.errs, l.errs...)
}

func (d *requestDecoder) dryRun(k string, v json.RawMessage) {
	b, ok := jsonBool(v)
	if !ok {
		d.fail(k, "must be true or false")
		return
	}
	d.req.DryRun, d.req.DryRunSet = b, true
}

func (d *requestDecoder) tags(k string, v json.RawMessage) {
	tags, names, errs := tagList(v, k)
	d.req.Tags = append(d.req.Tags, tags...)
	d.req.TagFields = append(d.req.TagFields, names...)
	if d.req.Tags == nil {
		d.req.Tags = []TagFilter{} // sent, but empty: the validator names it
	}
	d.errs = append(d.errs, errs...)
}

// wait is true, false, or a string (a duration), kept as sent.
func (d *requestDecoder) wait(k string, v json.RawMessage) {
	if v[0] == 't' || v[0] == 'f' { // a JSON boolean
		b, ok := jsonBool(v)
		if !ok {
			d.fail(k, "must be true, false or a duration like \"90s\"")
			return
		}
		d.req.Wait = strconv.FormatBool(b)
		return
	}
	s, ok := jsonString(v)
	if !ok {
		d.fail(k, "must be true, false or a duration like \"90s\", not %s", jsonKind(v))
		return
	}
	d.req.Wait = s
}

func (d *requestDecoder) skipDates(k string, v json.RawMessage) {
	dates, errs := stringList(v, k)
	d.req.SkipDates = appendSent(d.req.SkipDates, dates)
	d.errs = append(d.errs, errs...)
}

func (d *requestDecoder) workDates(k string, v json.RawMessage) {
	dates, errs := stringList(v, k)
	d.req.WorkDates = appendSent(d.req.WorkDates, dates)
	d.errs = append(d.errs, errs...)
}

// scheduleParts are the fields of a schedule object, each in both
// spellings, by canonical name.
var scheduleParts = map[string]string{
	"tagKey": "tagKey", "TagKey": "tagKey",
	"every": "every", "Every": "every",
}

// schedule reads the schedule object (DESIGN §3.2): tagKey and every,
// strings as sent, in either spelling; any other field is a defect naming
// it (schedule.tagkey: did you mean tagKey?). Two spellings of one part
// are two keys encoding/json reads as one: field refused them already.
func (d *requestDecoder) schedule(k string, v json.RawMessage) {
	fields, err := scanObject(v)
	if err != nil {
		d.fail(k, `must be an object {"tagKey": …, "every": "5m"}, not %s`, jsonKind(v))
		return
	}
	spec := ScheduleSpec{}
	for _, f := range fields {
		name := k + "." + safe(f.key)
		val := trimJSONSpace(f.val)
		part, known := scheduleParts[f.key]
		if !known {
			switch strings.ToLower(f.key) {
			case "tagkey", "key", "tag":
				d.fail(name, "unknown field: did you mean tagKey?")
			case "every", "period", "interval":
				d.fail(name, "unknown field: did you mean every?")
			default:
				d.fail(name, `unknown field: a schedule is {"tagKey": …, "every": …}`)
			}
			continue
		}
		if string(val) == "null" {
			continue // the same as absent
		}
		s, ok := jsonString(val)
		if !ok {
			d.fail(name, "must be a string, not %s", jsonKind(val))
			continue
		}
		if part == "tagKey" {
			spec.TagKey, spec.TagKeySet, spec.TagKeyField = s, true, name
		} else {
			spec.Every, spec.EveryField = s, name
		}
	}
	d.req.Schedule = &spec
}

func (d *requestDecoder) targets(k string, v json.RawMessage) {
	targets, errs := targetList(v, k)
	d.req.Targets = appendSent(d.req.Targets, targets)
	d.errs = append(d.errs, errs...)
}

func (d *requestDecoder) sequence(k string, v json.RawMessage) {
	groups, errs := targetList(v, k)
	d.req.Sequence = appendSent(d.req.Sequence, groups)
	d.errs = append(d.errs, errs...)
}

// appendSent appends add to a list the request sent, which is never nil
// once sent, even empty: the validator names an empty list.
func appendSent[T any](list, add []T) []T {
	list = append(list, add...)
	if list == nil {
		list = []T{}
	}
	return list
}

// finishIndexed appends the InstanceId.N in the order of N, refusing a gap
// in the indexes.
func (d *requestDecoder) finishIndexed() {
	indexed := d.indexed
	if len(indexed) > 1 {
		sort.SliceStable(indexed, func(i, j int) bool { return indexed[i].n < indexed[j].n })
	}
	gapAt := firstGap(d.indexes)
	for _, x := range indexed {
		d.req.InstanceIDs = append(d.req.InstanceIDs, x.id)
		d.req.IDFields = append(d.req.IDFields, x.key)
		if x.n == gapAt {
			d.errs = append(d.errs, FieldError{Field: x.key, Elem: len(d.req.InstanceIDs),
				Message: fmt.Sprintf("the indexes must run InstanceId.1, InstanceId.2, … without a gap: InstanceId.%d is missing", missingBefore(d.indexes, gapAt))})
		}
	}
	if gapAt > 0 && !slices.ContainsFunc(indexed, func(x numbered) bool { return x.n == gapAt }) {
		d.errs = append(d.errs, FieldError{Field: d.indexes[gapAt],
			Message: fmt.Sprintf("the indexes must run InstanceId.1, InstanceId.2, … without a gap: InstanceId.%d is missing", missingBefore(d.indexes, gapAt))})
	}
}

// finishTags appends the Tag.N pairs in the order of N, refusing a gap in
// the indexes and a value without its key.
func (d *requestDecoder) finishTags() {
	if len(d.ecsTags) == 0 {
		return
	}
	ns := make([]int, 0, len(d.ecsTags))
	for n := range d.ecsTags {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	for i, n := range ns {
		t := d.ecsTags[n]
		if n != i+1 && (i == 0 || ns[i-1] == i) {
			// Like InstanceId.N (DESIGN §3.1): a lost pair would
			// widen the selection, so N runs 1, 2, … without a gap,
			// and a huge N is a gap too.
			d.fail(firstNonEmpty(t.keyName, t.valName), "the indexes must run Tag.1, Tag.2, … without a gap: Tag.%d is missing", i+1)
		}
		if t.key == nil {
			d.fail(t.valName, "has no %s%d.Key: a tag value needs its key", tagPrefix, n)
			continue
		}
		d.req.Tags = append(d.req.Tags, TagFilter{Key: *t.key, Value: t.value})
		d.req.TagFields = append(d.req.TagFields, tagPrefix+strconv.Itoa(n))
	}
}

// checkSpellings names each field sent in ECS's spelling as sent
// (FieldNames), and refuses one field in two spellings, naming the second
// sent.
func (d *requestDecoder) checkSpellings() {
	for _, canon := range canonicalOrder {
		first, n := "", 0
		for _, s := range d.spelled {
			if s.canon == canon {
				if n == 0 {
					first = s.name
				}
				n++
			}
		}
		if n == 0 {
			continue
		}
		if first != canon {
			if d.req.FieldNames == nil {
				d.req.FieldNames = map[string]string{}
			}
			d.req.FieldNames[canon] = first
		}
		if n > 1 {
			d.twoSpellings(canon)
		}
	}
}

// twoSpellings refuses the field canon, sent in more than one spelling.
func (d *requestDecoder) twoSpellings(canon string) {
	var names []string
	second := ""
	for _, s := range d.spelled {
		if s.canon != canon {
			continue
		}
		if len(names) == 1 {
			second = s.key
		}
		names = append(names, s.name)
	}
	sort.Strings(names)
	d.fail(second, "given as both %s: use one spelling", strings.Join(names, " and "))
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
