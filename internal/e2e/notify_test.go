package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	hresult "github.com/start-ecs/start-ecs/handler/result"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
	"github.com/start-ecs/start-ecs/internal/fcemu"
	"github.com/start-ecs/start-ecs/internal/harness"
	"github.com/start-ecs/start-ecs/internal/robotemu"
)

// The fleet's instance whose account has no balance: its start Failed
// (InsufficientBalance), with advice.
const unpaid = "i-bp1nobalance00001"

var unpaidRequest = `{"regionId":"cn-hangzhou","instanceIds":["` + unpaid + `"]}`

// robotServer starts a robot emulator for the test.
func robotServer(t *testing.T, robots ...robotemu.Robot) *robotemu.Server {
	t.Helper()
	s := robotemu.New(robotemu.Options{Robots: robots})
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// notifyLinesOf are an invocation's notify lines by kind of robot.
func notifyLinesOf(out *harness.Outcome) map[string]map[string]any {
	lines := map[string]map[string]any{}
	for _, l := range out.LogsOf("notify") {
		k, _ := l["kind"].(string)
		lines[k] = l
	}
	return lines
}

// since are the messages robots received after the first n.
func since(robots *robotemu.Server, n int) []robotemu.Message {
	return robots.Messages()[n:]
}

// DESIGN §9, through the real binary: one message per invocation to every
// robot of NOTIFY_URLS at once, each in its robot's format and signed as
// the robot documents (DingTalk's and Lark's secrets after #, the generic
// receiver with NOTIFY_SECRET), the emulator checking each signature; the
// message names the instance that failed and its advice. A robot that took
// it gets no notify line.
func TestNotifyEachRobotKindSigned(t *testing.T) {
	t.Parallel()
	robots := robotServer(t,
		robotemu.Robot{Kind: robotemu.DingTalk, Token: "ding", Secret: "SEC-ding"},
		robotemu.Robot{Kind: robotemu.Lark, Token: "lark-hook", Secret: "lark-secret"},
		robotemu.Robot{Kind: robotemu.WeCom, Token: "wecom-key"},
		robotemu.Robot{Kind: robotemu.Slack, Token: "T01/B01/slack"},
		robotemu.Robot{Kind: robotemu.Generic, Token: "/hooks/ops", Secret: "generic-secret"},
	)
	urls := strings.Join([]string{
		"dingtalk=" + robots.URLFor(robotemu.DingTalk, "ding") + "#SEC-ding",
		"lark=" + robots.URLFor(robotemu.Lark, "lark-hook") + "#lark-secret",
		"wecom=" + robots.URLFor(robotemu.WeCom, "wecom-key"),
		"slack=" + robots.URLFor(robotemu.Slack, "T01/B01/slack"),
		robots.URLFor(robotemu.Generic, "/hooks/ops"), // any other host is generic
	}, ",")
	h := start(t, map[string]string{"NOTIFY_URLS": urls, "NOTIFY_SECRET": "generic-secret"}, ecsemu.Options{})
	out := invoke(t, h, timerEvent(unpaidRequest))
	if r := result(t, out); outcomes(r)[unpaid].Outcome != hresult.Failed {
		t.Fatalf("%+v", r)
	}
	got := map[robotemu.Kind]robotemu.Message{}
	for _, m := range robots.Messages() {
		if _, twice := got[m.Kind]; twice {
			t.Errorf("%s got two messages", m.Kind)
		}
		got[m.Kind] = m
	}
	for _, kind := range []robotemu.Kind{robotemu.DingTalk, robotemu.Lark, robotemu.WeCom, robotemu.Slack, robotemu.Generic} {
		m, ok := got[kind]
		if !ok {
			t.Errorf("%s got no message", kind)
			continue
		}
		signs := kind == robotemu.DingTalk || kind == robotemu.Lark || kind == robotemu.Generic
		if !m.Accepted || signs && (!m.Signed || !m.SignatureOK) {
			t.Errorf("%s: accepted %v, signed %v, signature ok %v (HTTP %d, code %s)", kind, m.Accepted, m.Signed, m.SignatureOK, m.Status, m.Code)
		}
		text := m.Text
		if kind == robotemu.Generic {
			text = string(m.Body)
		}
		for _, want := range []string{unpaid, "InsufficientBalance", hresult.Advice("InsufficientBalance"), "timer", out.RequestID} {
			if !strings.Contains(text, want) {
				t.Errorf("%s's message lacks %q:\n%s", kind, want, text)
			}
		}
	}
	if lines := out.LogsOf("notify"); len(lines) != 0 {
		t.Errorf("notify lines for robots that took the message: %v", lines)
	}
	for _, secret := range []string{"SEC-ding", "lark-secret", "generic-secret", "wecom-key", "T01/B01"} {
		if strings.Contains(h.Fn.Output(), secret) {
			t.Errorf("the function's output carries %q", secret)
		}
	}
}

// DESIGN §9: a robot that is down or slow never changes the answer, its
// status or its error, nor makes it late: the ECS work ends 1.5 s earlier,
// the send is cut at the deadline's margin (HTTP_WAIT for an HTTP caller,
// who still gets the answer within it), and each failing robot is one WARN
// notify line naming its host and code (unreachable, timeout) while the
// robot that works gets the message.
func TestNotifyRobotDownOrSlowLeavesTheAnswerOnTime(t *testing.T) {
	t.Parallel()
	robots := robotServer(t,
		robotemu.Robot{Kind: robotemu.DingTalk, Token: "fine", Secret: "SEC-fine"},
		robotemu.Robot{Kind: robotemu.WeCom, Token: "down"},
		robotemu.Robot{Kind: robotemu.Slack, Token: "T02/B02/slow"},
	)
	robots.SetFault("down", robotemu.Fault{Down: true})
	robots.SetFault("T02/B02/slow", robotemu.Fault{Delay: time.Minute})
	urls := "dingtalk=" + robots.URLFor(robotemu.DingTalk, "fine") + "#SEC-fine," +
		"wecom=" + robots.URLFor(robotemu.WeCom, "down") + "," + "slack=" + robots.URLFor(robotemu.Slack, "T02/B02/slow")
	const httpWait = 3 * time.Second
	env := map[string]string{"WEBHOOK_SECRET": webhookSecret, "HTTP_WAIT": httpWait.String()}
	quiet := start(t, env, ecsemu.Options{})
	env["NOTIFY_URLS"] = urls
	h := start(t, env, ecsemu.Options{})
	body := `{"regionId":"cn-hangzhou","instanceIds":["i-bp67acfmxazb4p0001","` + unpaid + `"]}`

	check := func(t *testing.T, out *harness.Outcome, limit time.Duration) {
		t.Helper()
		if out.Duration > limit {
			t.Errorf("answered after %s, over %s", out.Duration, limit)
		}
		lines := notifyLinesOf(out)
		if len(lines) != 2 || lines["wecom"]["code"] != "unreachable" || lines["slack"]["code"] != "timeout" {
			t.Errorf("notify lines %v, want wecom unreachable and slack timeout", out.LogsOf("notify"))
		}
		for _, l := range lines {
			if l["level"] != "WARN" || l["host"] != "127.0.0.1" {
				t.Errorf("notify line %v", l)
			}
		}
	}
	t.Run("http", func(t *testing.T) {
		n := len(robots.Messages())
		want := httpResult(t, invoke(t, quiet, httpEvent(body, bearer(), nil)))
		out := invoke(t, h, httpEvent(body, bearer(), nil))
		got := httpResult(t, out)
		if got.StatusCode != want.StatusCode || got.StatusCode != http.StatusMultiStatus ||
			outcomes(got.Result)[unpaid].Outcome != hresult.Failed || outcomes(got.Result)["i-bp67acfmxazb4p0001"].Outcome != hresult.Started {
			t.Fatalf("with robots %d %s; without %d %s", got.StatusCode, got.Body, want.StatusCode, want.Body)
		}
		check(t, out, httpWait+500*time.Millisecond)
		if acc := robotsAccepted(since(robots, n)); len(acc) != 1 || acc[0].Kind != robotemu.DingTalk {
			t.Errorf("accepted %v, want the DingTalk robot's message", acc)
		}
	})
	t.Run("http, ECS slower than HTTP_WAIT", func(t *testing.T) {
		// ECS throttles every call: only the end of the work stops it, and
		// the answer is still due within HTTP_WAIT, the message with it.
		h.ECS.SetFaults(ecsemu.Faults{Action: "StartInstances", Throttle: 1 << 20})
		defer h.ECS.SetFaults(ecsemu.Faults{})
		n := len(robots.Messages())
		out := invoke(t, h, httpEvent(oneInstance, bearer(), nil))
		if a := httpResult(t, out); a.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%d %s, want 503", a.StatusCode, a.Body)
		}
		check(t, out, httpWait+500*time.Millisecond)
		if acc := robotsAccepted(since(robots, n)); len(acc) != 1 || !strings.Contains(acc[0].Text, "Unfinished") {
			t.Errorf("accepted %v, want the message of the Unfinished instance", acc)
		}
	})
	t.Run("timer", func(t *testing.T) {
		const timeout = 6 * time.Second
		out := invoke(t, h, timerEvent(body), func(i *fcemu.Invocation) { i.Timeout = timeout })
		if out.IsError || outcomes(result(t, out))[unpaid].Outcome != hresult.Failed {
			t.Fatalf("%v %s %s", out.IsError, out.ErrorMessage, out.Payload)
		}
		check(t, out, timeout)
	})
}

