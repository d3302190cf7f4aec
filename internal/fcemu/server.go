package fcemu

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Function types carried in x-fc-function-type. The SDK treats a missing or
// unknown value as an ordinary invocation of the handler.
const (
	FunctionTypeHandler     = 0
	FunctionTypeInitializer = 1
	FunctionTypePreStop     = 2
	FunctionTypePreFreeze   = 3
)

const (
	apiPrefix = "/2020-11-11/runtime/invocation/"

	// maxResultBytes bounds what a function may post: FC's limit for a
	// synchronous response is 32 MB, and a test double must not let a runaway
	// function fill the test process's memory.
	maxResultBytes = 32 << 20
)

// Errors returned by Invoke.
var (
	// ErrTimeout: the function did not post a result before the invocation's
	// deadline (plus Config.TimeoutGrace). FC gives up at that point too.
	ErrTimeout = errors.New("fcemu: function did not answer before its deadline")
	// ErrClosed: the server was closed while the invocation was pending.
	ErrClosed = errors.New("fcemu: server closed")
)

// Credentials are the temporary credentials of the function's role, handed to
// the function per invocation (x-fc-access-key-id, …-secret, x-fc-security-token).
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// Config describes the emulated function. Zero fields take the defaults named.
type Config struct {
	FunctionName string // default "fcemu-function"
	Handler      string // default "main" (a go1 function's handler is its binary)
	MemoryMB     int    // default 512
	ServiceName  string // FC 3.0 has no services; sent only when set
	LogProject   string // default "fcemu-logproject"
	LogStore     string // default "fcemu-logstore"
	Qualifier    string // default "LATEST"

	// Defaults for invocations that leave these empty.
	Region      string        // default "cn-hangzhou"
	AccountID   string        // default "1234567890123456"
	Credentials Credentials   // default: none (an invocation without a role)
	Timeout     time.Duration // default 60s

	// TimeoutGrace is how long past the deadline Invoke still waits for a
	// result, to absorb scheduling jitter between this process and the
	// function's. Default 250ms.
	TimeoutGrace time.Duration
}

func (c Config) withDefaults() Config {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.FunctionName, "fcemu-function")
	def(&c.Handler, "main")
	def(&c.LogProject, "fcemu-logproject")
	def(&c.LogStore, "fcemu-logstore")
	def(&c.Qualifier, "LATEST")
	def(&c.Region, "cn-hangzhou")
	def(&c.AccountID, "1234567890123456")
	if c.MemoryMB <= 0 {
		c.MemoryMB = 512
	}
	if c.Timeout <= 0 {
		c.Timeout = 60 * time.Second
	}
	if c.TimeoutGrace <= 0 {
		c.TimeoutGrace = 250 * time.Millisecond
	}
	return c
}

// Invocation is one call of the function.
type Invocation struct {
	Payload []byte
	// RequestID is generated in FC 3.0's form ("1-<hex epoch seconds>-…")
	// when empty. It travels in URL paths, so only letters, digits, '-', '_'
	// and '.' are accepted.
	RequestID string
	// Timeout is the function's timeout; the deadline the function sees is
	// the moment the function fetches the invocation plus Timeout.
	// Zero: Config.Timeout.
	Timeout time.Duration
	// Credentials, Region, AccountID: zero values take the Config's. Use
	// NoCredentials to send an invocation without credentials even when the
	// Config has some.
	Credentials   Credentials
	NoCredentials bool
	Region        string
	AccountID     string
	RetryCount    int
	// FunctionType is one of the FunctionType constants; lifecycle hooks
	// (initializer, preStop, preFreeze) are invocations of their own.
	FunctionType int
	// ExtraHeaders are added to the /next answer after the standard ones, and
	// replace them when they share a name (to emulate a malformed platform).
	ExtraHeaders http.Header
}

