package fcemu

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// HTTPEvent is the event an FC 3.0 HTTP trigger hands to a function in a
// built-in runtime. Fields are in the order of the platform's own samples.
type HTTPEvent struct {
	Version         string             `json:"version"`
	RawPath         string             `json:"rawPath"`
	Headers         map[string]string  `json:"headers"`
	QueryParameters map[string]string  `json:"queryParameters"`
	Body            string             `json:"body"`
	IsBase64Encoded bool               `json:"isBase64Encoded"`
	RequestContext  HTTPRequestContext `json:"requestContext"`
}

// HTTPRequestContext is the event's requestContext.
type HTTPRequestContext struct {
	AccountID    string          `json:"accountId"`
	TriggerID    string          `json:"triggerId"`
	DomainName   string          `json:"domainName"`
	DomainPrefix string          `json:"domainPrefix"`
	RequestID    string          `json:"requestId"`
	Time         string          `json:"time"`      // RFC 3339, seconds, UTC
	TimeEpoch    string          `json:"timeEpoch"` // epoch milliseconds, as a string
	HTTP         HTTPRequestInfo `json:"http"`
}

// HTTPRequestInfo is requestContext.http.
type HTTPRequestInfo struct {
	Method    string `json:"method"`
	Path      string `json:"path"` // URL-decoded; rawPath keeps the encoding
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// HTTPResponse is the answer an FC 3.0 HTTP trigger expects from a function.
type HTTPResponse struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers,omitempty"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	Body            string            `json:"body"`
}

// GatewayOptions configure a Gateway. Zero fields take the defaults named.
type GatewayOptions struct {
	// MaxBodyBytes: larger synchronous request bodies get 413 before the
	// function is invoked. Default 32 MiB, FC's limit for synchronous calls.
	MaxBodyBytes int64
	// AsyncMaxBodyBytes: the same for asynchronous calls. Default 128 KiB,
	// FC's limit for an asynchronous invocation's payload.
	AsyncMaxBodyBytes int64

	// Timeout, Credentials, NoCredentials, Region, AccountID: as in
	// Invocation; zero values take the Server's Config.
	Timeout       time.Duration
	Credentials   Credentials
	NoCredentials bool
	Region        string
	AccountID     string

	// TriggerID is requestContext.triggerId; default "fcemu-http-trigger".
	TriggerID string
	// DomainName is requestContext.domainName; default
	// "<TriggerID>.<region>.fcapp.run", the form of an FC 3.0 function URL.
	// domainPrefix is its first label.
	DomainName string

	// Base64ContentTypes are media types (e.g. "application/octet-stream")
	// whose bodies are always base64-encoded in the event. FC's documents say
	// only that a binary body is base64-encoded; its own sample event carries
	// an application/octet-stream body "haha" as plain text, so by default a
	// body is encoded exactly when it is not valid UTF-8. Set this to exercise
	// a function's base64 path with text bodies.
	Base64ContentTypes []string

	// ErrorStatusCode is the HTTP status for a function error (and a timeout).
	// FC marks a function error with X-Fc-Error-Type: UnhandledInvocationError
	// and the error JSON as the body; the status code of an HTTP trigger's
	// answer is not documented. Default 502.
	ErrorStatusCode int

	// AsyncMaxRetries is how many times an asynchronous invocation that ended
	// in an error or a timeout is tried again, with x-fc-retry-count counting
	// up and the same request ID and event. FC's default is 3; the default
	// here is 0 so that a failing test fails once.
	AsyncMaxRetries int
	// AsyncRetryDelay is the pause before each retry; default 50ms.
	AsyncRetryDelay time.Duration

	// Clock gives requestContext.time; default time.Now. Tests of event
	// expiry set it to the past.
	Clock func() time.Time
}

// Gateway plays an FC 3.0 HTTP trigger in front of a Server. It is an
// http.Handler, safe for concurrent use.
type Gateway struct {
	s    *Server
	opts GatewayOptions

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	async map[string]*AsyncRecord
	order []string
}