func robotsAccepted(msgs []robotemu.Message) []robotemu.Message {
	var out []robotemu.Message
	for _, m := range msgs {
		if m.Accepted {
			out = append(out, m)
		}
	}
	return out
}

// DESIGN §9, NOTIFY_ON: problems (the default) tells an invocation with a
// problem and not one where all went well; always tells both; never
// neither.
func TestNotifyOnEachValue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		on         string
		good, fail int
	}{{"", 0, 1}, {"problems", 0, 1}, {"always", 1, 1}, {"never", 0, 0}} {
		t.Run("NOTIFY_ON="+tc.on, func(t *testing.T) {
			t.Parallel()
			robots := robotServer(t, robotemu.Robot{Kind: robotemu.DingTalk, Token: "t", Secret: "SEC-t"})
			env := map[string]string{"NOTIFY_URLS": "dingtalk=" + robots.URLFor(robotemu.DingTalk, "t") + "#SEC-t"}
			if tc.on != "" {
				env["NOTIFY_ON"] = tc.on
			}
			h := start(t, env, ecsemu.Options{})
			invoke(t, h, timerEvent(oneInstance))
			if n := len(robots.Accepted()); n != tc.good {
				t.Errorf("an instance started: %d messages, want %d", n, tc.good)
			}
			invoke(t, h, timerEvent(unpaidRequest))
			if n := len(robots.Accepted()); n != tc.good+tc.fail {
				t.Errorf("an instance failed: %d messages in all, want %d", n, tc.good+tc.fail)
			}
			if tc.on == "always" && len(robots.Accepted()) > 0 && !strings.Contains(robots.Accepted()[0].Title, "all well") {
				t.Errorf("the message of an invocation where all went well: %q", robots.Accepted()[0].Title)
			}
		})
	}
}