// Result is what the function posted for one invocation.
type Result struct {
	RequestID string
	// Payload is the posted body: the handler's JSON answer, or the SDK's
	// error JSON when IsError.
	Payload      []byte
	IsError      bool
	ErrorMessage string // errorMessage of the error JSON
	ErrorType    string // errorType of the error JSON
	// Deadline is the deadline sent to the function (x-fc-function-deadline).
	Deadline time.Time
	// Duration runs from the function fetching the invocation to its result.
	Duration time.Duration
}

// errorBody is the SDK's error JSON (messages.InvokeResponse_Error).
type errorBody struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

type invocationState int

const (
	stateQueued invocationState = iota
	stateDispatched
	stateDone
	stateAbandoned // Invoke gave up (deadline or ctx); a late result is refused
)

type pending struct {
	inv        Invocation
	dispatched chan struct{} // closed by the /next handler once deadline is set
	done       chan struct{} // closed when result is set
	// Guarded by Server.mu.
	state        invocationState
	deadline     time.Time
	dispatchedAt time.Time
	result       *Result
}

// Server is the runtime API emulator. It is safe for concurrent use.
type Server struct {
	cfg      Config
	listener net.Listener
	http     *http.Server
	queue    chan *pending
	closed   chan struct{}
	closeMu  sync.Once

	mu         sync.Mutex
	byID       map[string]*pending
	processes  map[*Process]struct{}
	dispatches atomic.Int64

	// firstPoll is closed when the first GET …/next arrives, at firstPollAt.
	firstPoll     chan struct{}
	firstPollOnce sync.Once
	firstPollAt   time.Time
}

// New starts a runtime API server on a free port of 127.0.0.1 with the
// default Config.
func New() (*Server, error) { return NewWithConfig(Config{}) }

// NewWithConfig starts a runtime API server on a free port of 127.0.0.1.
func NewWithConfig(cfg Config) (*Server, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fcemu: listen: %w", err)
	}
	s := &Server{
		cfg:       cfg.withDefaults(),
		listener:  ln,
		queue:     make(chan *pending),
		closed:    make(chan struct{}),
		byID:      make(map[string]*pending),
		processes: make(map[*Process]struct{}),
		firstPoll: make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+apiPrefix+"next", s.handleNext)
	mux.HandleFunc("POST "+apiPrefix+"{id}/response", func(w http.ResponseWriter, r *http.Request) { s.handleResult(w, r, false) })
	mux.HandleFunc("POST "+apiPrefix+"{id}/error", func(w http.ResponseWriter, r *http.Request) { s.handleResult(w, r, true) })
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

// Addr is the host:port the function expects in FC_RUNTIME_API.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Config returns the server's configuration with defaults applied.
func (s *Server) Config() Config { return s.cfg }

// Dispatched counts the invocations the function has fetched so far, so tests
// can assert that a request never reached the function.
func (s *Server) Dispatched() int64 { return s.dispatches.Load() }

// Close stops the function processes started with StartFunction, then the
// server; pending invocations fail with ErrClosed. The processes go first
// because the SDK retries a failed /next in a tight loop without backoff.
func (s *Server) Close() error {
	s.mu.Lock()
	procs := make([]*Process, 0, len(s.processes))
	for p := range s.processes {
		procs = append(procs, p)
	}
	s.mu.Unlock()
	for _, p := range procs {
		_ = p.Stop()
	}
	s.closeMu.Do(func() { close(s.closed) })
	// Close rather than Shutdown: long-polling /next requests never finish
	// on their own.
	return s.http.Close()
}

