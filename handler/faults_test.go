package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/aliyun"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
)

// The fault matrix of RELIABILITY.md: the real handler and SDK adapter
// against the ECS emulator, each fault over 1, 100 and 1,000 instances. In
// every cell: every instance reported exactly once; Unfinished exactly for
// transient failures (and the invocation's error exactly then); no instance
// started twice; the same handler serves the next invocation; no secret, and
// no signature the SDK sent, in any answer or log line.

// signatureRecorder is the adapter's connection pool, noting the Signature
// of every request sent, so that the outputs can be searched for them.
type signatureRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	sigs []string
}

func (r *signatureRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if sig := req.URL.Query().Get("Signature"); sig != "" {
		r.mu.Lock()
		r.sigs = append(r.sigs, sig)
		r.mu.Unlock()
	}
	return r.next.RoundTrip(req)
}

func (r *signatureRecorder) signatures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sigs...)
}

// transientCodes are the codes an Unfinished instance may carry (DESIGN §5, §7).
var transientCodes = map[string]bool{
	"Throttling.User": true, "ServiceUnavailable": true, "InternalError": true, "UnknownError": true,
	result.CodeNetworkError: true, result.CodeDeadlineExceeded: true, result.CodeMissingInstanceResponse: true,
}

// faultCell describes one fault: how to inject it, and what it must give.
type faultCell struct {
	name string
	// faults is injected into the emulator before the invocation; front,
	// when set, stands between the adapter and the emulator instead.
	faults func(c *cellState) ecsemu.Faults
	front  func(c *cellState, emu http.Handler) http.Handler
	// expect: "unfinished" (every instance Unfinished), "done" (none
	// Unfinished: Started or AlreadyRunning), "dropped" (Unfinished only
	// for instances whose entries the fault dropped), "mixed" (Unfinished
	// only with a transient code, none Failed).
	expect   string
	deadline time.Duration // of the invocation; default 60 s
	read     time.Duration // the adapter's ReadTimeout; default 10 s
	// code, when set, is the Code every Unfinished instance must carry.
	code string
}

// cellState is what a fault of one cell remembers.
type cellState struct {
	mu      sync.Mutex
	dropped map[string]bool
	rng     *rand.Rand
	faulted int
}

func (c *cellState) drop(id string) {
	c.mu.Lock()
	c.dropped[id] = true
	c.mu.Unlock()
}

// rewriteStart applies f to StartInstances answers, other actions untouched.
func rewriteStart(f func(status int, body []byte) (int, []byte)) func(string, int, []byte) (int, []byte) {
	return func(action string, status int, body []byte) (int, []byte) {
		if action != "StartInstances" {
			return status, body
		}
		return f(status, body)
	}
}

// firstN faults the first n calls only, then lets answers through.
func firstN(n int, f func(status int, body []byte) (int, []byte)) func(int, []byte) (int, []byte) {
	var mu sync.Mutex
	left := n
	return func(status int, body []byte) (int, []byte) {
		mu.Lock()
		fault := left > 0
		left--
		mu.Unlock()
		if !fault {
			return status, body
		}
		return f(status, body)
	}
}

func truncate(status int, body []byte) (int, []byte) { return status, body[:len(body)/2] }
func htmlPage(int, []byte) (int, []byte) {
	return http.StatusOK, []byte("<html><head><title>Bad Gateway</title></head><body>upstream timed out</body></html>")
}
func malformedJSON(status int, _ []byte) (int, []byte) {
	return status, []byte(`{"RequestId":7,"InstanceResponses":{"InstanceResponse":"none"}}`)
}

// editEntries rewrites the InstanceResponse entries of a StartInstances answer.
func editEntries(body []byte, f func(entries []map[string]any) []map[string]any) []byte {
	var ans struct {
		RequestID         string `json:"RequestId"`
		InstanceResponses struct {
			InstanceResponse []map[string]any `json:"InstanceResponse"`
		} `json:"InstanceResponses"`
	}
	if json.Unmarshal(body, &ans) != nil || len(ans.InstanceResponses.InstanceResponse) == 0 {
		return body
	}
	ans.InstanceResponses.InstanceResponse = f(ans.InstanceResponses.InstanceResponse)
	out, _ := json.Marshal(ans)
	return out
}