// AsyncAttempt is one try of an asynchronous invocation.
type AsyncAttempt struct {
	RetryCount int
	Result     *Result // nil when Err is set
	Err        error   // the invocation failed to produce a result (timeout, closed)
}

// AsyncRecord is what became of one asynchronous request.
type AsyncRecord struct {
	RequestID string
	Event     HTTPEvent
	Attempts  []AsyncAttempt
	// Done is true once no further attempt will be made.
	Done bool
	done chan struct{}
}

// Final is the last attempt, or nil before the first one ends.
func (r AsyncRecord) Final() *AsyncAttempt {
	if len(r.Attempts) == 0 {
		return nil
	}
	return &r.Attempts[len(r.Attempts)-1]
}

// Succeeded tells whether the last attempt produced a result that is not an
// error.
func (r AsyncRecord) Succeeded() bool {
	f := r.Final()
	return f != nil && f.Err == nil && !f.Result.IsError
}

// NewHTTPGateway returns a Gateway that invokes the function served by s.
func NewHTTPGateway(s *Server, opts GatewayOptions) *Gateway {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 32 << 20
	}
	if opts.AsyncMaxBodyBytes <= 0 {
		opts.AsyncMaxBodyBytes = 128 << 10
	}
	if opts.TriggerID == "" {
		opts.TriggerID = "fcemu-http-trigger"
	}
	if opts.Region == "" {
		opts.Region = s.cfg.Region
	}
	if opts.AccountID == "" {
		opts.AccountID = s.cfg.AccountID
	}
	if opts.DomainName == "" {
		opts.DomainName = opts.TriggerID + "." + opts.Region + ".fcapp.run"
	}
	if opts.ErrorStatusCode == 0 {
		opts.ErrorStatusCode = http.StatusBadGateway
	}
	if opts.AsyncRetryDelay <= 0 {
		opts.AsyncRetryDelay = 50 * time.Millisecond
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Gateway{s: s, opts: opts, ctx: ctx, cancel: cancel, async: make(map[string]*AsyncRecord)}
}

// Close abandons asynchronous invocations still running and waits for their
// goroutines.
func (g *Gateway) Close() {
	g.cancel()
	g.wg.Wait()
}

