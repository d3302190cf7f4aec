package ecsemu

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The Rewrite fault replaces the answer of matching calls after the call took
// effect, and leaves other actions alone.
func TestEmuRewriteFault(t *testing.T) {
	srv := newTestServer(t, Options{})
	var seen []string
	srv.SetFaults(Faults{Action: "StartInstances", Rewrite: func(action string, status int, body []byte) (int, []byte) {
		seen = append(seen, action)
		if status != 200 || !strings.Contains(string(body), "i-stopped01") {
			t.Errorf("Rewrite got %d %s, want the emulator's answer", status, body)
		}
		return 502, []byte(`{"proxy":"page"}`)
	}})
	p := signed(http.MethodPost, akCred, "StartInstances", startParams("SuccessFirst", false, "i-stopped01"))
	a := send(t, srv, http.MethodPost, p)
	if a.status != 502 || a.raw != `{"proxy":"page"}` {
		t.Fatalf("answer %d %s, want the rewritten one", a.status, a.raw)
	}
	if s := status(t, srv, "i-stopped01"); s == Stopped {
		t.Fatal("the call did not take effect before its answer was rewritten")
	}
	d := send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "DescribeInstances", url.Values{"RegionId": {"cn-hangzhou"}}))
	if d.status != 200 || len(seen) != 1 || seen[0] != "StartInstances" {
		t.Fatalf("DescribeInstances %d, rewrites %v: a StartInstances rewrite touched another action", d.status, seen)
	}
}
