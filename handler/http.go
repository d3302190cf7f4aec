package handler

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/plan"
	"github.com/start-ecs/start-ecs/handler/result"
)

// signatureWindow is how far X-Signature-Timestamp may be from now.
const signatureWindow = 300 * time.Second

// retryAfterSeconds is what a 503 asks the caller to wait before trying again.
const retryAfterSeconds = "5"

// HTTPResponse is what an FC 3.0 HTTP trigger expects of an event function.
type HTTPResponse struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	Body            string            `json:"body"`
}

// serveHTTP handles an HTTP trigger event: authentication, size, parsing, then the
// same work as any event, answered with DESIGN §5's statuses.
func (h *Handler) serveHTTP(ctx context.Context, inv *invocation, req *events.HTTPRequest, parseErr error) (json.RawMessage, error) {
	if req == nil {
		req = &events.HTTPRequest{}
	}
	async := strings.EqualFold(req.Header("X-Fc-Invocation-Type"), "Async")
	asXML := wantsXML(req)
	if inv.requestID == "" {
		inv.requestID = req.RequestID
	}
	reply := func(status int, v any, extra map[string]string) (json.RawMessage, error) {
		return encodeHTTP(status, v, asXML, extra)
	}
	fail := func(status int, code, message string, errs []events.FieldError) (json.RawMessage, error) {
		h.logRefusal(inv, events.HTTP, status, code, message, slog.String("sourceIp", req.SourceIP))
		if errs == nil {
			errs = []events.FieldError{}
		}
		return reply(status, ErrorBody{RequestID: inv.requestID, Code: code, Message: message, Errors: errs}, nil)
	}
	badRequest := func(prefix string, errs []events.FieldError, total int) (json.RawMessage, error) {
		errs = plan.ReportedErrors(errs, total)
		return fail(http.StatusBadRequest, result.CodeInvalidParameter, prefix+plan.JoinFieldErrors(errs[:min(len(errs), 3)]), errs)
	}

	if ok, why := h.authenticate(req, inv.Start); !ok {
		return fail(http.StatusUnauthorized, "Unauthorized", why, nil)
	}
	if int64(len(req.Body)) > h.cfg.MaxBodyBytes {
		return fail(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			fmt.Sprintf("the body has %d bytes, over MAX_BODY_BYTES (%d)", len(req.Body), h.cfg.MaxBodyBytes), nil)
	}
	if parseErr != nil {
		return badRequest("", []events.FieldError{{Field: "body", Message: parseErr.Error()}}, 1)
	}
	msgs, errs := events.DecodeHTTP(req) // messages without a time of their own get timeEpoch's
	if len(errs) > 0 {
		return badRequest("the request cannot be parsed: ", errs, len(errs))
	}
	wait := time.Time{}
	if !async && !asksToWait(msgs, h.cfg.DryRunOnly) {
		// A request in which anything asks to wait is answered when the
		// waiting ends, bounded by the function's deadline alone (DESIGN
		// §3.1).
		wait = inv.Start.Add(h.cfg.HTTPWait)
	}
	p := h.planner().Make(&inv.Invocation, msgs, h.workEnd(inv, wait))
	// The invocation came over HTTP, whatever the events in its body.
	p.Trigger = events.HTTP
	if p.InvalidCount > 0 {
		// Nothing of an invalid HTTP request is sent: the caller can mend it.
		// That includes a payload that is no start request (DESIGN §4).
		return badRequest("invalid start request: ", p.Invalid, p.InvalidCount)
	}
	res := h.execute(ctx, inv, p, wait)
	n := notification{trigger: events.HTTP}
	_, n.source = sourcesOf(msgs)
	if async && res.Unfinished() {
		h.notify(ctx, inv, res, n, h.answerBy(inv, wait))
		return nil, unfinishedError(res)
	}
	status := httpStatus(res)
	var extra map[string]string
	if status == http.StatusServiceUnavailable {
		extra = map[string]string{"Retry-After": retryAfterSeconds}
	}
	answer, err := reply(status, res, extra)
	h.notify(ctx, inv, res, n, h.answerBy(inv, wait))
	return answer, err
}

