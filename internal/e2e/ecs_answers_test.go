package e2e

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/fcemu"
	"github.com/start-ecs/start-ecs/internal/harness"
)

// assertNoSecretPiece fails if text holds any 16 characters in a row of the
// role's secret or token, plain or URL-encoded (DESIGN §7).
func assertNoSecretPiece(t *testing.T, what, text string) {
	t.Helper()
	low := strings.ToLower(text)
	for _, secret := range []string{harness.Role.AccessKeySecret, harness.Role.SecurityToken} {
		once := url.QueryEscape(secret)
		for _, form := range []string{secret, once, url.QueryEscape(once)} {
			form = strings.ToLower(form)
			for i := 0; i+16 <= len(form); i++ {
				if strings.Contains(low, form[i:i+16]) {
					t.Fatalf("%s holds a 16-character piece of a secret (%.4s…)", what, form[i:i+16])
				}
			}
		}
	}
}

// rewrite installs an ecsemu Rewrite fault for action that edits the JSON
// answer as a map.
func rewrite(t *testing.T, h *harness.Harness, action string, edit func(status int, m map[string]any) (int, []byte)) {
	h.ECS.SetFaults(ecsemu.Faults{Action: action, Rewrite: func(_ string, status int, body []byte) (int, []byte) {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("the emulator's answer: %v", err)
		}
		return edit(status, m)
	}})
}

// DESIGN §7: no piece of the token reaches a log line or the
// answer — not from a body that does not parse, not from any field ECS sent.
func TestSecretsInECSAnswersReachNoOutput(t *testing.T) {
	t.Parallel()
	tok, sec := harness.Role.SecurityToken, harness.Role.AccessKeySecret
	cases := []struct {
		name   string
		action string
		edit   func(status int, m map[string]any) (int, []byte)
	}{
		{"an HTML 200 holding the token", "StartInstances", func(int, map[string]any) (int, []byte) {
			return 200, []byte("<html><body>" + tok + "</body></html>")
		}},
		{"an HTML 502 holding the secret", "StartInstances", func(int, map[string]any) (int, []byte) {
			return 502, []byte("<html>" + sec + " " + tok + "</html>")
		}},
		{"the token in RequestId, Code and PreviousStatus", "StartInstances", func(status int, m map[string]any) (int, []byte) {
			m["RequestId"] = tok
			for _, e := range m["InstanceResponses"].(map[string]any)["InstanceResponse"].([]any) {
				e := e.(map[string]any)
				e["Code"], e["PreviousStatus"], e["CurrentStatus"], e["Message"] = tok[3:40], tok, tok[20:], sec
			}
			return status, mustJSON(m)
		}},
		{"the token in an error's RequestId and Code", "StartInstances", func(int, map[string]any) (int, []byte) {
			return 403, mustJSON(map[string]any{"RequestId": tok, "Code": "Forbidden." + tok[5:30], "Message": tok})
		}},
		{"the token in DescribeInstances' fields", "DescribeInstances", func(status int, m map[string]any) (int, []byte) {
			m["RequestId"] = tok
			for _, e := range m["Instances"].(map[string]any)["Instance"].([]any) {
				e.(map[string]any)["Status"] = tok[1:30]
			}
			return status, mustJSON(m)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, nil, ecsemu.Options{})
			rewrite(t, h, tc.action, tc.edit)
			// The running instance is looked up after IncorrectInstanceStatus.
			payload := `{"instanceIds":["i-bp67acfmxazb4p0001","i-bp67acfmxazb4p0003"]}`
			out := invoke(t, h, []byte(payload), func(i *fcemu.Invocation) { i.Timeout = 3 * time.Second })
			assertNoSecretPiece(t, "the answer", string(out.Payload)+out.ErrorMessage)
			h.Close()
			assertNoSecretPiece(t, "the function's output", h.Fn.Output())
			if len(out.Logs) == 0 {
				t.Fatal("no log lines")
			}
		})
	}
}

// DESIGN §7: an entry for an instance the call did not name is
// ignored and logged at WARN; a duplicate entry is ignored.
func TestUnaskedEntriesStartNothing(t *testing.T) {
	t.Parallel()
	const asked, other = "i-bp67acfmxazb4p0001", "i-bp67acfmxazb4p0002"
	for _, batch := range []string{"SuccessFirst", "AllTogether"} {
		t.Run(batch, func(t *testing.T) {
			h := start(t, nil, ecsemu.Options{})
			rewrite(t, h, "StartInstances", func(status int, m map[string]any) (int, []byte) {
				if ir, ok := m["InstanceResponses"].(map[string]any); ok {
					list := ir["InstanceResponse"].([]any)
					list = append(list, map[string]any{"InstanceId": other, "Code": "Throttling.User", "Message": "x"},
						map[string]any{"InstanceId": asked, "Code": "Throttling.User", "Message": "again"})
					ir["InstanceResponse"] = list
				}
				return status, mustJSON(m)
			})
			r := result(t, invoke(t, h, mustJSON(map[string]any{"instanceIds": []string{asked}, "batchOptimization": batch})))
			got := outcomes(r)
			if len(got) != 1 || got[asked].Outcome != hresult.Started {
				t.Fatalf("outcomes = %+v", got)
			}
			var starts int
			for _, c := range h.ECS.Calls() {
				if c.Action == "StartInstances" {
					starts++
					if slices.Contains(c.InstanceIDs, other) {
						t.Fatalf("a call started the unasked instance: %+v", c)
					}
				}
			}
			if starts != 1 {
				t.Fatalf("%d StartInstances calls: the duplicate entry re-sent an accepted instance", starts)
			}
			if inst, _ := h.ECS.Instance(other); inst.Status != ecsemu.Stopped {
				t.Fatalf("the unasked instance is %s", inst.Status)
			}
			var warned []string
			for _, l := range out(h, r) {
				if l["msg"] == "ecsAnswer" && l["level"] == "WARN" {
					warned = append(warned, l["instanceId"].(string))
				}
			}
			slices.Sort(warned)
			if !slices.Equal(warned, []string{asked, other}) {
				t.Fatalf("WARN lines for %v, want the unasked and the duplicate entry", warned)
			}
		})
	}
}