// NewRequestID makes a request ID in FC 3.0's form: "1-", the epoch seconds
// in hex (the public docs' sample 1-64f6cd87-… matches its timeEpoch), then
// random hex.
func NewRequestID() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("1-%08x-%s-%s", time.Now().Unix(), h[:8], h[8:])
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// Invoke queues one invocation and blocks until the function posts its
// result, ctx ends, the deadline (plus TimeoutGrace) passes (ErrTimeout), or
// the server closes (ErrClosed). A function error is a Result with IsError,
// not an error: it is the function's answer.
func (s *Server) Invoke(ctx context.Context, inv Invocation) (*Result, error) {
	if inv.RequestID == "" {
		inv.RequestID = NewRequestID()
	} else if !validRequestID(inv.RequestID) {
		return nil, fmt.Errorf("fcemu: request ID %q: only letters, digits, '-', '_' and '.' fit in the runtime API's paths", inv.RequestID)
	}
	if inv.Timeout <= 0 {
		inv.Timeout = s.cfg.Timeout
	}
	p := &pending{inv: inv, dispatched: make(chan struct{}), done: make(chan struct{})}

	s.mu.Lock()
	if old, ok := s.byID[inv.RequestID]; ok && old.state != stateDone && old.state != stateAbandoned {
		s.mu.Unlock()
		return nil, fmt.Errorf("fcemu: request ID %s is already in flight", inv.RequestID)
	}
	// A finished ID may be reused: FC's async retries keep the request ID.
	s.byID[inv.RequestID] = p
	s.pruneLocked()
	s.mu.Unlock()

	select {
	case s.queue <- p:
	case <-ctx.Done():
		s.abandon(p)
		return nil, ctx.Err()
	case <-s.closed:
		s.abandon(p)
		return nil, ErrClosed
	}
	<-p.dispatched // closed right after the handoff, by the /next handler

	s.mu.Lock()
	wait := time.Until(p.deadline) + s.cfg.TimeoutGrace
	s.mu.Unlock()
	timer := time.NewTimer(wait)
	defer timer.Stop()

	select {
	case <-p.done:
		s.mu.Lock()
		r := *p.result
		s.mu.Unlock()
		return &r, nil
	case <-timer.C:
		s.abandon(p)
		return nil, fmt.Errorf("%w (request %s, timeout %s)", ErrTimeout, inv.RequestID, inv.Timeout)
	case <-ctx.Done():
		s.abandon(p)
		return nil, ctx.Err()
	case <-s.closed:
		s.abandon(p)
		return nil, ErrClosed
	}
}

// keepFinished is how many finished invocations the server remembers before
// it forgets them all, so that a long-running local runner does not grow
// without bound. Forgotten IDs answer 404 rather than 409 to a late post:
// still an error.
const keepFinished = 4096

func (s *Server) pruneLocked() {
	if len(s.byID) <= keepFinished {
		return
	}
	for id, p := range s.byID {
		if p.state == stateDone || p.state == stateAbandoned {
			delete(s.byID, id)
		}
	}
}

func (s *Server) abandon(p *pending) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.state != stateDone {
		p.state = stateAbandoned
	}
}

// FirstPoll waits until a function first asks for an invocation (GET
// …/invocation/next) and returns when that request arrived: with
// Process.Started, a cold start. It fails when ctx ends or the server closes
// first.
func (s *Server) FirstPoll(ctx context.Context) (time.Time, error) {
	select {
	case <-s.firstPoll:
		return s.firstPollAt, nil
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	case <-s.closed:
		return time.Time{}, ErrClosed
	}
}

