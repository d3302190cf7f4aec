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

// Call.Started lists the instances a call started, whatever a Rewrite then
// answered, so that a test can count accepted starts per instance; a dry run
// and a refused instance start nothing.
func TestEmuCallRecordsStartedInstances(t *testing.T) {
	srv := newTestServer(t, Options{})
	srv.SetFaults(Faults{Rewrite: func(string, int, []byte) (int, []byte) { return 500, []byte(`{"Code":"InternalError"}`) }})
	send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams("SuccessFirst", false, "i-stopped01", "i-running01")))
	send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams("AllTogether", true, "i-stopped02")))
	calls := srv.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls recorded", len(calls))
	}
	if got := strings.Join(calls[0].Started, ","); got != "i-stopped01" {
		t.Errorf("the start call recorded Started %q, want i-stopped01 alone (i-running01 was refused)", got)
	}
	if len(calls[1].Started) != 0 {
		t.Errorf("a dry run recorded Started %v", calls[1].Started)
	}
}