// mnsEvent is an MNS queue trigger's event whose message body is body.
func mnsEvent(body string) []byte {
	return mustJSON(map[string]any{
		"id": "c2g71017-6f65-4hcf-a814-a396fc8d0009", "source": "MNS-start-ecs-mns-queue", "specversion": "1.0",
		"type": "mns:Queue:SendMessage", "subject": "acs:mns:cn-hangzhou:1234567890123456:queues/start-ecs",
		"time": time.Now().UTC().Format(time.RFC3339), "aliyunregionid": "cn-hangzhou",
		"data": map[string]any{"requestId": "606EA3074344430D4C81A0B9", "messageId": "C6DB60D1574661357FA2272774459009", "messageBody": body},
	})
}

// DESIGN §9, operator mistakes: a typo from a timer, a direct invoke or a
// queue message is told the same day: the message reaches the robot under
// NOTIFY_ON's default, counts the mistake and names what to mend.
func TestNotifyMistakeFromEachTrigger(t *testing.T) {
	t.Parallel()
	robots := robotServer(t, robotemu.Robot{Kind: robotemu.DingTalk, Token: "t", Secret: "SEC-t"})
	h := start(t, map[string]string{"NOTIFY_URLS": "dingtalk=" + robots.URLFor(robotemu.DingTalk, "t") + "#SEC-t"}, ecsemu.Options{})
	const typo = `{"regionId":"cn-hangzhou","instanceID":["i-bp67acfmxazb4p0001"]}`
	for _, tc := range []struct {
		trigger string
		payload []byte
	}{
		{"timer", timerEvent(typo)},
		{"direct", []byte(typo)},
		{"mns", mnsEvent(typo)},
	} {
		t.Run(tc.trigger, func(t *testing.T) {
			n := len(robots.Messages())
			out := invoke(t, h, tc.payload)
			if s := out.LogsOf("summary"); len(s) != 1 || s[0]["mistakes"] != float64(1) {
				t.Fatalf("summary %v, want one mistake", s)
			}
			msgs := since(robots, n)
			if len(msgs) != 1 || !msgs[0].Accepted {
				t.Fatalf("%d messages (%+v), want one taken", len(msgs), msgs)
			}
			for _, want := range []string{"Mistakes 1", "mistake", "did you mean instanceIds?", "trigger " + tc.trigger} {
				if !strings.Contains(msgs[0].Text, want) {
					t.Errorf("the message lacks %q:\n%s", want, msgs[0].Text)
				}
			}
		})
	}
}

