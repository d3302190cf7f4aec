package handler

import (
	"context"
	"log/slog"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/plan"
	"github.com/start-ecs/start-ecs/handler/result"
)

// logResult writes DESIGN §5's lines: one per instance, one per ignored event, one
// summary. No raw body, credential or token is ever among the values.
// lineBuffer gathers an invocation's log lines and writes them to the
// handler's output whole, once lineFlushBytes have gathered and at the end.
// slog's JSON handler writes each line with one Write. Holding every line
// until the end made the buffer of 100,000 instances about 50 MB (and twice
// that while it grew): most of the function's peak memory.
type lineBuffer struct {
	h   *Handler
	buf []byte
}

const lineFlushBytes = 64 << 10

func (b *lineBuffer) Write(line []byte) (int, error) {
	b.buf = append(b.buf, line...)
	if len(b.buf) >= lineFlushBytes {
		b.flush()
	}
	return len(line), nil
}

func (b *lineBuffer) flush() {
	if len(b.buf) == 0 {
		return
	}
	b.h.outMu.Lock()
	_, _ = b.h.out.Write(b.buf)
	b.h.outMu.Unlock()
	b.buf = b.buf[:0]
}

func (h *Handler) logResult(inv *invocation, p *plan.Plan, res *result.Result) {
	ctx := context.Background()
	durationMs := time.Since(inv.Start).Milliseconds()
	trigger := string(p.Trigger)
	for _, e := range p.Entries {
		ir := e.Result
		if ir == nil {
			continue // ignored after a tag lookup
		}
		level := slog.LevelInfo
		switch {
		case ir.Outcome == result.Failed || ir.Mistake:
			level = slog.LevelError
		case ir.Outcome == result.Rejected || ir.Outcome == result.Unfinished:
			level = slog.LevelWarn
		}
		attrs := []slog.Attr{
			slog.String("requestId", inv.requestID),
			slog.String("trigger", string(e.Trigger)),
			slog.String("source", e.Sources[0]),
		}
		if len(e.Sources) > 1 {
			attrs = append(attrs, slog.Any("sources", e.Sources))
		}
		if e.MoreSources > 0 {
			// The sources are bounded: a batch naming one instance 40,000
			// times makes one line of a few KiB, not of a megabyte.
			attrs = append(attrs, slog.Int("moreSources", e.MoreSources))
		}
		attrs = append(attrs,
			slog.Int("retryCount", inv.retryCount),
			slog.String("instanceId", ir.InstanceID),
			slog.String("regionId", ir.RegionID),
			slog.String("outcome", string(ir.Outcome)),
			slog.String("code", ir.Code),
			slog.String("message", ir.Message),
			slog.String("advice", ir.Advice),
			slog.Bool("retryable", ir.Retryable),
			slog.Bool("dryRun", e.DryRun),
			slog.String("previousStatus", ir.PreviousStatus),
			slog.String("currentStatus", ir.CurrentStatus),
			slog.String("ecsRequestId", ir.EcsRequestID),
			slog.Int64("durationMs", durationMs),
		)
		if ir.AccountID != "" {
			// An instance of another account (DESIGN §3.1).
			attrs = append(attrs, slog.String("accountId", ir.AccountID))
		}
		if ir.ScheduledAt != "" {
			// The start time that made a scheduled instance due (DESIGN §3.2).
			attrs = append(attrs, slog.String("scheduledAt", ir.ScheduledAt))
		}
		if e.Waited {
			// How long after the invocation's start a wait saw it Running
			// (DESIGN §3.1).
			attrs = append(attrs, slog.Int64("runningAfterMs", e.RunningAfter.Milliseconds()))
		}
		if ir.Mistake {
			attrs = append(attrs, slog.Bool("mistake", true)) // DESIGN §9
		}
		inv.log.LogAttrs(ctx, level, "instance", attrs...)
	}
	h.logIgnored(inv, trigger, res.Ignored)
	s := res.Summary
	level := slog.LevelInfo
	if s.Failed > 0 || s.Unfinished > 0 || s.Mistakes > 0 {
		level = slog.LevelWarn
	}
	attrs := summaryAttrs(inv, p.Trigger, res.DryRun, s)
	attrs = append(attrs, slog.Int64("durationMs", durationMs))
	inv.log.LogAttrs(ctx, level, "summary", attrs...)
}

