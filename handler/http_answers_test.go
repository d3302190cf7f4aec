package handler

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/result"
)

func TestMalformedHTTPEventIsA400(t *testing.T) {
	h, logs := testHandler(t, map[string]string{"WEBHOOK_SECRET": "0123456789abcdef"}, &ecsapitest.ECS{})
	ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: "r1"})
	for _, tc := range []struct {
		payload string
		want    int
	}{
		{`{"rawPath":"/","headers":{"Authorization":"Bearer 0123456789abcdef"},"isBase64Encoded":true,"body":"not base64!!","requestContext":{}}`, 400},
		{`{"rawPath":"/","headers":{},"isBase64Encoded":true,"body":"not base64!!","requestContext":{}}`, 401},
		{`{"BodY":"0","isBase64Encoded":true,"requestContext":{}}`, 401},
		{`{"rawPath":"/","headers":{"Authorization":"Bearer 0123456789abcdef"},"requestContext":{"timeEpoch":"soon"}}`, 400},
	} {
		logs.Reset()
		out, err := h.Handle(ctx, []byte(tc.payload))
		if err != nil {
			t.Fatalf("%s: %v", tc.payload, err)
		}
		var resp HTTPResponse
		if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != tc.want {
			t.Fatalf("%s: %s, want %d", tc.payload, out, tc.want)
		}
		if n := strings.Count(logs.String(), `"msg":"summary"`); n != 1 {
			t.Fatalf("%d summary lines", n)
		}
	}
}

func TestXMLLeavesOutEmptyInstanceIds(t *testing.T) {
	b, err := xml.Marshal(result.Result{Ignored: []result.IgnoredEvent{{Source: "s", Reason: "r"}, {Source: "t", Reason: "u", InstanceIDs: []string{"i-abcdef01"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(b), "<InstanceIds>") != 1 || !strings.Contains(string(b), "<InstanceIds><InstanceId>i-abcdef01</InstanceId></InstanceIds>") {
		t.Fatalf("%s", b)
	}
}

func TestAnswersDoNotEscapeHTML(t *testing.T) {
	h, _ := testHandler(t, map[string]string{"WEBHOOK_SECRET": "0123456789abcdef"}, &ecsapitest.ECS{})
	out, err := h.Handle(context.Background(), []byte(`{"rawPath":"/","headers":{},"body":"{}","requestContext":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	var resp HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || !strings.Contains(resp.Body, "Bearer <WEBHOOK_SECRET>") {
		t.Fatalf("%s", out)
	}
}

// An HTTP request's age comes from requestContext.timeEpoch (DecodeHTTP gives
// it to every message without a time of its own).
func TestOldHTTPRequestIsExpired(t *testing.T) {
	f := &ecsapitest.ECS{}
	h, _ := testHandler(t, map[string]string{"HTTP_AUTH": "trigger", "DEFAULT_REGION_ID": "cn-hangzhou"}, f)
	old := time.Now().Add(-3 * time.Hour).UnixMilli()
	out, err := h.Handle(context.Background(), []byte(fmt.Sprintf(
		`{"rawPath":"/","headers":{},"body":"{\"instanceIds\":[\"i-bp67acfmxazb4p0001\"]}","requestContext":{"timeEpoch":"%d"}}`, old)))
	if err != nil {
		t.Fatal(err)
	}
	var resp HTTPResponse
	var r result.Result
	if json.Unmarshal(out, &resp) != nil || json.Unmarshal([]byte(resp.Body), &r) != nil {
		t.Fatalf("%s", out)
	}
	if resp.StatusCode != 200 || len(r.Ignored) != 1 || !strings.HasPrefix(r.Ignored[0].Reason, "expired") || len(f.Calls()) != 0 {
		t.Fatalf("%s", out)
	}
}
