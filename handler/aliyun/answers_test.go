package aliyun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
)

// DESIGN §7: any piece of 16 or more characters of the AccessKeySecret or the
// SecurityToken is removed, wherever it starts and however it is encoded.
func TestScrubberRemovesEveryPieceOfASecret(t *testing.T) {
	c := sdkSTS
	for _, secret := range []string{c.SecurityToken, c.AccessKeySecret} {
		for _, form := range secretForms(secret) {
			for _, n := range []int{16, 17, 28, len(form)} {
				for _, off := range []int{0, 1, 7, len(form) - n} {
					if off < 0 || off+n > len(form) {
						continue
					}
					piece := form[off : off+n]
					for _, text := range []string{
						piece,
						"<html><body>" + piece + "</body></html>",
						`readObjectStart: expect { or n, but found <, error found in #1 byte of ...|<html>` + piece + `|..., bigger context ...|` + piece + `|...`,
						"x" + strings.ToLower(piece) + "y" + piece, // percent-encoding in lower case, and two pieces
					} {
						assertNoSecretPiece(t, scrubSecrets(text, c), c)
					}
				}
			}
		}
	}
	// Text around a piece is kept; text without one is untouched.
	got := scrubSecrets("before "+c.SecurityToken[5:40]+" after", c)
	if got != "before [redacted] after" {
		t.Fatalf("scrubbed = %q", got)
	}
	for _, plain := range []string{"The specified InstanceId does not exist.", c.SecurityToken[:15], ""} {
		if got := scrubSecrets(plain, c); got != plain {
			t.Fatalf("scrubSecrets changed %q into %q", plain, got)
		}
	}
}