// DESIGN §9, out of stock, told: stock that comes back within the deadline
// starts the instance and, under NOTIFY_ON's default, tells nobody; stock
// that does not ends Unfinished and the message lists the instance with
// OperationDenied.NoStock and its advice.
func TestNotifyNoStockClearsOrNot(t *testing.T) {
	t.Parallel()
	const zone = "cn-hangzhou-k"
	fl := fleet(t)
	eco := func(n int) string { return fmt.Sprintf("i-bpnotifystock%04d", n) }
	for n := range 2 {
		fl.Instances = append(fl.Instances, ecsemu.Instance{InstanceID: eco(n), RegionID: "cn-hangzhou", ZoneID: zone,
			Status: ecsemu.Stopped, StoppedMode: "StopCharging"})
	}
	robots := robotServer(t, robotemu.Robot{Kind: robotemu.DingTalk, Token: "t", Secret: "SEC-t"})
	h := startWith(t, fl, map[string]string{"NOTIFY_URLS": "dingtalk=" + robots.URLFor(robotemu.DingTalk, "t") + "#SEC-t"}, ecsemu.Options{})
	req := func(id string) []byte {
		return timerEvent(`{"regionId":"cn-hangzhou","instanceIds":["` + id + `"]}`)
	}
	t.Run("stock returns", func(t *testing.T) {
		h.ECS.SellOut(zone, time.Now().Add(1500*time.Millisecond))
		defer h.ECS.RestoreStock(zone)
		out := invoke(t, h, req(eco(0)), func(i *fcemu.Invocation) { i.Timeout = 15 * time.Second })
		if out.IsError || outcomes(result(t, out))[eco(0)].Outcome != hresult.Started {
			t.Fatalf("%v %s %s", out.IsError, out.ErrorMessage, out.Payload)
		}
		if n := len(robots.Messages()); n != 0 {
			t.Errorf("%d messages for an instance that started", n)
		}
	})
	t.Run("stock does not return", func(t *testing.T) {
		h.ECS.SellOut(zone, time.Time{})
		defer h.ECS.RestoreStock(zone)
		const timeout = 5 * time.Second
		out := invoke(t, h, req(eco(1)), func(i *fcemu.Invocation) { i.Timeout = timeout })
		if !out.IsError || out.ErrorType != "UnfinishedError" || out.Duration >= timeout {
			t.Fatalf("%v %s after %s, want an UnfinishedError before %s", out.IsError, out.ErrorType, out.Duration, timeout)
		}
		msgs := robots.Accepted()
		if len(msgs) != 1 {
			t.Fatalf("%d messages taken, want 1", len(msgs))
		}
		for _, want := range []string{eco(1), "Unfinished " + hresult.CodeNoStock, hresult.Advice(hresult.CodeNoStock), "Unfinished 1"} {
			if !strings.Contains(msgs[0].Text, want) {
				t.Errorf("the message lacks %q:\n%s", want, msgs[0].Text)
			}
		}
	})
}
