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

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
)

const authTestSecret = "0123456789abcdef-webhook"

// authEvent is an FC 3.0 HTTP trigger event with the given body, headers and query.
func authEvent(t *testing.T, body string, headers, query map[string]string) []byte {
	t.Helper()
	ev := map[string]any{
		"version": "v1", "rawPath": "/", "headers": headers, "queryParameters": query,
		"body": body, "isBase64Encoded": false,
		"requestContext": map[string]any{"requestId": "auth-1", "timeEpoch": strconv.FormatInt(time.Now().UnixMilli(), 10),
			"http": map[string]any{"method": "POST", "sourceIp": "203.0.113.9"}},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func signedHeaders(secret, body string) map[string]string {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%s.%s", ts, body)
	return map[string]string{"X-Signature-Timestamp": ts, "X-Signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil)),
		"Content-Type": "application/x-www-form-urlencoded"}
}

// DESIGN §6 (WEBHOOK_SECRET): the HMAC covers the body alone, so start-request
// fields in the query beside a signature-only authentication get 401 — or one
// signed request (an empty body, say) would authorize any query for 300 s. The
// rule is about every query parameter that could be read as a request, in
// either spelling, whatever the body; a bearer or a token parameter covers the
// query and still works.
func TestSignatureDoesNotCoverTheQuery(t *testing.T) {
	fl := ecsapitest.NewFleet(map[string]string{"i-bp67acfmxazb4p0001": "Stopped", "i-bp67acfmxazb4p0002": "Stopped"})
	ecs := fl.ECS()
	h, logs := testHandler(t, map[string]string{"WEBHOOK_SECRET": authTestSecret, "DEFAULT_REGION_ID": "cn-hangzhou"}, ecs)
	ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: "r1",
		Credentials: fccontext.Credentials{AccessKeyId: "STS.a", AccessKeySecret: "s", SecurityToken: "t"}})

	signedBody := `{"instanceIds":["i-bp67acfmxazb4p0001"]}`
	refused := []struct {
		name  string
		body  string
		query map[string]string
	}{
		{"empty body, indexed IDs", "", map[string]string{"RegionId": "cn-hangzhou", "InstanceId.1": "i-bp67acfmxazb4p0002"}},
		{"empty body, region alone", "", map[string]string{"RegionId": "cn-hangzhou"}},
		{"empty body, JSON-array IDs", "", map[string]string{"InstanceId": `["i-bp67acfmxazb4p0002"]`}},
		{"empty body, canonical spelling", "", map[string]string{"instanceIds": "i-bp67acfmxazb4p0002"}},
		{"empty body, dry run flag", "", map[string]string{"DryRun": "TRUE"}},
		{"empty body, Action", "", map[string]string{"Action": "StartInstances"}},
		{"signed body beside a query", signedBody, map[string]string{"InstanceId.2": "i-bp67acfmxazb4p0002"}},
		{"a wrong token does not help", "", map[string]string{"token": "guess", "InstanceId.1": "i-bp67acfmxazb4p0002"}},
		// A start-request field in any spelling or case (DESIGN §6).
		{"signed body beside a lower-case field", signedBody, map[string]string{"regionid": "cn-beijing", "ref": "deploy-7"}},
		{"signed body beside tag.1.key", signedBody, map[string]string{"tag.1.key": "env"}},
	}
	for _, tc := range refused {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			logs.Reset()
			out, err := h.Handle(ctx, authEvent(t, tc.body, signedHeaders(authTestSecret, tc.body), tc.query))
			if err != nil {
				t.Fatal(err)
			}
			var resp HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Body, "covers the body, not the query") {
				t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
			}
			for _, v := range tc.query {
				if strings.Contains(logs.String(), v) || strings.Contains(resp.Body, v) {
					t.Fatalf("a query value was echoed: %s / %s", resp.Body, logs.String())
				}
			}
		})
	}
	if n := len(ecs.Calls()); n != 0 {
		t.Fatalf("%d StartInstances calls for refused requests", n)
	}

	accepted := []struct {
		name    string
		body    string
		headers map[string]string
		query   map[string]string
	}{
		{"signed body, no query", signedBody, signedHeaders(authTestSecret, signedBody), nil},
		{"signed body, Format only", signedBody, signedHeaders(authTestSecret, signedBody), map[string]string{"Format": "JSON"}},
		// Keys that are no start-request field are ignored beside a body.
		{"signed body, a sender's own keys", signedBody, signedHeaders(authTestSecret, signedBody), map[string]string{"ref": "deploy-7", "source": "x"}},
		{"bearer covers a query request", "", map[string]string{"Authorization": "Bearer " + authTestSecret},
			map[string]string{"RegionId": "cn-hangzhou", "InstanceId.1": "i-bp67acfmxazb4p0002"}},
		{"token covers a query request", "", signedHeaders("another secret", ""),
			map[string]string{"token": authTestSecret, "InstanceId.1": "i-bp67acfmxazb4p0002"}},
	}
	for _, tc := range accepted {
		t.Run("accepted/"+tc.name, func(t *testing.T) {
			out, err := h.Handle(ctx, authEvent(t, tc.body, tc.headers, tc.query))
			if err != nil {
				t.Fatal(err)
			}
			var resp HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
