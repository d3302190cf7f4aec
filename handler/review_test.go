package handler

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/start-ecs/start-ecs/events"
)

// An invalid request naming thousands of IDs makes a result that grows with
// their number, not its square, and quotes no value at length.
func TestInvalidRequestsStayBounded(t *testing.T) {
	h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, &fakeECS{})
	for _, n := range []int{500, 3000} {
		list := make([]string, n)
		for i := range list {
			list[i] = fmt.Sprintf("i-x%d", i) // too short: every one is malformed
		}
		logs.Reset()
		inv := testInvocation(h)
		res := h.run(context.Background(), inv, []events.Message{msg("big", events.StartRequest{InstanceIDs: list})}, time.Time{})
		h.flush(inv)
		body, _ := json.Marshal(res)
		if len(body) > 400*n || logs.Len() > 600*n {
			t.Fatalf("%d malformed IDs: %d bytes of result, %d of logs", n, len(body), logs.Len())
		}
		reported := len(res.InstanceResponses.InstanceResponse)
		for _, ig := range res.Ignored {
			reported += max(len(ig.InstanceIDs), ig.InstanceCount)
		}
		if reported != n {
			t.Fatalf("%d of %d instances reported", reported, n)
		}
		for _, ir := range res.InstanceResponses.InstanceResponse {
			if ir.Outcome != Rejected || len(ir.Message) > 400 || !strings.Contains(ir.Message, ir.InstanceID) {
				t.Fatalf("%+v", ir)
			}
		}
	}
	long := strings.Repeat("A", 5000)
	errs := Validate(events.StartRequest{RegionID: long, InstanceIDs: []string{"i-" + long}})
	for _, e := range errs {
		if len(e.Message) > 200 {
			t.Fatalf("a %d-byte message quotes the value whole", len(e.Message))
		}
	}
}