var faultCells = []faultCell{
	{name: "500 always", expect: "unfinished", faults: func(*cellState) ecsemu.Faults { return ecsemu.Faults{Internal: 1 << 30} }},
	{name: "500 then recovers", expect: "done", faults: func(*cellState) ecsemu.Faults { return ecsemu.Faults{Internal: 3} }},
	{name: "503 always", expect: "unfinished", faults: func(*cellState) ecsemu.Faults { return ecsemu.Faults{Unavailable: 1 << 30} }},
	{name: "503 then recovers", expect: "done", faults: func(*cellState) ecsemu.Faults { return ecsemu.Faults{Unavailable: 3} }},
	{name: "throttling always", expect: "unfinished", deadline: 2 * time.Second, faults: func(*cellState) ecsemu.Faults { return ecsemu.Faults{Throttle: 1 << 30} }},
	{name: "throttling then recovers", expect: "done", faults: func(*cellState) ecsemu.Faults { return ecsemu.Faults{Throttle: 5} }},
	{name: "resets always", expect: "unfinished", faults: func(*cellState) ecsemu.Faults { return ecsemu.Faults{Reset: 1 << 30} }},
	{name: "resets then recovers", expect: "done", faults: func(*cellState) ecsemu.Faults { return ecsemu.Faults{Reset: 3} }},
	{name: "timeouts", expect: "unfinished", read: 100 * time.Millisecond, code: result.CodeNetworkError,
		faults: func(*cellState) ecsemu.Faults { return ecsemu.Faults{Latency: 400 * time.Millisecond} }},
	{name: "latency past the deadline", expect: "unfinished", deadline: 2 * time.Second, code: result.CodeDeadlineExceeded,
		faults: func(*cellState) ecsemu.Faults { return ecsemu.Faults{Latency: 10 * time.Second} }},
	{name: "truncated JSON always", expect: "unfinished",
		faults: func(*cellState) ecsemu.Faults { return ecsemu.Faults{Rewrite: rewriteStart(truncate)} }},
	{name: "truncated JSON after the start, then recovers", expect: "done",
		faults: func(*cellState) ecsemu.Faults { return ecsemu.Faults{Rewrite: rewriteStart(firstN(2, truncate))} }},
	{name: "malformed JSON always", expect: "unfinished",
		faults: func(*cellState) ecsemu.Faults { return ecsemu.Faults{Rewrite: rewriteStart(malformedJSON)} }},
	{name: "HTML page with status 200 always", expect: "unfinished",
		faults: func(*cellState) ecsemu.Faults { return ecsemu.Faults{Rewrite: rewriteStart(htmlPage)} }},
	{name: "HTML page with status 200, then recovers", expect: "done",
		faults: func(*cellState) ecsemu.Faults { return ecsemu.Faults{Rewrite: rewriteStart(firstN(2, htmlPage))} }},
	{name: "an asked instance missing", expect: "dropped", faults: func(c *cellState) ecsemu.Faults {
		return ecsemu.Faults{Rewrite: rewriteStart(func(status int, body []byte) (int, []byte) {
			return status, editEntries(body, func(es []map[string]any) []map[string]any {
				id, _ := es[0]["InstanceId"].(string)
				c.drop(id)
				return es[1:]
			})
		})}
	}},
	{name: "an instance not asked, and one twice", expect: "done", faults: func(*cellState) ecsemu.Faults {
		return ecsemu.Faults{Rewrite: rewriteStart(func(status int, body []byte) (int, []byte) {
			return status, editEntries(body, func(es []map[string]any) []map[string]any {
				extra := map[string]any{"InstanceId": "i-notasked000001", "Code": "200", "Message": "success",
					"PreviousStatus": "Stopped", "CurrentStatus": "Starting"}
				return append(append(es, es[0]), extra)
			})
		})}
	}},
	{name: "20 % mix of all", expect: "mixed", read: 200 * time.Millisecond, front: mixFront},
}