// handleNext answers the SDK's long poll with the next queued invocation.
func (s *Server) handleNext(w http.ResponseWriter, r *http.Request) {
	s.firstPollOnce.Do(func() {
		s.firstPollAt = time.Now()
		close(s.firstPoll)
	})
	var p *pending
	select {
	case p = <-s.queue:
	case <-r.Context().Done():
		return
	case <-s.closed:
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}

	now := time.Now()
	s.mu.Lock()
	p.state = stateDispatched
	p.dispatchedAt = now
	p.deadline = now.Add(p.inv.Timeout)
	deadline := p.deadline
	s.mu.Unlock()
	close(p.dispatched)
	s.dispatches.Add(1)

	h := w.Header()
	for k, v := range s.invocationHeaders(p.inv, deadline) {
		h[k] = v
	}
	for k, v := range p.inv.ExtraHeaders {
		h[http.CanonicalHeaderKey(k)] = v
	}
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(len(p.inv.Payload)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(p.inv.Payload)
}

// invocationHeaders are the headers FC puts on an invocation and that the SDK
// reads (fc/runtime_api_client.go, fc/invoke_loop.go). Empty values are left
// out, as FC leaves out credentials for a function without a role.
func (s *Server) invocationHeaders(inv Invocation, deadline time.Time) http.Header {
	cred := inv.Credentials
	if cred == (Credentials{}) && !inv.NoCredentials {
		cred = s.cfg.Credentials
	}
	region, account := inv.Region, inv.AccountID
	if region == "" {
		region = s.cfg.Region
	}
	if account == "" {
		account = s.cfg.AccountID
	}
	// The SDK parses the timeout with Atoi: whole seconds, rounded up so the
	// function never believes it has less time than it has.
	timeoutSec := int((inv.Timeout + time.Second - 1) / time.Second)

	h := http.Header{}
	set := func(k, v string) {
		if v != "" {
			h.Set(k, v)
		}
	}
	set("x-fc-request-id", inv.RequestID)
	set("x-fc-function-deadline", strconv.FormatInt(deadline.UnixMilli(), 10))
	set("x-fc-function-timeout", strconv.Itoa(timeoutSec))
	set("x-fc-access-key-id", cred.AccessKeyID)
	set("x-fc-access-key-secret", cred.AccessKeySecret)
	set("x-fc-security-token", cred.SecurityToken)
	set("x-fc-region", region)
	set("x-fc-account-id", account)
	set("x-fc-retry-count", strconv.Itoa(inv.RetryCount))
	set("x-fc-function-name", s.cfg.FunctionName)
	set("x-fc-function-handler", s.cfg.Handler)
	set("x-fc-function-memory", strconv.Itoa(s.cfg.MemoryMB))
	set("x-fc-service-name", s.cfg.ServiceName)
	set("x-fc-service-logproject", s.cfg.LogProject)
	set("x-fc-service-logstore", s.cfg.LogStore)
	set("x-fc-qualifier", s.cfg.Qualifier)
	if inv.FunctionType != FunctionTypeHandler {
		set("x-fc-function-type", strconv.Itoa(inv.FunctionType))
	}
	return h
}

// handleResult takes the result the SDK posts for an invocation.
func (s *Server) handleResult(w http.ResponseWriter, r *http.Request, isError bool) {
	id := r.PathValue("id")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxResultBytes))
	if err != nil {
		http.Error(w, "reading result: "+err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	res := &Result{RequestID: id, Payload: body}
	if isError {
		res.IsError = true
		var eb errorBody
		if err := json.Unmarshal(body, &eb); err != nil {
			http.Error(w, "error body is not the SDK's error JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		res.ErrorMessage, res.ErrorType = eb.Message, eb.Type
	}

	s.mu.Lock()
	p, ok := s.byID[id]
	if !ok {
		s.mu.Unlock()
		http.Error(w, "unknown request id "+id, http.StatusNotFound)
		return
	}
	switch p.state {
	case stateQueued:
		s.mu.Unlock()
		http.Error(w, "request "+id+" was never fetched from /next", http.StatusConflict)
		return
	case stateDone:
		s.mu.Unlock()
		http.Error(w, "request "+id+" already has a result", http.StatusConflict)
		return
	case stateAbandoned:
		s.mu.Unlock()
		http.Error(w, "request "+id+" is past its deadline; the caller has gone", http.StatusGone)
		return
	}
	res.Deadline = p.deadline
	res.Duration = time.Since(p.dispatchedAt)
	p.result = res
	p.state = stateDone
	s.mu.Unlock()
	close(p.done)
	w.WriteHeader(http.StatusOK)
}