// httpStatus maps a result to DESIGN §5's status: 503, 403, 207, 200.
func httpStatus(res *result.Result) int {
	s := res.Summary
	switch {
	case res.Unfinished():
		return http.StatusServiceUnavailable
	case s.Requested > 0 && s.Rejected == s.Requested && allDenied(res) && !res.RefusedIgnored():
		return http.StatusForbidden
	case s.Rejected+s.Failed+s.Skipped > 0 || res.RefusedIgnored():
		return http.StatusMultiStatus
	}
	return http.StatusOK
}

// asksToWait says whether anything in msgs asks to wait until instances
// run (DESIGN §3.1): a request's own wait, a target's or a group's, at any
// depth, with the outer fields as defaults; or a sequence, whose groups
// wait. A dry run waits for nothing (dryRunOnly: DRY_RUN_ONLY), so it asks
// for no wait whatever it says.
func asksToWait(msgs []events.Message, dryRunOnly bool) bool {
	for _, m := range msgs {
		if m.Ignored == "" && requestWaits(m.Request, dryRunOnly, "", false) {
			return true
		}
	}
	return false
}

// requestWaits says whether req, or a target or group in it, waits: with
// dryRun and wait its outer request's (wait "" for none), and inSequence
// when it is (in) a group of a sequence, which waits unless a dry run.
func requestWaits(req events.StartRequest, dryRun bool, wait string, inSequence bool) bool {
	dryRun = dryRun || req.DryRun
	if req.Wait != "" {
		wait = req.Wait
	}
	if req.Sequence != nil {
		for _, g := range req.Sequence {
			if requestWaits(g, dryRun, wait, true) {
				return true
			}
		}
		return false
	}
	if req.Targets != nil {
		for _, t := range req.Targets {
			if requestWaits(t, dryRun, wait, inSequence) {
				return true
			}
		}
		return false
	}
	if dryRun {
		return false
	}
	_, on, _ := plan.ParseWait(wait)
	return on || inSequence
}

func allDenied(res *result.Result) bool {
	for _, ir := range res.InstanceResponses.InstanceResponse {
		if ir.Code != result.CodeNotAllowed {
			return false
		}
	}
	return true
}

func wantsXML(req *events.HTTPRequest) bool {
	if strings.EqualFold(req.Query["Format"], "XML") {
		return true
	}
	accept := strings.ToLower(req.Header("Accept"))
	return strings.Contains(accept, "application/xml") || strings.Contains(accept, "text/xml")
}

func encodeHTTP(status int, v any, asXML bool, extra map[string]string) (json.RawMessage, error) {
	var body []byte
	var err error
	ctype := "application/json"
	if asXML {
		ctype = "application/xml"
		body, err = xml.Marshal(v)
		if err == nil {
			body = append([]byte(xml.Header), body...)
		}
	} else {
		body, err = marshalJSON(v)
	}
	if err != nil {
		return nil, fmt.Errorf("encode HTTP body: %w", err)
	}
	headers := map[string]string{"Content-Type": ctype}
	for k, val := range extra {
		headers[k] = val
	}
	return marshalJSON(HTTPResponse{StatusCode: status, Headers: headers, Body: string(body)})
}