// mixFront answers 20 % of the calls with one of the faults above, chosen at
// random (seeded), before or after the emulator carried the call out.
func mixFront(c *cellState, emu http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		fault := -1
		if c.rng.IntN(5) == 0 {
			fault = c.rng.IntN(9)
			c.faulted++
		}
		c.mu.Unlock()
		writeErr := func(status int, code string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"RequestId":"MIX-%d","HostId":"ecs","Code":%q,"Message":"injected"}`, fault, code)
		}
		switch fault {
		case 0:
			writeErr(http.StatusInternalServerError, "InternalError")
			return
		case 1:
			writeErr(http.StatusServiceUnavailable, "ServiceUnavailable")
			return
		case 2:
			writeErr(http.StatusBadRequest, "Throttling.User")
			return
		case 3:
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
				}
			}
			return
		case 4:
			select { // past the adapter's read timeout
			case <-time.After(time.Second):
			case <-r.Context().Done():
			}
			return
		}
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, r)
		status, body := rec.Code, rec.Body.Bytes()
		if r.URL.Query().Get("Action") == "StartInstances" {
			switch fault {
			case 5:
				status, body = truncate(status, body)
			case 6:
				status, body = htmlPage(status, body)
			case 7:
				body = editEntries(body, func(es []map[string]any) []map[string]any {
					id, _ := es[0]["InstanceId"].(string)
					c.drop(id)
					return es[1:]
				})
			case 8:
				body = editEntries(body, func(es []map[string]any) []map[string]any {
					return append(es, map[string]any{"InstanceId": "i-notasked000002", "Code": "200", "Message": "success"})
				})
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

func faultFleet(n int) (ecsemu.Fleet, []string) {
	var f ecsemu.Fleet
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("i-fm%08d", i)
		f.Instances = append(f.Instances, ecsemu.Instance{InstanceID: ids[i], RegionID: "cn-hangzhou", Status: ecsemu.Stopped})
	}
	return f, ids
}

func TestFaultMatrix(t *testing.T) {
	sizes := []int{1, 100}
	if longRuns() {
		sizes = append(sizes, 1000) // START_ECS_LONG=1: the 1,000 column (about 40 s under -race)
	}
	for _, cell := range faultCells {
		for _, n := range sizes {
			t.Run(fmt.Sprintf("%s/%d", cell.name, n), func(t *testing.T) {
				t.Parallel()
				runFaultCell(t, cell, n)
			})
		}
	}
}

func runFaultCell(t *testing.T, cell faultCell, n int) {
	fleet, ids := faultFleet(n)
	emu := ecsemu.New(ecsemu.Options{Fleet: fleet, Credentials: []ecsemu.Credential{{AccessKeyID: invCreds.AccessKeyID,
		AccessKeySecret: invCreds.AccessKeySecret, SecurityToken: invCreds.SecurityToken}}})
	state := &cellState{dropped: map[string]bool{}, rng: rand.New(rand.NewPCG(uint64(n), 10))} //nolint:gosec // G404: a reproducible mix, not a secret
	var endpoint string
	if cell.front != nil {
		srv := httptest.NewServer(cell.front(state, emu))
		t.Cleanup(srv.Close)
		endpoint = srv.URL
	} else {
		emu.Start()
		t.Cleanup(emu.Close)
		endpoint = emu.URL()
		emu.SetFaults(cell.faults(state))
	}
	rec := &signatureRecorder{next: aliyun.NewTransport(time.Second)}
	read := cell.read
	if read == 0 {
		read = 10 * time.Second
	}
	sdk, err := aliyun.NewECS(aliyun.Options{Endpoint: endpoint, ReadTimeout: read, Transport: rec})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ConfigFromEnv(envOf(map[string]string{"WEBHOOK_SECRET": invWebhookSecret, "DEFAULT_REGION_ID": "cn-hangzhou"}))
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	var logMu sync.Mutex
	h := New(cfg, nil, sdk, lockedWriter{&logMu, &logs})
	h.starter.Backoff = fastBackoff
	payload, _ := json.Marshal(map[string]any{"regionId": "cn-hangzhou", "instanceIds": ids})

	invoke := func(requestID string, deadline time.Duration) (invocationRun, reported) {
		logMu.Lock()
		logs.Reset()
		logMu.Unlock()
		emu.ResetCalls()
		if deadline == 0 {
			deadline = 60 * time.Second
		}
		ctx, cancel := context.WithTimeout(invContext(context.Background(), requestID), deadline)
		defer cancel()
		began := time.Now()
		answer, err := h.Handle(ctx, payload)
		if took := time.Since(began); took > deadline {
			t.Errorf("%s answered after %v, past its deadline of %v", requestID, took, deadline)
		}
		logMu.Lock()
		run := invocationRun{input: payload, answer: answer, err: err, logs: []byte(logs.String())}
		logMu.Unlock()
		run.sent, run.accepted = map[string]bool{}, map[string]int{}
		for _, c := range emu.Calls() {
			if c.Action != "StartInstances" {
				continue
			}
			run.calls++
			for _, id := range c.InstanceIDs {
				run.sent[ecsapi.InstanceKey(ecsapi.Scope{Region: c.RegionID}, id)] = true
			}
			for _, id := range c.Started {
				run.accepted[ecsapi.InstanceKey(ecsapi.Scope{Region: c.RegionID}, id)]++
			}
		}
		rep := checkInvocation(t, run)
		if len(rep.instances) != n {
			t.Fatalf("%s: %d instances reported, %d named", requestID, len(rep.instances), n)
		}
		checkNamedReported(t, ids, rep)
		for _, sig := range rec.signatures() {
			if strings.Contains(string(run.logs), sig) || strings.Contains(string(run.answer), sig) || strings.Contains(errText(run.err), sig) {
				t.Fatalf("%s: an output holds a signature the SDK sent", requestID)
			}
		}
		return run, rep
	}

	rounds := 1
	if cell.front != nil {
		// A few calls per invocation: run the mix over several, each on
		// the fleet stopped again, so that every fault comes up.
		rounds = 60
		if n >= 1000 {
			rounds = 10
		}
	}
	for round := range rounds {
		if round > 0 {
			for _, id := range ids {
				if err := emu.SetInstance(ecsemu.Instance{InstanceID: id, RegionID: "cn-hangzhou", Status: ecsemu.Stopped}); err != nil {
					t.Fatal(err)
				}
			}
		}
		checkFaultRound(t, cell, n, emu, state, invoke)
	}

	// The same handler serves the next invocation, the fault gone: nothing is
	// left Unfinished, and every instance runs.
	emu.SetFaults(ecsemu.Faults{})
	if cell.front != nil {
		state.mu.Lock()
		state.rng = rand.New(rand.NewPCG(0, 0)) //nolint:gosec // G404: see above
		state.mu.Unlock()
	}
	run2, rep2 := invoke("fault-2", 0)
	if cell.front != nil {
		// The mix goes on in the next invocation: it must still report each
		// instance once and leave only transient failures Unfinished.
		for _, l := range rep2.instances {
			if l.str("outcome") == string(result.Unfinished) && !transientCodes[l.str("code")] {
				t.Errorf("next invocation: %s Unfinished with %s", l.str("instanceId"), l.str("code"))
			}
		}
		return
	}
	if run2.err != nil {
		t.Fatalf("the next invocation failed: %v", run2.err)
	}
	for _, l := range rep2.instances {
		if o := result.Outcome(l.str("outcome")); o != result.Started && o != result.AlreadyRunning {
			t.Errorf("next invocation: %s %s %s", l.str("instanceId"), o, l.str("code"))
		}
	}
	for _, id := range ids {
		if inst, _ := emu.Instance(id); inst.Status != ecsemu.Starting && inst.Status != ecsemu.Running {
			t.Errorf("after the next invocation %s is %s", id, inst.Status)
		}
	}
}

// lockedWriter serializes writes to a builder read by the test.
type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// checkFaultRound runs one invocation under the cell's fault and checks what
// the cell expects of each instance.
func checkFaultRound(t *testing.T, cell faultCell, n int, emu *ecsemu.Server, state *cellState,
	invoke func(string, time.Duration) (invocationRun, reported)) {
	t.Helper()
	run, rep := invoke("fault-1", cell.deadline)
	unfinished := 0
	for k, l := range rep.instances {
		_, id, _ := strings.Cut(k, "/")
		o, code := result.Outcome(l.str("outcome")), l.str("code")
		if o == result.Unfinished {
			unfinished++
			if !transientCodes[code] {
				t.Errorf("%s Unfinished with %s, not a transient code", id, code)
			}
			if cell.code != "" && code != cell.code {
				t.Errorf("%s Unfinished with %s, want %s (%s)", id, code, cell.code, l.str("message"))
			}
		}
		inst, _ := emu.Instance(id)
		if (o == result.Started || o == result.AlreadyRunning) && inst.Status != ecsemu.Starting && inst.Status != ecsemu.Running {
			t.Errorf("%s reported %s, but the emulator has it %s", id, o, inst.Status)
		}
		switch cell.expect {
		case "unfinished":
			if o != result.Unfinished {
				t.Errorf("%s: %s %s, want Unfinished", id, o, code)
			}
		case "done":
			if o != result.Started && o != result.AlreadyRunning {
				t.Errorf("%s: %s %s, want Started or AlreadyRunning", id, o, code)
			}
		case "dropped", "mixed":
			state.mu.Lock()
			dropped := state.dropped[id]
			state.mu.Unlock()
			if o == result.Unfinished && cell.expect == "dropped" && !dropped {
				t.Errorf("%s Unfinished (%s) though its entry was never dropped", id, code)
			}
			if o != result.Unfinished && o != result.Started && o != result.AlreadyRunning {
				t.Errorf("%s: %s %s", id, o, code)
			}
		}
	}
	counts := map[string]int{}
	for _, l := range rep.instances {
		counts[l.str("outcome")+"/"+l.str("code")]++
	}
	t.Logf("%d instances: %v; %d StartInstances calls; %d calls faulted by the mix; %d entries dropped", n, counts, run.calls, state.faulted, len(state.dropped))
	if (run.err != nil) != (unfinished > 0) {
		t.Errorf("error %v with %d unfinished", run.err, unfinished)
	}

}