// A long text is scrubbed in linear time: eight times the text takes about
// eight times as long (the best of seven runs each; a quadratic scan would
// take 64 times), whatever the load of the machine.
func TestScrubberIsLinear(t *testing.T) {
	c := sdkSTS
	text := func(n int) string {
		var b strings.Builder
		for b.Len() < n {
			b.WriteString("some text ")
			b.WriteString(c.SecurityToken[b.Len()%40 : b.Len()%40+20])
		}
		return b.String()
	}
	best := func(s string) time.Duration {
		d := time.Duration(1 << 62)
		var got string
		for range 7 { // the best of seven: a pause of the shared machine touches few of them
			begin := time.Now()
			got = scrubSecrets(s, c)
			d = min(d, time.Since(begin))
		}
		if strings.Contains(got, c.SecurityToken[:16]) || !strings.Contains(got, "[redacted]") {
			t.Fatal("the pieces were not removed")
		}
		return d
	}
	small, large := best(text(16<<10)), best(text(128<<10))
	if large > 24*small {
		t.Fatalf("16 KiB took %v, 128 KiB %v: not linear", small, large)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// DESIGN §7: every field that came from ECS goes through the scrubber, on the
// success path, per instance, in error answers and in DescribeInstances.
func TestSDKScrubsEveryFieldFromECS(t *testing.T) {
	tok, sec := sdkSTS.SecurityToken, sdkSTS.AccessKeySecret
	piece := tok[10:40]
	t.Run("StartInstances success", func(t *testing.T) {
		e := rewriteEmu(t, "StartInstances", func(status int, m map[string]any) (int, []byte) {
			m["RequestId"] = tok
			m["InstanceResponses"] = map[string]any{"InstanceResponse": []any{
				map[string]any{"InstanceId": "i-sdk00", "Code": piece, "Message": sec, "PreviousStatus": tok, "CurrentStatus": "x" + piece},
				map[string]any{"InstanceId": tok, "Code": "200", "Message": "success", "PreviousStatus": "Stopped", "CurrentStatus": "Starting"},
			}}
			return status, mustMarshal(t, m)
		})
		out, err := e.StartInstances(context.Background(), sdkSTS, ecsapi.StartInstancesInput{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-sdk00"}, BatchOptimization: ecsapi.SuccessFirst})
		if err != nil {
			t.Fatal(err)
		}
		assertNoSecretPiece(t, fmt.Sprintf("%+v", out), sdkSTS)
		if len(out.Responses) != 2 || out.Responses[0].InstanceID != "i-sdk00" {
			t.Fatalf("responses = %+v", out.Responses)
		}
	})
	t.Run("StartInstances error", func(t *testing.T) {
		e := rewriteEmu(t, "StartInstances", func(int, map[string]any) (int, []byte) {
			return 400, mustMarshal(t, map[string]any{"RequestId": tok, "Code": "Throttling." + piece, "Message": "m " + sec, "HostId": tok})
		})
		_, err := e.StartInstances(context.Background(), sdkSTS, ecsapi.StartInstancesInput{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-sdk00"}, BatchOptimization: ecsapi.SuccessFirst})
		var api *ecsapi.APIError
		if !errors.As(err, &api) {
			t.Fatalf("error = %v", err)
		}
		assertNoSecretPiece(t, fmt.Sprintf("%+v %v", *api, err), sdkSTS)
	})
	t.Run("DescribeInstances", func(t *testing.T) {
		e := rewriteEmu(t, "DescribeInstances", func(status int, m map[string]any) (int, []byte) {
			m["RequestId"] = piece
			m["Instances"] = map[string]any{"Instance": []any{map[string]any{
				"InstanceId": "i-sdk00", "RegionId": tok, "Status": piece, "StoppedMode": sec,
				"OperationLocks": map[string]any{"LockReason": []any{map[string]any{"LockReason": tok}}},
				"Tags":           map[string]any{"Tag": []any{map[string]any{"TagKey": piece, "TagValue": tok}}},
			}}}
			return status, mustMarshal(t, m)
		})
		out, err := e.DescribeInstances(context.Background(), sdkSTS, "cn-hangzhou", []string{"i-sdk00"})
		if err != nil {
			t.Fatal(err)
		}
		assertNoSecretPiece(t, fmt.Sprintf("%+v", out), sdkSTS)
	})
}

// DESIGN §6: without ECS_ENDPOINT every region is called at the documented
// https://ecs.{regionId}.aliyuncs.com — not the SDK's map, which sends
// cn-hangzhou to ecs-cn-hangzhou.aliyuncs.com and cn-shanghai-finance-1 to
// Hangzhou's host.
func TestSDKDefaultEndpointIsTheDocumentedOne(t *testing.T) {
	for _, region := range []string{"cn-hangzhou", "cn-shanghai-finance-1", "cn-shenzhen-finance-1", "cn-beijing", "ap-southeast-1", "us-west-1", "eu-central-1", "cn-north-2-gov-1"} {
		capture := &captureTransport{}
		e := newSDK(t, Options{Transport: capture})
		if _, err := e.StartInstances(context.Background(), sdkSTS, ecsapi.StartInstancesInput{RegionID: region, InstanceIDs: []string{"i-sdk00"}, BatchOptimization: ecsapi.SuccessFirst}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.DescribeInstances(context.Background(), sdkSTS, region, []string{"i-sdk00"}); err != nil {
			t.Fatal(err)
		}
		for _, req := range capture.reqs {
			if u := req.URL; u.Scheme != "https" || u.Host != "ecs."+region+".aliyuncs.com" {
				t.Errorf("%s is called at %s://%s, want https://ecs.%s.aliyuncs.com", region, u.Scheme, u.Host, region)
			}
		}
	}
}

// secretForms are the encodings in which a secret can appear in a text.
func secretForms(secret string) []string {
	once := url.QueryEscape(secret)
	return []string{secret, once, url.QueryEscape(once), strings.ReplaceAll(once, "+", "%20")}
}

// assertNoSecretPiece fails if text holds any 16 characters in a row of the
// secret or the token, in any encoding, in either case of hex digits (DESIGN
// §7: the scrubber catches any piece of a secret 16 characters or longer).
func assertNoSecretPiece(t *testing.T, text string, creds ecsapi.Credentials) {
	t.Helper()
	low := strings.ToLower(text)
	for _, secret := range []string{creds.AccessKeySecret, creds.SecurityToken} {
		for _, form := range secretForms(secret) {
			form = strings.ToLower(form)
			for i := 0; i+16 <= len(form); i++ {
				if strings.Contains(low, form[i:i+16]) {
					t.Fatalf("text holds a 16-character piece %q of a secret: %s", form[i:i+16], text)
				}
			}
		}
	}
}

// rewriteEmu answers every call of action with what rewrite makes of the
// emulator's answer.
func rewriteEmu(t *testing.T, action string, rewrite func(status int, body map[string]any) (int, []byte)) *ECS {
	t.Helper()
	srv := newSDKEmu(t, ecsemu.Options{})
	srv.SetFaults(ecsemu.Faults{Action: action, Rewrite: func(_ string, status int, body []byte) (int, []byte) {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("the emulator's answer: %v", err)
		}
		return rewrite(status, m)
	}})
	return newSDK(t, Options{Endpoint: srv.URL()})
}