// authenticate applies HTTP_AUTH (DESIGN §6). The reason it gives is safe to show
// the caller: it never echoes a credential.
func (h *Handler) authenticate(req *events.HTTPRequest, now time.Time) (bool, string) {
	switch h.cfg.HTTPAuth {
	case AuthTrigger:
		return true, ""
	case AuthSecret:
	default:
		return false, "HTTP callers are refused until authentication is configured: set WEBHOOK_SECRET " +
			"(callers then send Authorization: Bearer <secret>, an X-Signature-256 HMAC, or token=<secret>), " +
			"or set HTTP_AUTH=trigger and give the HTTP trigger authType function or jwt"
	}
	secret := []byte(h.cfg.WebhookSecret)
	if auth := req.Header("Authorization"); auth != "" {
		if scheme, tok, ok := strings.Cut(strings.TrimSpace(auth), " "); ok && strings.EqualFold(scheme, "Bearer") {
			if equalSecret([]byte(strings.TrimSpace(tok)), secret) {
				return true, ""
			}
		}
	}
	if tok, ok := req.Query["token"]; ok && equalSecret([]byte(tok), secret) {
		return true, ""
	}
	sigWhy := ""
	if sig := req.Header("X-Signature-256"); sig != "" {
		ok, why := checkSignature(secret, req.Header("X-Signature-Timestamp"), sig, req.Body, now)
		if ok {
			// The HMAC covers the body alone: a query beside it could be
			// swapped by anyone who saw one signed request (DESIGN §6).
			if params := req.RequestParams(); len(params) > 0 {
				return false, fmt.Sprintf("the signature covers the body, not the query string, which here holds %s: "+
					"send the start request in the signed body, or authenticate with Authorization: Bearer", paramList(params))
			}
			return true, ""
		}
		sigWhy = " (" + why + ")"
	}
	return false, "authentication failed" + sigWhy + ": send Authorization: Bearer <WEBHOOK_SECRET>, " +
		"or X-Signature-Timestamp with X-Signature-256: sha256=<hex HMAC-SHA256 of \"<timestamp>.<body>\">, or token=<WEBHOOK_SECRET>"
}

// paramList names query parameters for a message (their names only, never
// their values: the query string is not logged), at most three of them.
func paramList(names []string) string {
	const most = 3
	shown := make([]string, 0, most)
	for _, n := range names[:min(len(names), most)] {
		shown = append(shown, plan.Quote(n))
	}
	out := strings.Join(shown, ", ")
	if len(names) > most {
		out += fmt.Sprintf(" and %d more", len(names)-most)
	}
	if len(names) == 1 {
		return "the parameter " + out
	}
	return "the parameters " + out
}

// equalSecret compares in constant time, whatever the lengths: both sides are
// hashed first, so the comparison leaks neither content nor length.
func equalSecret(got, want []byte) bool {
	g := sha256.Sum256(got)
	w := sha256.Sum256(want)
	return hmac.Equal(g[:], w[:]) && len(want) > 0
}

func checkSignature(secret []byte, ts, sig string, body []byte, now time.Time) (bool, string) {
	if ts == "" {
		return false, "X-Signature-256 needs X-Signature-Timestamp"
	}
	sec, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil {
		return false, "X-Signature-Timestamp is not unix seconds"
	}
	if d := now.Sub(time.Unix(sec, 0)); d > signatureWindow || d < -signatureWindow {
		if ms := time.UnixMilli(sec); sec > 1e11 && now.Sub(ms) <= signatureWindow && now.Sub(ms) >= -signatureWindow {
			// The commonest slip of a sender: say so.
			return false, "X-Signature-Timestamp is in milliseconds: send unix seconds"
		}
		return false, "X-Signature-Timestamp is more than 300 s from now"
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(sig), "sha256=")
	if !ok {
		return false, "X-Signature-256 must be sha256=<hex>"
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false, "X-Signature-256 is not hex"
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strings.TrimSpace(ts)))
	mac.Write([]byte("."))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return false, "X-Signature-256 does not match"
	}
	return true, ""
}

// ErrorBody is the body of a 4xx answer that has no result (DESIGN §5).
type ErrorBody struct {
	XMLName   xml.Name            `json:"-" xml:"Error"`
	RequestID string              `json:"RequestId" xml:"RequestId"`
	Code      string              `json:"Code" xml:"Code"`
	Message   string              `json:"Message" xml:"Message"`
	Errors    []events.FieldError `json:"Errors" xml:"Errors>Error"`
}