// NewHTTPEvent builds the event FC 3.0 would hand the function for r, whose
// body has already been read into body.
func NewHTTPEvent(r *http.Request, body []byte, requestID string, opts GatewayOptions) HTTPEvent {
	now := time.Now()
	if opts.Clock != nil {
		now = opts.Clock()
	}
	headers := make(map[string]string, len(r.Header))
	for name, values := range r.Header {
		// The body is re-encoded into the event, so its length no longer
		// describes anything; FC's sample event carries none.
		if name == "Content-Length" {
			continue
		}
		// FC joins repeated values with a comma (its docs: "value1,value2").
		headers[name] = strings.Join(values, ",")
	}
	query := map[string]string{} // {} rather than null, as in FC's sample
	for name, values := range r.URL.Query() {
		query[name] = strings.Join(values, ",")
	}
	sourceIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = host
	}
	ev := HTTPEvent{
		Version:         "v1",
		RawPath:         r.URL.EscapedPath(),
		Headers:         headers,
		QueryParameters: query,
		RequestContext: HTTPRequestContext{
			AccountID:    opts.AccountID,
			TriggerID:    opts.TriggerID,
			DomainName:   opts.DomainName,
			DomainPrefix: strings.SplitN(opts.DomainName, ".", 2)[0],
			RequestID:    requestID,
			Time:         now.UTC().Format(time.RFC3339),
			TimeEpoch:    strconv.FormatInt(now.UnixMilli(), 10),
			HTTP: HTTPRequestInfo{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if isBinaryBody(r.Header.Get("Content-Type"), body, opts.Base64ContentTypes) {
		ev.Body = base64.StdEncoding.EncodeToString(body)
		ev.IsBase64Encoded = true
	} else {
		ev.Body = string(body)
	}
	return ev
}

func isBinaryBody(contentType string, body []byte, forced []string) bool {
	if !utf8.Valid(body) {
		return true
	}
	if len(forced) == 0 || contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	for _, f := range forced {
		if strings.EqualFold(mt, f) {
			return true
		}
	}
	return false
}

// platformError is the emulator's own answer when the platform, not the
// function, refuses a request (body too large, invocation impossible).
type platformError struct {
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	RequestID string `json:"RequestId"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// ServeHTTP turns r into an invocation.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := NewRequestID()
	w.Header().Set("X-Fc-Request-Id", id)
	async := strings.EqualFold(r.Header.Get("X-Fc-Invocation-Type"), "Async")
	limit := g.opts.MaxBodyBytes
	if async {
		limit = g.opts.AsyncMaxBodyBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			// FC refuses these before the function runs, with the code
			// EntityTooLarge ("payload size exceeds maximum allowed size").
			writeJSON(w, http.StatusRequestEntityTooLarge, platformError{
				Code:      "EntityTooLarge",
				Message:   fmt.Sprintf("payload size exceeds maximum allowed size (%d bytes)", limit),
				RequestID: id,
			})
			return
		}
		writeJSON(w, http.StatusBadRequest, platformError{Code: "BadRequest", Message: "reading request body: " + err.Error(), RequestID: id})
		return
	}
	ev := NewHTTPEvent(r, body, id, g.opts)
	payload, err := json.Marshal(ev)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, platformError{Code: "InternalError", Message: err.Error(), RequestID: id})
		return
	}
	inv := Invocation{
		Payload:       payload,
		RequestID:     id,
		Timeout:       g.opts.Timeout,
		Credentials:   g.opts.Credentials,
		NoCredentials: g.opts.NoCredentials,
		Region:        g.opts.Region,
		AccountID:     g.opts.AccountID,
	}
	if async {
		g.startAsync(inv, ev)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	res, err := g.s.Invoke(r.Context(), inv)
	g.writeResult(w, inv, res, err)
}

func (g *Gateway) writeResult(w http.ResponseWriter, inv Invocation, res *Result, err error) {
	h := w.Header()
	if err != nil {
		h.Set("X-Fc-Error-Type", "UnhandledInvocationError")
		eb := errorBody{Message: err.Error(), Type: "InvocationFailed"}
		if errors.Is(err, ErrTimeout) {
			timeout := inv.Timeout
			if timeout <= 0 {
				timeout = g.s.cfg.Timeout
			}
			eb = errorBody{
				Message: fmt.Sprintf("Function time out after %d seconds", int((timeout+time.Second-1)/time.Second)),
				Type:    "FunctionTimeout",
			}
		}
		writeJSON(w, g.opts.ErrorStatusCode, eb)
		return
	}
	if res.IsError {
		h.Set("X-Fc-Error-Type", "UnhandledInvocationError")
		h.Set("Content-Type", "application/json")
		w.WriteHeader(g.opts.ErrorStatusCode)
		_, _ = w.Write(res.Payload)
		return
	}
	resp, ok := parseHTTPResponse(res.Payload)
	if !ok {
		// Not an HTTP trigger response: the payload itself is the body.
		if json.Valid(res.Payload) {
			h.Set("Content-Type", "application/json")
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(res.Payload)
		return
	}
	body := []byte(resp.body)
	if resp.isBase64 {
		decoded, err := base64.StdEncoding.DecodeString(resp.body)
		if err != nil {
			h.Set("X-Fc-Error-Type", "UnhandledInvocationError")
			writeJSON(w, g.opts.ErrorStatusCode, errorBody{
				Message: "the function's answer has isBase64Encoded true but its body is not base64: " + err.Error(),
				Type:    "InvalidResponse",
			})
			return
		}
		body = decoded
	}
	names := make([]string, 0, len(resp.headers))
	for k := range resp.headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		h.Set(k, resp.headers[k])
	}
	if h.Get("Content-Type") == "" {
		// Keep net/http from sniffing one: the client gets what the function
		// set, nothing more.
		h["Content-Type"] = nil
	}
	w.WriteHeader(resp.statusCode)
	_, _ = w.Write(body)
}

type parsedResponse struct {
	statusCode int
	headers    map[string]string
	isBase64   bool
	body       string
}

// parseHTTPResponse reads a function's answer as an HTTP trigger response:
// a JSON object with a numeric statusCode (100-599). Anything else is not one.
func parseHTTPResponse(payload []byte) (parsedResponse, bool) {
	var raw struct {
		StatusCode      *int                       `json:"statusCode"`
		Headers         map[string]json.RawMessage `json:"headers"`
		IsBase64Encoded bool                       `json:"isBase64Encoded"`
		Body            json.RawMessage            `json:"body"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil || raw.StatusCode == nil {
		return parsedResponse{}, false
	}
	if *raw.StatusCode < 100 || *raw.StatusCode > 599 {
		return parsedResponse{}, false
	}
	out := parsedResponse{statusCode: *raw.StatusCode, isBase64: raw.IsBase64Encoded, headers: map[string]string{}}
	for k, v := range raw.Headers {
		out.headers[k] = jsonText(v)
	}
	out.body = jsonText(raw.Body)
	return out, true
}

// jsonText is a JSON string's value, or any other JSON value's text (null is
// empty).
func jsonText(v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s
	}
	return string(v)
}

func (g *Gateway) startAsync(inv Invocation, ev HTTPEvent) {
	rec := &AsyncRecord{RequestID: inv.RequestID, Event: ev, done: make(chan struct{})}
	g.mu.Lock()
	g.async[inv.RequestID] = rec
	g.order = append(g.order, inv.RequestID)
	g.mu.Unlock()

	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer func() {
			g.mu.Lock()
			rec.Done = true
			g.mu.Unlock()
			close(rec.done)
		}()
		for retry := 0; ; retry++ {
			inv.RetryCount = retry
			res, err := g.s.Invoke(g.ctx, inv)
			g.mu.Lock()
			rec.Attempts = append(rec.Attempts, AsyncAttempt{RetryCount: retry, Result: res, Err: err})
			g.mu.Unlock()
			failed := err != nil || res.IsError
			if !failed || retry >= g.opts.AsyncMaxRetries || g.ctx.Err() != nil {
				return
			}
			select {
			case <-time.After(g.opts.AsyncRetryDelay):
			case <-g.ctx.Done():
				return
			}
		}
	}()
}