// out returns the log lines of the invocation that gave r.
func out(h *harness.Harness, r hresult.Result) []map[string]any {
	return h.Fn.Records(r.RequestID)
}

// DESIGN §7: an AllTogether answer without InstanceResponses
// is not success: the instances are asked again.
func TestAllTogetherAnswerWithoutEntriesIsNotSuccess(t *testing.T) {
	t.Parallel()
	h := start(t, nil, ecsemu.Options{})
	var mu sync.Mutex
	first := true
	rewrite(t, h, "StartInstances", func(status int, m map[string]any) (int, []byte) {
		mu.Lock()
		defer mu.Unlock()
		if first && status == 200 {
			first = false
			delete(m, "InstanceResponses")
		}
		return status, mustJSON(m)
	})
	r := result(t, invoke(t, h, []byte(`{"instanceIds":["i-bp67acfmxazb4p0004","i-bp67acfmxazb4p0005"],"batchOptimization":"AllTogether"}`)))
	for id, ir := range outcomes(r) {
		// The emulator started them; only a second call can tell.
		if ir.Outcome != hresult.AlreadyRunning {
			t.Errorf("%s = %+v, want AlreadyRunning after asking again", id, ir)
		}
	}
	if n := len(h.ECS.Calls()); n < 2 {
		t.Fatalf("%d calls: the empty answer was taken for success", n)
	}

	// That an answer which never names them leaves them Unfinished is
	// handler's TestOmittedInstanceIsMissingInEveryMode: the emulator starts
	// what it is asked, so here a second call always finds them running.
}

// connectProxy is an HTTPS proxy on 127.0.0.1 that records the host of every
// CONNECT and refuses it: it shows where the function would go.
func connectProxy(t *testing.T) (addr string, hosts func() []string) {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	seen := map[string]bool{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				if req.Method == http.MethodConnect {
					mu.Lock()
					seen[req.Host] = true
					mu.Unlock()
				}
				_, _ = c.Write([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"))
			}()
		}
	}()
	return ln.Addr().String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for h := range seen {
			out = append(out, h)
		}
		slices.Sort(out)
		return out
	}
}

// DESIGN §6: without ECS_ENDPOINT the function calls the
// documented https://ecs.{regionId}.aliyuncs.com of every region.
func TestDefaultEndpointIsTheDocumentedOne(t *testing.T) {
	t.Parallel()
	proxy, hosts := connectProxy(t)
	h := start(t, map[string]string{"ECS_ENDPOINT": "", "HTTPS_PROXY": "http://" + proxy, "https_proxy": "http://" + proxy,
		"NO_PROXY": "", "no_proxy": ""}, ecsemu.Options{})
	regions := []string{"cn-hangzhou", "cn-shanghai-finance-1", "ap-southeast-1"}
	var reqs []map[string]any
	for _, r := range regions {
		reqs = append(reqs, map[string]any{"regionId": r, "instanceIds": []string{"i-bp67acfmxazb4p0001"}})
	}
	invoke(t, h, mustJSON(reqs), func(i *fcemu.Invocation) { i.Timeout = 2 * time.Second })
	var want []string
	for _, r := range regions {
		want = append(want, "ecs."+r+".aliyuncs.com:443")
	}
	slices.Sort(want)
	if got := hosts(); !slices.Equal(got, want) {
		t.Fatalf("the function went to %v, want %v", got, want)
	}
}

// DESIGN §7: a region whose ECS host does not resolve is
// Failed InvalidRegionId, with advice, and never retried. The host is made
// one no resolver can find (a label longer than DNS allows), so the test needs
// no DNS server: Go reports it as "no such host" (NXDOMAIN) without a query.
// That a DNS timeout or SERVFAIL stays transient is checked in handler's
// tests against a fake DNS server.
func TestRegionWithoutEndpointFails(t *testing.T) {
	t.Parallel()
	endpoint := "http://ecs.{regionId}." + strings.Repeat("x", 64) + ".test"
	h := start(t, map[string]string{"ECS_ENDPOINT": endpoint}, ecsemu.Options{})
	o := invoke(t, h, []byte(`{"regionId":"xx-nowhere-9","instanceIds":["i-bp67acfmxazb4p0001","i-bp67acfmxazb4p0002"]}`),
		func(i *fcemu.Invocation) { i.Timeout = 10 * time.Second })
	r := result(t, o)
	for id, ir := range outcomes(r) {
		if ir.Outcome != hresult.Failed || ir.Code != hresult.CodeInvalidRegionID || ir.Advice == "" || ir.Retryable {
			t.Fatalf("%s = %+v, want Failed %s with advice", id, ir, hresult.CodeInvalidRegionID)
		}
	}
	if o.Duration > 2*time.Second {
		t.Fatalf("took %v: the call was retried", o.Duration)
	}
}
