package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
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
//     on the canonical field name.
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

// The canonical (lower-camel) field names; FieldErrors about a field in either
// spelling name it by these.
const (
	fieldRegion   = "regionId"
	fieldIDs      = "instanceIds"
	fieldBatch    = "batchOptimization"
	fieldDryRun   = "dryRun"
	fieldNotAfter = "notAfter"
	fieldAction   = "Action"
)

// canonical maps every accepted spelling of a field to its canonical name.
var canonical = map[string]string{
	fieldRegion: fieldRegion, "RegionId": fieldRegion,
	fieldIDs: fieldIDs, "InstanceId": fieldIDs,
	fieldBatch: fieldBatch, "BatchOptimization": fieldBatch,
	fieldDryRun: fieldDryRun, "DryRun": fieldDryRun,
	fieldNotAfter: fieldNotAfter,
}

// ecsCommon are ECS's common request parameters (and StartInstances' owner
// parameters) that a request in the ECS spelling may carry; they are ignored.
var ecsCommon = map[string]bool{
	"Format": true, "Version": true, "AccessKeyId": true, "Timestamp": true,
	"SecurityToken": true, "OwnerId": true, "OwnerAccount": true,
	"ResourceOwnerId": true, "ResourceOwnerAccount": true, "RequestId": true,
}

const indexedPrefix = "InstanceId."

// looksLikeRequest reports whether obj is meant as a start request: it has a key
// that is, or nearly is (any case, any punctuation), one of the request's fields.
func looksLikeRequest(obj map[string]json.RawMessage) bool {
	for k := range obj {
		if k == fieldAction || strings.HasPrefix(k, indexedPrefix) || nearField(k) != "" {
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
	}
	return ""
}

// decodeRequest decodes a start request in either spelling from the fields of a JSON
// object (or of a form, see decodeValues).
func decodeRequest(obj map[string]json.RawMessage) (StartRequest, []FieldError) {
	var (
		req      StartRequest
		errs     []FieldError
		spelling = map[string][]string{} // canonical field → spellings used
		indexed  = map[int]string{}
	)
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fail := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}

	for _, k := range keys {
		v := bytes.TrimSpace(obj[k])
		if len(v) == 0 || string(v) == "null" {
			continue
		}
		if k == fieldAction {
			if s, ok := jsonString(v); !ok || s != "StartInstances" {
				fail(fieldAction, "must be StartInstances: this function only starts instances")
			}
			continue
		}
		if strings.HasPrefix(k, indexedPrefix) {
			n, err := strconv.Atoi(k[len(indexedPrefix):])
			if err != nil || n < 1 || strconv.Itoa(n) != k[len(indexedPrefix):] {
				fail(safe(k), "is not InstanceId.1, InstanceId.2, …")
				continue
			}
			s, ok := jsonString(v)
			if !ok {
				fail(k, "must be a string: one instance ID")
				continue
			}
			if len(indexed) == 0 {
				spelling[fieldIDs] = append(spelling[fieldIDs], "InstanceId.N")
			}
			indexed[n] = strings.TrimSpace(s)
			continue
		}
		field, known := canonical[k]
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
		spelling[field] = append(spelling[field], k)
		switch field {
		case fieldRegion, fieldBatch, fieldNotAfter:
			s, ok := jsonString(v)
			if !ok {
				fail(k, "must be a string")
				continue
			}
			s = strings.TrimSpace(s)
			switch field {
			case fieldRegion:
				req.RegionID = s
			case fieldBatch:
				req.BatchOptimization = s
			default:
				req.NotAfter = s
			}
		case fieldIDs:
			ids, where, ok := idList(v)
			if !ok {
				fail(k+where, "must be an array of instance IDs (strings)")
				continue
			}
			req.InstanceIDs = ids
		case fieldDryRun:
			b, ok := jsonBool(v)
			if !ok {
				fail(k, "must be true or false")
				continue
			}
			req.DryRun = b
		}
	}

	if len(indexed) > 0 {
		ns := make([]int, 0, len(indexed))
		for n := range indexed {
			ns = append(ns, n)
		}
		sort.Ints(ns)
		if len(spelling[fieldIDs]) == 1 {
			req.InstanceIDs = make([]string, 0, len(ns))
			for _, n := range ns {
				req.InstanceIDs = append(req.InstanceIDs, indexed[n])
			}
		}
	}
	for _, field := range []string{fieldRegion, fieldIDs, fieldBatch, fieldDryRun} {
		if used := spelling[field]; len(used) > 1 {
			sort.Strings(used)
			fail(field, "given as both %s: use one spelling", strings.Join(used, " and "))
		}
	}
	return req, errs
}

// decodeValues decodes a start request from a form body or a query string. Values are
// strings; a key given more than once is an error, except the instance-ID keys whose
// values add up.
func decodeValues(vals url.Values) (StartRequest, []FieldError) {
	obj := make(map[string]json.RawMessage, len(vals))
	var errs []FieldError
	for k, vs := range vals {
		if len(vs) > 1 && k != "InstanceId" && k != fieldIDs {
			errs = append(errs, FieldError{Field: safe(k), Message: "given more than once"})
			continue
		}
		v := strings.Join(vs, ",")
		if len(vs) > 1 {
			// Each value may itself be a JSON array: add them up.
			var all []string
			for _, one := range vs {
				ids, _, ok := idList(mustJSON(one))
				if !ok {
					all = append(all, one) // left for the validator to name
					continue
				}
				all = append(all, ids...)
			}
			v = strings.Join(all, ",")
		}
		obj[k] = mustJSON(v)
	}
	req, more := decodeRequest(obj)
	return req, append(errs, more...)
}

// idList reads instance IDs from a JSON array of strings, a JSON string holding such
// an array, or a JSON string of comma-separated IDs. On failure, where names the
// culprit: "" for the field itself, "[2]" for an element.
func idList(v json.RawMessage) (ids []string, where string, ok bool) {
	v = bytes.TrimSpace(v)
	if s, ok := jsonString(v); ok {
		s = strings.TrimSpace(s)
		if strings.HasPrefix(s, "[") {
			return idList(json.RawMessage(s))
		}
		for _, id := range strings.Split(s, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
		return ids, "", true
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(v, &elems); err != nil {
		return nil, "", false
	}
	ids = make([]string, 0, len(elems))
	for i, e := range elems {
		s, isString := jsonString(e)
		if !isString {
			return nil, fmt.Sprintf("[%d]", i), false
		}
		ids = append(ids, strings.TrimSpace(s))
	}
	return ids, "", true
}

func jsonString(v json.RawMessage) (string, bool) {
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
	switch strings.ToLower(strings.TrimSpace(s)) {
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