// logIgnored writes one line per ignored event: INFO for news to skip, WARN
// for a refusal, ERROR for an operator mistake (DESIGN §9).
func (h *Handler) logIgnored(inv *invocation, trigger string, ignored []result.IgnoredEvent) {
	ctx := context.Background()
	for _, ig := range ignored {
		t := string(ig.Trigger)
		if t == "" {
			t = trigger
		}
		attrs := []slog.Attr{
			slog.String("requestId", inv.requestID),
			slog.String("trigger", t),
			slog.String("source", ig.Source),
			slog.Int("retryCount", inv.retryCount),
			slog.String("reason", ig.Reason),
		}
		if len(ig.InstanceIDs) > 0 {
			attrs = append(attrs, slog.Any("instanceIds", ig.InstanceIDs))
		}
		if ig.InstanceCount > 0 {
			attrs = append(attrs, slog.Int("instanceCount", ig.InstanceCount))
		}
		level := slog.LevelInfo
		if ig.Code != "" {
			// Refused, not news to skip: a mistake to be seen (DESIGN §4).
			level = slog.LevelWarn
			attrs = append(attrs, slog.String("code", ig.Code))
		}
		if ig.Mistake {
			// An operator mistake from a timer, a direct invoke or a
			// queue: no one is answered, so it must be seen (DESIGN §9).
			level = slog.LevelError
			attrs = append(attrs, slog.Bool("mistake", true))
		}
		inv.log.LogAttrs(ctx, level, "ignored", attrs...)
	}
}

// summaryAttrs are the keys every summary line has: who, and the Summary's
// counts as lower-camel keys.
func summaryAttrs(inv *invocation, trigger events.Trigger, dryRun bool, s result.Summary) []slog.Attr {
	attrs := []slog.Attr{
		slog.String("requestId", inv.requestID),
		slog.String("trigger", string(trigger)),
		slog.Int("retryCount", inv.retryCount),
		slog.Bool("dryRun", dryRun),
		slog.Int("requested", s.Requested),
		slog.Int("started", s.Started),
		slog.Int("alreadyRunning", s.AlreadyRunning),
		slog.Int("dryRunPassed", s.DryRunPassed),
		slog.Int("rejected", s.Rejected),
		slog.Int("failed", s.Failed),
		slog.Int("unfinished", s.Unfinished),
		slog.Int("skipped", s.Skipped),
		slog.Int("ignored", s.Ignored),
		slog.Int("mistakes", s.Mistakes),
	}
	if s.Scheduled > 0 || s.Due > 0 {
		// A schedule request's counts (DESIGN §3.2), like the answer's.
		attrs = append(attrs, slog.Int("scheduled", s.Scheduled), slog.Int("due", s.Due))
	}
	return attrs
}

// logRefusal writes the summary of an invocation that was refused before any
// instance was looked at (HTTP 401/413/400, an invalid configuration): still one
// summary line per invocation, with zero counts, and what refused it.
func (h *Handler) logRefusal(inv *invocation, trigger events.Trigger, status int, code, message string, extra ...slog.Attr) {
	attrs := summaryAttrs(inv, trigger, false, result.Summary{})
	if status != 0 {
		attrs = append(attrs, slog.Int("status", status))
	}
	attrs = append(attrs, slog.String("code", code), slog.String("message", message),
		slog.Int64("durationMs", time.Since(inv.Start).Milliseconds()))
	attrs = append(attrs, extra...)
	inv.log.LogAttrs(context.Background(), slog.LevelWarn, "summary", attrs...)
}