func TestMalformedHTTPEventIsA400(t *testing.T) {
	h, logs := testHandler(t, map[string]string{"WEBHOOK_SECRET": "0123456789abcdef"}, &fakeECS{})
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

func TestMalformedRegionFromTheEventIsRejected(t *testing.T) {
	f := &fakeECS{}
	h, _ := testHandler(t, nil, f)
	m := events.Message{Trigger: events.CMSAlarm, Source: "cms-alarm", InstanceRegion: "CN_Hangzhou",
		Request: events.StartRequest{InstanceIDs: []string{"i-bp67acfmxazb4p0001"}}}
	res := h.run(context.Background(), testInvocation(h), []events.Message{m}, time.Time{})
	ir := res.InstanceResponses.InstanceResponse[0]
	if ir.Outcome != Rejected || ir.Code != CodeInvalidParameter || !strings.Contains(ir.Message, "the event's instance") {
		t.Fatalf("%+v", ir)
	}
	if len(f.calls()) != 0 {
		t.Fatal("a malformed region reached ECS")
	}
}

func TestADryRunDoesNotLiftTheRestartTag(t *testing.T) {
	fl := newFleet(map[string]string{"i-untagged01": "Stopped"})
	f := fl.ecs()
	h, _ := testHandler(t, map[string]string{"RESTART_TAG": "auto-restart=true"}, f)
	ev := events.Message{Trigger: events.ECSEvent, Source: "ecs-event:ev1", InstanceRegion: "cn-hangzhou", RequireRestartTag: true,
		Request: events.StartRequest{InstanceIDs: []string{"i-untagged01"}}}
	dry := msg("direct", events.StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-untagged01"}, DryRun: true})
	h.run(context.Background(), testInvocation(h), []events.Message{ev, dry}, time.Time{})
	for _, c := range f.calls() {
		if !c.DryRun {
			t.Fatalf("an untagged instance was really started: %+v", c)
		}
	}
}

// DESIGN §4: an instance is the pair (region, ID) everywhere. The same ID
// under a malformed region is another pair: Rejected there, started in its
// own region, whatever the order of the requests.
func TestAnInstanceUnderAMalformedRegionIsAnotherPair(t *testing.T) {
	fl := newFleet(map[string]string{"i-aaaaaa01": "Stopped"})
	h, _ := testHandler(t, nil, fl.ecs())
	for _, order := range [][]events.Message{
		{msg("a", events.StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-aaaaaa01"}}), msg("b", events.StartRequest{RegionID: "CN", InstanceIDs: []string{"i-aaaaaa01"}})},
		{msg("b", events.StartRequest{RegionID: "CN", InstanceIDs: []string{"i-aaaaaa01"}}), msg("a", events.StartRequest{RegionID: "cn-hangzhou", InstanceIDs: []string{"i-aaaaaa01"}})},
	} {
		fl.set("i-aaaaaa01", "Stopped")
		res := h.run(context.Background(), testInvocation(h), order, time.Time{})
		got := byPair(res)
		if len(got) != 2 || got["cn-hangzhou/i-aaaaaa01"].Outcome != Started || got["CN/i-aaaaaa01"].Outcome != Rejected ||
			got["CN/i-aaaaaa01"].Code != CodeInvalidParameter {
			t.Fatalf("%+v", res.InstanceResponses.InstanceResponse)
		}
	}
}

func TestXMLLeavesOutEmptyInstanceIds(t *testing.T) {
	b, err := xml.Marshal(Result{Ignored: []IgnoredEvent{{Source: "s", Reason: "r"}, {Source: "t", Reason: "u", InstanceIDs: []string{"i-abcdef01"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(b), "<InstanceIds>") != 1 || !strings.Contains(string(b), "<InstanceIds><InstanceId>i-abcdef01</InstanceId></InstanceIds>") {
		t.Fatalf("%s", b)
	}
}

// One Handler serves concurrent invocations (the runtime SDK runs each in its
// own goroutine): every answer is its own, and -race finds no shared state.
func TestConcurrentInvocationsShareNothing(t *testing.T) {
	all := ids(20, "k")
	fl := newFleet(stopped(all))
	h, logs := testHandler(t, map[string]string{"DEFAULT_REGION_ID": "cn-hangzhou"}, fl.ecs())
	errs := make(chan error, len(all))
	var wg sync.WaitGroup
	for i, id := range all {
		wg.Go(func() {
			ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: fmt.Sprintf("req-%d", i),
				Credentials: fccontext.Credentials{AccessKeyId: "ak", AccessKeySecret: "sk"}})
			out, err := h.Handle(ctx, []byte(`{"instanceIds":["`+id+`"]}`))
			if err != nil {
				errs <- err
				return
			}
			var r Result
			if err := json.Unmarshal(out, &r); err != nil {
				errs <- err
				return
			}
			if r.RequestID != fmt.Sprintf("req-%d", i) || len(r.InstanceResponses.InstanceResponse) != 1 ||
				r.InstanceResponses.InstanceResponse[0].InstanceID != id || r.InstanceResponses.InstanceResponse[0].Outcome != Started {
				errs <- fmt.Errorf("%s: %s", id, out)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := strings.Count(logs.String(), `"msg":"summary"`); n != len(all) {
		t.Fatalf("%d summary lines for %d invocations", n, len(all))
	}
}

func TestAnswersDoNotEscapeHTML(t *testing.T) {
	h, _ := testHandler(t, map[string]string{"WEBHOOK_SECRET": "0123456789abcdef"}, &fakeECS{})
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
	f := &fakeECS{}
	h, _ := testHandler(t, map[string]string{"HTTP_AUTH": "trigger", "DEFAULT_REGION_ID": "cn-hangzhou"}, f)
	old := time.Now().Add(-3 * time.Hour).UnixMilli()
	out, err := h.Handle(context.Background(), []byte(fmt.Sprintf(
		`{"rawPath":"/","headers":{},"body":"{\"instanceIds\":[\"i-bp67acfmxazb4p0001\"]}","requestContext":{"timeEpoch":"%d"}}`, old)))
	if err != nil {
		t.Fatal(err)
	}
	var resp HTTPResponse
	var r Result
	if json.Unmarshal(out, &resp) != nil || json.Unmarshal([]byte(resp.Body), &r) != nil {
		t.Fatalf("%s", out)
	}
	if resp.StatusCode != 200 || len(r.Ignored) != 1 || !strings.HasPrefix(r.Ignored[0].Reason, "expired") || len(f.calls()) != 0 {
		t.Fatalf("%s", out)
	}
}
