package handler

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/notify"
	"github.com/start-ecs/start-ecs/handler/result"
)

// NotifyReserve is how much earlier the ECS work ends when NOTIFY_URLS is
// set, so that the message goes out before the answer is due: before the
// deadline's margin, and before HTTP_WAIT for an HTTP caller (DESIGN §9).
const NotifyReserve = 1500 * time.Millisecond

// notifySendCap bounds a send that no deadline bounds (an invocation
// without one, the local runner's).
const notifySendCap = 10 * time.Second

// notifying says whether the invocation may send a message at all: robots
// are configured and NOTIFY_ON is not never. Only then is time reserved.
func (h *Handler) notifying() bool {
	return len(h.cfg.NotifyTargets) > 0 && h.cfg.NotifyOn != notify.OnNever
}

// notifyReserve is what the ECS work gives up for the message:
// NotifyReserve, but never more than half of the invocation's time until
// answerBy, so that a function with a short timeout still does its work.
// Like the deadline's margin it is fixed from the invocation's start, never
// from the time left when asked, which would shrink it as the invocation
// goes on (planning and the ECS work would each end at another time).
func (h *Handler) notifyReserve(inv *invocation, answerBy time.Time) time.Duration {
	if !h.notifying() || answerBy.IsZero() {
		return 0
	}
	return max(min(NotifyReserve, answerBy.Sub(inv.Start)/2), 0)
}

// newNotifyClient is the robots' HTTP client: one connection pool for the
// process, and no redirect followed (a robot answers, it does not send the
// message, and its signed URL, elsewhere).
func newNotifyClient() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// notification is what one invocation tells, beside its result.
type notification struct {
	trigger events.Trigger
	source  string
	// resultJSON is the answer's own encoding of the result, when made:
	// the generic body reuses it.
	resultJSON []byte
	// configErr is the configuration error every invocation fails with.
	configErr error
}

// sourcesOf names what an invocation carried: the trigger and source of its
// first message, "+N more" beside it in a batch.
func sourcesOf(msgs []events.Message) (events.Trigger, string) {
	if len(msgs) == 0 {
		return "", ""
	}
	src := msgs[0].Source
	if len(msgs) > 1 {
		src += " +" + strconv.Itoa(len(msgs)-1) + " more"
	}
	return msgs[0].Trigger, src
}

// notify tells the robots of NOTIFY_URLS what the invocation did, when
// NOTIFY_ON asks for it: one message to every robot at once, after the
// result is decided and before it is returned (a function may be frozen
// once it returns). The send ends at answerBy — the deadline's margin, or
// HTTP_WAIT for an HTTP caller; a robot that did not take the message by
// then, or refused it, is one WARN notify line naming its host and the
// code. Nothing here changes the result, the status or the error.
func (h *Handler) notify(ctx context.Context, inv *invocation, res *result.Result, n notification, answerBy time.Time) {
	if !h.notifying() {
		return
	}
	if res == nil {
		res = &result.Result{RequestID: inv.requestID}
	}
	// An instance Rejected only for InvalidSchedule is told in the tick
	// whose window holds 00:00 UTC, once a day (DESIGN §3.2, §9).
	if !notify.ShouldNotify(h.cfg.NotifyOn, res, res.Summary.Mistakes, n.configErr != nil, res.MidnightTick) {
		return
	}
	c := notify.Context{
		Function:     h.functionName(ctx),
		Trigger:      string(n.trigger),
		Source:       n.source,
		RequestID:    inv.requestID,
		CalendarEnds: h.calendarEnds(inv.Start),
		Mistakes:     res.Summary.Mistakes,
	}
	if inv.requestID != "" {
		// Without a request ID the query would find nothing, or every
		// line without one: no SLS line then.
		c.LogQuery = `requestId: "` + inv.requestID + `"`
	}
	if n.configErr != nil {
		c.ConfigError = n.configErr.Error()
	}
	m, err := notify.NewMessage(res, c)
	if err != nil {
		inv.log.LogAttrs(context.Background(), slog.LevelWarn, "notify", slog.String("requestId", inv.requestID),
			slog.String("code", "message"), slog.String("message", err.Error()))
		return
	}
	m.UseResultJSON(n.resultJSON)
	end := answerBy
	if end.IsZero() {
		end = time.Now().Add(notifySendCap)
	}
	// Not ctx: the runtime's context must not cut the send short of
	// answerBy, and answerBy is before the deadline anyway.
	sendCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), end)
	defer cancel()
	for _, r := range notify.Send(sendCtx, h.notifyClient, h.cfg.NotifyTargets, m) {
		inv.log.LogAttrs(context.Background(), slog.LevelWarn, "notify",
			slog.String("requestId", inv.requestID), slog.String("kind", string(r.Kind)),
			slog.String("host", r.Host), slog.String("code", r.Code),
			slog.String("message", "the "+string(r.Kind)+" robot at "+r.Host+" did not take the notification ("+r.Code+")"))
	}
}

// functionName is the function's name as FC's context says it, else
// FC_FUNCTION_NAME.
func (h *Handler) functionName(ctx context.Context) string {
	if fc, ok := fccontext.FromContext(ctx); ok && fc.Function.Name != "" {
		return fc.Function.Name
	}
	return h.cfg.FunctionName
}
