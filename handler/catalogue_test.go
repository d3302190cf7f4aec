package handler

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/result"
)

// The catalogue of bad inputs of RELIABILITY.md: each goes through the real
// decode and validate path (Handler.Handle on an FC event) and must get a
// clear refusal naming what was wrong — over HTTP a 4xx whose errors name
// the field, from a direct invoke a Rejected instance or a refused Ignored
// entry saying the same — and send nothing to ECS.

const (
	goodID  = "i-bp67acfmxazb4p0001"
	goodID2 = "i-bp67acfmxazb4p0002"
)

// badInput is one entry of the catalogue.
type badInput struct {
	name string
	// in says how the input arrives: "json" (an HTTP JSON body, and the same
	// payload as a direct invoke), "form" (an HTTP form body), "query" (an
	// HTTP query string), "event" (a whole FC HTTP event, raw), "b64" (an
	// HTTP body flagged isBase64Encoded, as sent).
	in    string
	input string
	// want is what the refusal must name (a field as the caller spelled it,
	// or a header); status the HTTP status (400 unless set).
	want   string
	status int
	// headers are extra HTTP headers.
	headers map[string]string
}

func manyIDs(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"i-cat%06d"`, i)
	}
	return b.String()
}

func deep(open, closeS string, n int) string {
	return strings.Repeat(open, n) + strings.Repeat(closeS, n)
}

var badInputs = []badInput{
	// Malformed and truncated JSON.
	{name: "truncated after a key", in: "json", input: `{"instanceIds":`, want: "body"},
	{name: "truncated inside the array", in: "json", input: `{"instanceIds":["` + goodID + `"`, want: "body"},
	{name: "truncated inside a string", in: "json", input: `{"instanceIds":["i-bp67acf`, want: "body"},
	{name: "unquoted key", in: "json", input: `{instanceIds:["` + goodID + `"]}`, want: "body"},
	{name: "single quotes", in: "json", input: `{'instanceIds':['` + goodID + `']}`, want: "body"},
	{name: "trailing comma", in: "json", input: `{"instanceIds":["` + goodID + `",]}`, want: "body"},
	{name: "garbage after the object", in: "json", input: `{"instanceIds":["` + goodID + `"]} x`, want: "body"},
	{name: "two objects", in: "json", input: `{"instanceIds":["` + goodID + `"]}{"instanceIds":["` + goodID2 + `"]}`, want: "body"},
	{name: "deeply nested arrays", in: "json", input: deep("[", "]", 20000), want: "body"},
	{name: "deeply nested objects", in: "json", input: strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000), want: "body"},
	{name: "nested start request", in: "json", input: `{"request":{"instanceIds":["` + goodID + `"]}}`, want: "request"},
	{name: "XML where JSON was expected", in: "json", input: `<StartInstances><InstanceId>` + goodID + `</InstanceId></StartInstances>`, want: "body"},
	{name: "a bare string", in: "json", input: `"` + goodID + `"`, want: "body"},
	{name: "a number", in: "json", input: `42`, want: "body"},
	{name: "a BOM before the JSON", in: "json", input: "\ufeff{\"instanceIds\":[\"" + goodID + "\"]}", want: "body"},

	// Wrong types and nulls.
	{name: "instanceIds a number", in: "json", input: `{"instanceIds":5}`, want: "instanceIds"},
	{name: "instanceIds an object", in: "json", input: `{"instanceIds":{"a":"` + goodID + `"}}`, want: "instanceIds"},
	{name: "instanceIds true", in: "json", input: `{"instanceIds":true}`, want: "instanceIds"},
	{name: "instanceIds null", in: "json", input: `{"instanceIds":null}`, want: "instanceIds"},
	{name: "an ID a number", in: "json", input: `{"instanceIds":["` + goodID + `",7]}`, want: "instanceIds[1]"},
	{name: "an ID null", in: "json", input: `{"instanceIds":[null,"` + goodID + `"]}`, want: "instanceIds[0]"},
	{name: "an ID an object", in: "json", input: `{"instanceIds":[{"id":"` + goodID + `"}]}`, want: "instanceIds[0]"},
	{name: "regionId a number", in: "json", input: `{"regionId":5,"instanceIds":["` + goodID + `"]}`, want: "regionId"},
	{name: "dryRun a word", in: "json", input: `{"dryRun":"yes","instanceIds":["` + goodID + `"]}`, want: "dryRun"},
	{name: "dryRun a number", in: "json", input: `{"dryRun":1,"instanceIds":["` + goodID + `"]}`, want: "dryRun"},
	{name: "batchOptimization a number", in: "json", input: `{"batchOptimization":1,"instanceIds":["` + goodID + `"]}`, want: "batchOptimization"},
	{name: "payload null", in: "json", input: `null`, want: "body"},

	// Duplicate keys: refused, neither occurrence wins (DESIGN §5).
	{name: "instanceIds twice", in: "json", input: `{"instanceIds":["` + goodID + `"],"instanceIds":["` + goodID2 + `"]}`, want: "instanceIds"},
	{name: "regionId twice", in: "json", input: `{"regionId":"cn-hangzhou","regionId":"cn-beijing","instanceIds":["` + goodID + `"]}`, want: "regionId"},
	{name: "RegionId twice in a form", in: "form", input: `RegionId=cn-hangzhou&RegionId=cn-beijing&InstanceId.1=` + goodID, want: "RegionId"},
	{name: "InstanceId.1 twice in a form", in: "form", input: `InstanceId.1=` + goodID + `&InstanceId.1=` + goodID2, want: "InstanceId.1"},
	{name: "mixed spellings", in: "json", input: `{"regionId":"cn-hangzhou","RegionId":"cn-hangzhou","instanceIds":["` + goodID + `"]}`, want: "RegionId"},
	{name: "instanceIds beside InstanceId.1", in: "json", input: `{"instanceIds":["` + goodID + `"],"InstanceId.1":"` + goodID2 + `"}`, want: "InstanceId.1"},

	// Empty and oversized lists.
	{name: "no IDs", in: "json", input: `{"instanceIds":[]}`, want: "instanceIds"},
	{name: "an empty ID", in: "json", input: `{"instanceIds":[""]}`, want: "instanceIds[0]"},
	{name: "an empty item in a list", in: "json", input: `{"InstanceId":"` + goodID + `,,` + goodID2 + `"}`, want: "InstanceId[1]"},
	{name: "AllTogether over 100", in: "json", input: `{"batchOptimization":"AllTogether","instanceIds":[` + manyIDs(101) + `]}`, want: "instanceIds"},
	{name: "no instanceIds at all", in: "json", input: `{"regionId":"cn-hangzhou"}`, want: "instanceIds"},

	// IDs with look-alikes, invisible and control characters.
	{name: "Cyrillic i", in: "json", input: `{"instanceIds":["\u0456-bp67acfmxazb4p0001"]}`, want: "instanceIds[0]"},
	{name: "fullwidth digit", in: "json", input: `{"instanceIds":["i-bp67acfmxazb4p000\uff11"]}`, want: "instanceIds[0]"},
	{name: "Unicode hyphen", in: "json", input: `{"instanceIds":["i\u2010bp67acfmxazb4p0001"]}`, want: "instanceIds[0]"},
	{name: "zero-width space", in: "json", input: `{"instanceIds":["i-bp67\u200bacfmxazb4p0001"]}`, want: "instanceIds[0]"},
	{name: "zero-width joiner at the end", in: "json", input: `{"instanceIds":["i-bp67acfmxazb4p0001\u200d"]}`, want: "instanceIds[0]"},
	{name: "BOM inside an ID", in: "json", input: `{"instanceIds":["\ufeffi-bp67acfmxazb4p0001"]}`, want: "instanceIds[0]"},
	{name: "NUL in an ID", in: "json", input: `{"instanceIds":["i-bp67acfmxazb4p0001\u0000"]}`, want: "instanceIds[0]"},
	{name: "bell in an ID", in: "json", input: `{"instanceIds":["i-bp67acf\u0007mxazb4p0001"]}`, want: "instanceIds[0]"},
	{name: "newline after an ID", in: "json", input: `{"instanceIds":["i-bp67acfmxazb4p0001\n"]}`, want: "instanceIds[0]"},
	{name: "CR LF after an ID", in: "json", input: `{"instanceIds":["i-bp67acfmxazb4p0001\r\n"]}`, want: "instanceIds[0]"},
	{name: "tab before an ID", in: "json", input: `{"instanceIds":["\ti-bp67acfmxazb4p0001"]}`, want: "instanceIds[0]"},
	{name: "space after an ID", in: "json", input: `{"instanceIds":["i-bp67acfmxazb4p0001 "]}`, want: "instanceIds[0]"},
	{name: "upper case ID", in: "json", input: `{"instanceIds":["I-BP67ACFMXAZB4P0001"]}`, want: "instanceIds[0]"},
	{name: "ID too short", in: "json", input: `{"instanceIds":["i-abc"]}`, want: "instanceIds[0]"},
	{name: "ID too long", in: "json", input: `{"instanceIds":["i-` + strings.Repeat("a", 31) + `"]}`, want: "instanceIds[0]"},
	{name: "newline in a form ID", in: "form", input: `InstanceId.1=` + goodID + `%0A`, want: "InstanceId.1"},
	{name: "NUL in a query ID", in: "query", input: `InstanceId.1=` + goodID + `%00`, want: "InstanceId.1"},

	// Smuggling into query and form bodies.
	{name: "%26Action= inside an ID", in: "form", input: `InstanceId.1=` + goodID + `%26Action%3DStopInstances`, want: "InstanceId.1"},
	{name: "; then Action= inside an ID", in: "form", input: `InstanceId.1=` + goodID + `;Action=StopInstances`, want: "body"},
	{name: "Action=StopInstances", in: "form", input: `Action=StopInstances&InstanceId.1=` + goodID, want: "Action"},
	{name: "Action given twice", in: "form", input: `Action=StartInstances&Action=StopInstances&InstanceId.1=` + goodID, want: "Action"},
	{name: "Action=StopInstances in JSON", in: "json", input: `{"Action":"StopInstances","InstanceId":["` + goodID + `"]}`, want: "Action"},
	{name: "& inside a JSON ID", in: "json", input: `{"instanceIds":["` + goodID + `&Action=StopInstances"]}`, want: "instanceIds[0]"},
	{name: "%26 inside the region", in: "query", input: `RegionId=cn-hangzhou%26Action%3DStopInstances&InstanceId.1=` + goodID, want: "RegionId"},
	{name: "Action in the query beside a JSON body", in: "query", input: `Action=StopInstances&InstanceId.1=` + goodID, want: "Action"},

	// Indexes.
	{name: "InstanceId.0", in: "form", input: `InstanceId.0=` + goodID, want: "InstanceId.0"},
	{name: "sparse indexes", in: "form", input: `InstanceId.1=` + goodID + `&InstanceId.3=` + goodID2, want: "InstanceId.3"},
	{name: "a huge index", in: "form", input: `InstanceId.1=` + goodID + `&InstanceId.99999999999999999999=` + goodID2, want: "InstanceId.99999999999999999999"},
	{name: "a negative index", in: "form", input: `InstanceId.-1=` + goodID, want: "InstanceId.-1"},
	{name: "a leading zero", in: "form", input: `InstanceId.01=` + goodID, want: "InstanceId.01"},
	{name: "a letter in the index", in: "form", input: `InstanceId.1a=` + goodID, want: "InstanceId.1a"},
	{name: "no index", in: "form", input: `InstanceId.=` + goodID, want: "InstanceId."},
	{name: "a huge index in the query", in: "query", input: `InstanceId.4294967297=` + goodID, want: "InstanceId.4294967297"},

	// Regions, modes, times, unknown fields.
	{name: "region with a newline", in: "json", input: `{"regionId":"cn-hangzhou\n","instanceIds":["` + goodID + `"]}`, want: "regionId"},
	{name: "region upper case", in: "json", input: `{"regionId":"CN-HANGZHOU","instanceIds":["` + goodID + `"]}`, want: "regionId"},
	{name: "region a host name", in: "json", input: `{"regionId":"cn-hangzhou.evil.example","instanceIds":["` + goodID + `"]}`, want: "regionId"},
	{name: "region a path", in: "json", input: `{"regionId":"../../cn-hangzhou","instanceIds":["` + goodID + `"]}`, want: "regionId"},
	{name: "region empty", in: "json", input: `{"regionId":"","instanceIds":["` + goodID + `"]}`, want: "regionId"},
	{name: "unknown batchOptimization", in: "json", input: `{"batchOptimization":"Both","instanceIds":["` + goodID + `"]}`, want: "batchOptimization"},
	{name: "notAfter in milliseconds", in: "json", input: `{"notAfter":1795654800000,"instanceIds":["` + goodID + `"]}`, want: "notAfter"},
	{name: "notAfter milliseconds as a string", in: "json", input: `{"notAfter":"1795654800000","instanceIds":["` + goodID + `"]}`, want: "notAfter"},
	{name: "notAfter not a time", in: "json", input: `{"notAfter":"tomorrow","instanceIds":["` + goodID + `"]}`, want: "notAfter"},
	{name: "notAfter month 13", in: "json", input: `{"notAfter":"2026-13-01T00:00:00Z","instanceIds":["` + goodID + `"]}`, want: "notAfter"},
	{name: "misspelt field", in: "json", input: `{"instanceID":["` + goodID + `"]}`, want: "instanceID"},
	{name: "unknown field", in: "json", input: `{"instanceIds":["` + goodID + `"],"force":true}`, want: "force"},
	{name: "unknown form field", in: "form", input: `InstanceId.1=` + goodID + `&Force=true`, want: "Force"},

	// The envelope: base64 that is not, a malformed event, headers.
	{name: "base64 that is not", in: "b64", input: `{"instanceIds":["` + goodID + `"]}`, want: "body"},
	{name: "base64 of a truncated body", in: "b64", input: "eyJpbnN0YW5jZUlkcyI6", want: "body"},
	{name: "event with two bodies", in: "event", input: `{"version":"v1","rawPath":"/","headers":{"Authorization":"Bearer ` + invWebhookSecret + `"},"queryParameters":{},"body":"{}","body":"{}","isBase64Encoded":false,"requestContext":{"requestId":"r"}}`, want: "body"},
	{name: "event body a number", in: "event", input: `{"version":"v1","rawPath":"/","headers":{"Authorization":"Bearer ` + invWebhookSecret + `"},"queryParameters":{},"body":5,"isBase64Encoded":false,"requestContext":{"requestId":"r"}}`, want: "body"},
	{name: "timeEpoch not milliseconds", in: "event", input: `{"version":"v1","rawPath":"/","headers":{"Authorization":"Bearer ` + invWebhookSecret + `"},"queryParameters":{},"body":"{}","isBase64Encoded":false,"requestContext":{"requestId":"r","timeEpoch":"soon"}}`, want: "timeEpoch"},
	{name: "an oversized Authorization header", in: "json", input: `{"instanceIds":["` + goodID + `"]}`, want: "Authorization", status: http.StatusUnauthorized,
		headers: map[string]string{"Authorization": "Bearer " + strings.Repeat("A", 64<<10)}},
	{name: "an oversized signature header", in: "json", input: `{"instanceIds":["` + goodID + `"]}`, want: "X-Signature-256", status: http.StatusUnauthorized,
		headers: map[string]string{"Authorization": "", "X-Signature-Timestamp": "1", "X-Signature-256": "sha256=" + strings.Repeat("0", 64<<10)}},
	{name: "a signature timestamp in milliseconds", in: "json", input: `{"instanceIds":["` + goodID + `"]}`, want: "milliseconds", status: http.StatusUnauthorized,
		headers: msSignature(`{"instanceIds":["` + goodID + `"]}`)},
	{name: "a body over MAX_BODY_BYTES", in: "json", input: `{"instanceIds":[` + manyIDs(80000) + `]}`, want: "MAX_BODY_BYTES", status: http.StatusRequestEntityTooLarge},
}

// msSignature signs body correctly, but with the timestamp in milliseconds.
func msSignature(body string) map[string]string {
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(invWebhookSecret))
	fmt.Fprintf(mac, "%s.%s", ts, body)
	return map[string]string{"Authorization": "", "X-Signature-Timestamp": ts, "X-Signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil))}
}

// catalogueEvent is the FC event of a catalogue entry, and whether it is an
// HTTP event (else a direct invoke).
func catalogueEvent(c badInput) []byte {
	headers := map[string]string{"Authorization": "Bearer " + invWebhookSecret, "Content-Type": "application/json"}
	query := map[string]any{}
	body := c.input
	b64 := false
	switch c.in {
	case "event":
		return []byte(c.input)
	case "form":
		headers["Content-Type"] = "application/x-www-form-urlencoded"
	case "query":
		q, ok := queryOf(c.input)
		if !ok {
			panic("catalogue: bad query " + c.input)
		}
		query, body = q, ""
		if c.name == "Action in the query beside a JSON body" {
			body = `{"instanceIds":["` + goodID + `"]}`
		}
	case "b64":
		// As sent: isBase64Encoded, but the body is what it is.
		b64 = true
	}
	for k, v := range c.headers {
		if v == "" {
			delete(headers, k)
			continue
		}
		headers[k] = v
	}
	ev := map[string]any{
		"version": "v1", "rawPath": "/", "headers": headers, "queryParameters": query,
		"body": body, "isBase64Encoded": b64,
		"requestContext": map[string]any{"requestId": "cat-1", "timeEpoch": fmt.Sprint(time.Now().UnixMilli()),
			"http": map[string]any{"method": "POST", "sourceIp": "203.0.113.9"}},
	}
	out, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return out
}

func TestCatalogueOfBadInputs(t *testing.T) {
	if len(badInputs) < 60 {
		t.Fatalf("the catalogue holds %d inputs; RELIABILITY.md promises at least 60", len(badInputs))
	}
	for _, c := range badInputs {
		t.Run(c.name, func(t *testing.T) {
			h, ecs, logs := fuzzHandler(t, nil)
			ctx, cancel := context.WithTimeout(invContext(context.Background(), "cat-1"), 20*time.Second)
			defer cancel()
			payload := catalogueEvent(c)
			out, err := h.Handle(ctx, payload)
			if err != nil {
				t.Fatalf("the invocation failed: %v", err)
			}
			var resp HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
				t.Fatalf("not an HTTP answer: %.300s", out)
			}
			run := invocationRun{input: payload, answer: []byte(resp.Body), logs: []byte(logs.String()), status: resp.StatusCode}
			run.sent, run.accepted, run.calls = ecs.sent()
			checkInvocation(t, run)
			want := c.status
			if want == 0 {
				want = http.StatusBadRequest
			}
			if resp.StatusCode != want {
				t.Fatalf("HTTP %d, want %d: %.400s", resp.StatusCode, want, resp.Body)
			}
			if run.calls != 0 {
				t.Fatalf("%d ECS calls", run.calls)
			}
			var eb ErrorBody
			if err := json.Unmarshal([]byte(resp.Body), &eb); err != nil {
				t.Fatalf("the body is not an error body: %v", err)
			}
			if !namesField(eb, c.want) {
				t.Fatalf("the refusal does not name %q: %.400s", c.want, resp.Body)
			}
			if len(resp.Body) > 8<<10 {
				t.Fatalf("the answer has %d bytes: a refusal stays short", len(resp.Body))
			}
		})
	}
}

// namesField reports whether an error body names want: in an error's Field,
// or (for what is not a field: a header, a limit) in its Message.
func namesField(eb ErrorBody, want string) bool {
	for _, e := range eb.Errors {
		if e.Field == want || strings.HasPrefix(e.Field, want+".") || strings.HasPrefix(e.Field, want+"[") {
			return true
		}
	}
	return strings.Contains(eb.Message, want)
}

// The same inputs as direct invokes: nothing is sent, and the answer says
// what was wrong — each ID-like instance Rejected (InvalidParameter), or a
// refused Ignored entry — naming the field.
func TestCatalogueAsDirectInvokes(t *testing.T) {
	for _, c := range badInputs {
		trimmed := strings.TrimPrefix(c.input, "\ufeff")
		if c.in != "json" || c.status != 0 || (trimmed[0] != '{' && trimmed[0] != '[') {
			// Over HTTP only: a bare string or number invoked directly may
			// be an MNS topic message in the STREAM form, news to skip.
			continue
		}
		want := c.want
		if want == "body" {
			want = "payload"
		}
		t.Run(c.name, func(t *testing.T) {
			h, ecs, logs := fuzzHandler(t, nil)
			payload := []byte(c.input)
			out, err := h.Handle(invContext(context.Background(), "cat-d"), payload)
			run := invocationRun{input: payload, answer: out, err: err, logs: []byte(logs.String())}
			run.sent, run.accepted, run.calls = ecs.sent()
			checkInvocation(t, run)
			if run.calls != 0 {
				t.Fatalf("%d ECS calls", run.calls)
			}
			var res result.Result
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatal(err)
			}
			named := false
			for _, ir := range res.InstanceResponses.InstanceResponse {
				if ir.Outcome != result.Rejected || ir.Code != result.CodeInvalidParameter {
					t.Fatalf("%s: %s %s, want Rejected InvalidParameter", ir.InstanceID, ir.Outcome, ir.Code)
				}
				named = named || strings.Contains(ir.Message, want)
			}
			for _, ig := range res.Ignored {
				if ig.Code == "" {
					continue
				}
				named = named || strings.Contains(ig.Reason, want)
			}
			if !named {
				t.Fatalf("nothing in the answer names %q: %s", want, out)
			}
		})
	}
}