// snapshot copies rec under g.mu so callers never share its slice.
func (g *Gateway) snapshot(rec *AsyncRecord) AsyncRecord {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := *rec
	c.Attempts = append([]AsyncAttempt(nil), rec.Attempts...)
	return c
}

// AsyncRecords returns the asynchronous requests so far, in arrival order.
func (g *Gateway) AsyncRecords() []AsyncRecord {
	g.mu.Lock()
	recs := make([]*AsyncRecord, 0, len(g.order))
	for _, id := range g.order {
		recs = append(recs, g.async[id])
	}
	g.mu.Unlock()
	out := make([]AsyncRecord, 0, len(recs))
	for _, r := range recs {
		out = append(out, g.snapshot(r))
	}
	return out
}

// WaitAsync waits until the asynchronous request requestID (its
// X-Fc-Request-Id) is done, retries included, and returns its record.
func (g *Gateway) WaitAsync(ctx context.Context, requestID string) (AsyncRecord, error) {
	g.mu.Lock()
	rec, ok := g.async[requestID]
	g.mu.Unlock()
	if !ok {
		return AsyncRecord{}, fmt.Errorf("fcemu: no asynchronous request %s", requestID)
	}
	select {
	case <-rec.done:
		return g.snapshot(rec), nil
	case <-ctx.Done():
		return g.snapshot(rec), ctx.Err()
	}
}
