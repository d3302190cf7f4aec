package starter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/aliyun"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
)

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
func rewriteEmu(t *testing.T, action string, rewrite func(status int, body map[string]any) (int, []byte)) *aliyun.ECS {
	t.Helper()
	srv := newSDKEmu(t, ecsemu.Options{})
	srv.SetFaults(ecsemu.Faults{Action: action, Rewrite: func(_ string, status int, body []byte) (int, []byte) {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("the emulator's answer: %v", err)
		}
		return rewrite(status, m)
	}})
	return newSDK(t, aliyun.Options{Endpoint: srv.URL()})
}

// DESIGN §7: a body that does not parse is described by its size and status,
// never quoted, whatever the status.
func TestSDKUnparsableAnswerIsNeverQuoted(t *testing.T) {
	tok := sdkSTS.SecurityToken
	in := ecsapi.StartInstancesInput{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-sdk00"}, BatchOptimization: ecsapi.SuccessFirst}
	for _, tc := range []struct {
		name   string
		status int
		body   string
	}{
		{"html 200", 200, "<html><body>proxy says " + tok + "</body></html>"},
		{"token first 200", 200, tok + "<html>"},
		{"truncated json 200", 200, `{"RequestId":"` + tok},
		{"wrong types 200", 200, `{"RequestId":"R","InstanceResponses":{"InstanceResponse":[{"InstanceId":{"x":"` + tok + `"}}]}}`},
		{"html 502", 502, "<html>bad gateway " + tok + "</html>"},
		{"html 403", 403, "<html>denied " + tok + "</html>"},
		{"json without code 400", 400, `{"Message":"` + tok + `","RequestId":"R"}`},
		{"non-string code 400", 400, `{"Code":5,"Message":"` + tok + `","RequestId":"R"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := rewriteEmu(t, "StartInstances", func(int, map[string]any) (int, []byte) { return tc.status, []byte(tc.body) })
			out, err := e.StartInstances(context.Background(), sdkSTS, in)
			if err == nil {
				t.Fatalf("an unparsable answer gave %+v", out)
			}
			text := err.Error()
			assertNoSecretPiece(t, text, sdkSTS)
			if strings.Contains(text, "proxy says") || strings.Contains(text, "bad gateway") || strings.Contains(text, "<html") || strings.Contains(text, "denied") {
				t.Fatalf("the body is quoted: %s", text)
			}
			if !strings.Contains(text, fmt.Sprint(tc.status)) || !strings.Contains(text, "bytes") {
				t.Fatalf("%q does not describe the answer by status and size", text)
			}
			v := classify(err)
			assertNoSecretPiece(t, v.Code+v.Message+v.RequestID, sdkSTS)
		})
	}
}

// fakeDNS answers every query with rcode (3 NXDOMAIN, 2 SERVFAIL), or not at
// all with rcode < 0: a resolver that needs no DNS on the machine.
func fakeDNS(t *testing.T, rcode int) (addr string, queries *atomic.Int32) {
	t.Helper()
	pc, err := (&net.ListenConfig{}).ListenPacket(t.Context(), "udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	queries = &atomic.Int32{}
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			queries.Add(1)
			if rcode < 0 || n < 12 {
				continue
			}
			// The header with QR, RD and RA set and the rcode; the question echoed.
			q := buf[:n]
			resp := append([]byte(nil), q[:2]...)
			resp = append(resp, 0x80|q[2]&0x01, 0x80|byte(rcode), 0, 1, 0, 0, 0, 0, 0, 0)
			i := 12
			for i < n && q[i] != 0 {
				i += int(q[i]) + 1
			}
			if i+5 > n {
				continue
			}
			resp = append(resp, q[12:i+5]...)
			_, _ = pc.WriteTo(resp, from)
		}
	}()
	return pc.LocalAddr().String(), queries
}

// dnsTransport resolves through the DNS server at addr only.
func dnsTransport(addr string) *http.Transport {
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
	return &http.Transport{DialContext: (&net.Dialer{Timeout: time.Second, Resolver: r}).DialContext}
}

// DESIGN §7: a region whose ECS host does not resolve (NXDOMAIN) is Failed
// InvalidRegionId, never retried; a DNS failure that is not a definite "not
// found" (SERVFAIL, no answer) stays transient.
func TestRegionWithoutEndpointIsInvalidRegionID(t *testing.T) {
	in := ecsapi.StartInstancesInput{RegionID: "xx-nowhere-9", InstanceIDs: []string{"i-sdk00"}, BatchOptimization: ecsapi.SuccessFirst}
	for _, endpoint := range []string{"", "https://ecs-vpc.{regionId}.aliyuncs.com"} {
		addr, queries := fakeDNS(t, 3)
		e := newSDK(t, aliyun.Options{Endpoint: endpoint, Transport: dnsTransport(addr)})
		_, err := e.StartInstances(context.Background(), sdkSTS, in)
		var pe *ecsapi.PermanentError
		if !errors.As(err, &pe) || pe.Code != result.CodeInvalidRegionID {
			t.Fatalf("endpoint %q: error = %T %v, want *PermanentError %s", endpoint, err, err, result.CodeInvalidRegionID)
		}
		if queries.Load() == 0 {
			t.Fatal("the fake DNS server was not asked")
		}

		// Through the starter: Failed at once, with advice, after one call.
		s := &Starter{ECS: e, MaxConcurrent: 4, Backoff: fastBackoff}
		before := queries.Load()
		for _, g := range []Group{
			{Scope: ecsapi.Scope{Region: "xx-nowhere-9"}, InstanceIDs: []string{"i-a", "i-b"}, BatchOptimization: ecsapi.SuccessFirst},
			{Scope: ecsapi.Scope{Region: "xx-nowhere-9"}, InstanceIDs: []string{"i-c"}, BatchOptimization: ecsapi.AllTogether},
			{Scope: ecsapi.Scope{Region: "xx-nowhere-9"}, InstanceIDs: []string{"i-d"}, BatchOptimization: ecsapi.SuccessFirst, DryRun: true},
		} {
			res, _ := s.startAll(context.Background(), sdkSTS, []Group{g})
			for _, id := range g.InstanceIDs {
				ir := res[ecsapi.InstanceKey(ecsapi.Scope{Region: "xx-nowhere-9"}, id)]
				if ir.Outcome != result.Failed || ir.Code != result.CodeInvalidRegionID || ir.Advice == "" || ir.Retryable {
					t.Fatalf("%+v: %s = %+v, want Failed %s with advice", g, id, ir, result.CodeInvalidRegionID)
				}
			}
		}
		// Each of the three groups makes one call, each call at most a few
		// queries (A and AAAA, search domains): never eight attempts.
		if n := queries.Load() - before; n > 3*8 {
			t.Fatalf("%d DNS queries for three groups: the call was retried", n)
		}
	}

	for name, rcode := range map[string]int{"SERVFAIL": 2, "no answer": -1} {
		t.Run(name, func(t *testing.T) {
			addr, _ := fakeDNS(t, rcode)
			e := newSDK(t, aliyun.Options{Transport: dnsTransport(addr), ConnectTimeout: 500 * time.Millisecond})
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			_, err := e.StartInstances(ctx, sdkSTS, in)
			if v := classify(err); v.Class != transient || v.Code == result.CodeInvalidRegionID {
				t.Fatalf("%s: verdict %+v (%v), want transient", name, v, err)
			}
		})
	}
}

// sdkSTS are the credentials of these tests' calls through the adapter
// (as in the adapter's own tests).
var sdkSTS = ecsapi.Credentials{AccessKeyID: "STS.NUgYrLnoC37mZZCNnAbez2sdk", AccessKeySecret: "7pT4x9vBqR2sLmN8kZ1wY6cE3hJ5gF0d",
	SecurityToken: "CAIS+AF1q6Ft5B2yfSjIr5bkJ/zs3rZn0Y2kdEDMhm4eSt1ahqzYmjz2IHFPenVoBe0ZsvUxmW5Y6P8flrJ0QoRYRUbJdMcq8Y5Z/Sqqvq2V4g=="}

// newSDKEmu is an ECS emulator with i-sdk00 Stopped in cn-hangzhou that
// accepts sdkSTS.
func newSDKEmu(t *testing.T, opts ecsemu.Options) *ecsemu.Server {
	t.Helper()
	if opts.Fleet.Instances == nil {
		opts.Fleet = ecsemu.Fleet{Instances: []ecsemu.Instance{{InstanceID: "i-sdk00", RegionID: "cn-hangzhou", Status: ecsemu.Stopped}}}
	}
	opts.Credentials = append(opts.Credentials,
		ecsemu.Credential{AccessKeyID: sdkSTS.AccessKeyID, AccessKeySecret: sdkSTS.AccessKeySecret, SecurityToken: sdkSTS.SecurityToken})
	srv := ecsemu.New(opts)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func newSDK(t *testing.T, o aliyun.Options) *aliyun.ECS {
	t.Helper()
	e, err := aliyun.NewECS(o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
