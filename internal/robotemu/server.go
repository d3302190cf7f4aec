package robotemu

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind is the kind of robot a request was sent to, known from its path.
type Kind string

// The kinds of robot the server stands in for.
const (
	DingTalk Kind = "dingtalk"
	Lark     Kind = "lark"
	WeCom    Kind = "wecom"
	Slack    Kind = "slack"
	Generic  Kind = "generic"
)

// maxBody is how much of a request body is read; a larger body is refused
// as the kind refuses a malformed one.
const maxBody = 1 << 20

// Robot is one robot (one group's webhook) the server knows.
type Robot struct {
	Kind Kind
	// Token names the robot in its URL: DingTalk's access_token, Lark's hook
	// token, WeCom's key, Slack's "T…/B…/…" path after /services/, or a
	// generic receiver's path ("/hooks/ops").
	Token string
	// Secret is the signing secret ("" = the robot does not check
	// signatures). WeCom and Slack sign nothing; their Secret is ignored.
	Secret string
	// Keywords, when any, must appear in the message (DingTalk and Lark's
	// "custom keywords" security setting): one of them is enough.
	Keywords []string
	// PerMinute is how many messages the robot takes in a window of
	// Options.Window: 0 means the kind's documented limit (DingTalk 20,
	// WeCom 20, Lark 100, Slack 60, generic none), negative means none.
	PerMinute int
}

// Fault is injected into the requests a robot (or every robot) receives.
type Fault struct {
	// Down closes the connection without an answer, as a host that is gone.
	Down bool
	// Status, when set, answers that HTTP status (e.g. 503) with a short
	// text body before anything is checked.
	Status int
	// Delay holds the answer that long (or until the client gives up).
	Delay time.Duration
	// Code, when set, answers the robot's own error shape with that code
	// and Msg (for Slack and generic: Code is the HTTP status, Msg the body).
	Code int
	Msg  string
}

// Options configure a Server.
type Options struct {
	Robots []Robot
	// Open makes a request to a token the server does not know create a
	// robot of its kind without secret or keywords, instead of the kind's
	// unknown-token answer: for a local run that just wants to see messages.
	Open bool
	// Window is the rate limit's window; zero means one minute.
	Window time.Duration
	// Now is the server's clock; nil means time.Now.
	Now func() time.Time
}

// Message is the record of one request the server received.
type Message struct {
	Time  time.Time
	Kind  Kind
	Token string
	// Body is the request body as received; Parsed the same decoded as JSON
	// (nil when it is not a JSON object).
	Body   []byte
	Parsed map[string]any
	// MsgType is the message's type as the kind names it ("markdown",
	// "text", "interactive", "post", "blocks"); Title and Text what a
	// person sees, as plain text (see PlainText).
	MsgType string
	Title   string
	Text    string
	// Signed says a signature came with the request; SignatureOK that it
	// checked (false when it did not, or when none came to a robot with a
	// secret).
	Signed      bool
	SignatureOK bool
	// Accepted says the robot took the message; Status and Code are the
	// answer: the HTTP status and the robot's own code ("0" for DingTalk,
	// Lark, WeCom; "ok" for Slack and generic) or error.
	Accepted bool
	Status   int
	Code     string
	// Fault names an injected fault that answered ("down", "status",
	// "code"), empty otherwise.
	Fault string
}

// answer is what a kind replies to one request.
type answer struct {
	status     int
	body       []byte
	code       string
	accepted   bool
	retryAfter time.Duration
}

// Server is the robot emulator. Create it with New, then Start; it is also
// an http.Handler, to be mounted elsewhere.
type Server struct {
	opts Options

	mu       sync.Mutex
	robots   map[robotKey]*robotState
	faults   map[string]Fault // by token; "" for every robot
	messages []Message

	httpServer *http.Server
	listener   net.Listener
}

type robotKey struct {
	kind  Kind
	token string
}

type robotState struct {
	Robot
	sent []time.Time // accepted messages in the current window, oldest first
	// blockedUntil is the end of the penalty of a robot that went over its
	// limit (DingTalk: ten minutes).
	blockedUntil time.Time
}

// New returns a server for opts.
func New(opts Options) *Server {
	if opts.Window <= 0 {
		opts.Window = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, robots: map[robotKey]*robotState{}, faults: map[string]Fault{}}
	for _, r := range opts.Robots {
		s.AddRobot(r)
	}
	return s
}

// AddRobot adds a robot, or replaces the one of the same kind and token.
func (s *Server) AddRobot(r Robot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.robots[robotKey{r.Kind, r.Token}] = &robotState{Robot: r}
}

// SetFault injects f into the requests to the robot named token ("" for
// every robot, used when a robot has none of its own). The zero Fault
// clears it.
func (s *Server) SetFault(token string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == (Fault{}) {
		delete(s.faults, token)
		return
	}
	s.faults[token] = f
}

// Messages returns a copy of every request received so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Accepted returns the messages the robots took, in order.
func (s *Server) Accepted() []Message {
	var out []Message
	for _, m := range s.Messages() {
		if m.Accepted {
			out = append(out, m)
		}
	}
	return out
}

// Start serves on a free port of 127.0.0.1.
func (s *Server) Start() {
	if err := s.StartOn("127.0.0.1:0"); err != nil {
		panic(err)
	}
}

// StartOn serves on addr ("127.0.0.1:9000").
func (s *Server) StartOn(addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return err
	}
	s.listener = ln
	s.httpServer = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.httpServer.Serve(ln) }()
	return nil
}

// URL is the server's base URL, "http://127.0.0.1:port".
func (s *Server) URL() string {
	return "http://" + s.listener.Addr().String()
}

// URLFor is the webhook URL of a robot on this server, as the kind writes
// it (without the signing secret).
func (s *Server) URLFor(kind Kind, token string) string {
	switch kind {
	case DingTalk:
		return s.URL() + "/robot/send?access_token=" + token
	case Lark:
		return s.URL() + "/open-apis/bot/v2/hook/" + token
	case WeCom:
		return s.URL() + "/cgi-bin/webhook/send?key=" + token
	case Slack:
		return s.URL() + "/services/" + token
	}
	return s.URL() + token
}

// Close stops the server; connections to its URL are then refused.
func (s *Server) Close() {
	if s.httpServer == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.httpServer.Shutdown(ctx); err != nil {
		_ = s.httpServer.Close()
	}
}

// route names the kind and token of a request from its path.
func route(r *http.Request) (Kind, string) {
	p := r.URL.Path
	switch {
	case p == "/robot/send":
		return DingTalk, r.URL.Query().Get("access_token")
	case strings.HasPrefix(p, "/open-apis/bot/v2/hook/"):
		return Lark, strings.TrimPrefix(p, "/open-apis/bot/v2/hook/")
	case p == "/cgi-bin/webhook/send":
		return WeCom, r.URL.Query().Get("key")
	case strings.HasPrefix(p, "/services/"):
		return Slack, strings.TrimPrefix(p, "/services/")
	}
	return Generic, p
}

// ServeHTTP answers one request as its robot would, and records it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind, token := route(r)
	m := Message{Time: s.opts.Now(), Kind: kind, Token: token}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return
	}
	m.Body = body
	var parsed map[string]any
	if json.Unmarshal(body, &parsed) == nil {
		m.Parsed = parsed
	}
	f := s.faultFor(token)
	if f.Delay > 0 {
		if !sleep(r.Context(), f.Delay) {
			m.Fault = "delay"
			s.record(m)
			return
		}
	}
	if f.Down {
		m.Fault = "down"
		s.record(m)
		hangUp(w)
		return
	}
	a := s.decide(kind, token, r, body, f, &m)
	m.Status, m.Code, m.Accepted = a.status, a.code, a.accepted
	s.record(m)
	write(w, kind, a)
}

// decide runs the fault, the robot lookup, the rate limit and the kind's
// checks, in the order the robots apply them.
func (s *Server) decide(kind Kind, token string, r *http.Request, body []byte, f Fault, m *Message) answer {
	k := kinds[kind]
	if f.Status != 0 {
		m.Fault = "status"
		return answer{status: f.Status, body: []byte(http.StatusText(f.Status)), code: strconv.Itoa(f.Status)}
	}
	if r.Method != http.MethodPost {
		return answer{status: http.StatusMethodNotAllowed, body: []byte("method not allowed"), code: "405"}
	}
	rb := s.robot(kind, token)
	if rb == nil {
		return k.unknown()
	}
	if f.Code != 0 {
		m.Fault = "code"
		return k.fail(f.Code, f.Msg)
	}
	if wait := s.limited(rb); wait > 0 {
		a := k.limited()
		a.retryAfter = wait
		return a
	}
	if len(body) > maxBody {
		return k.bad()
	}
	if a, ok := k.check(s.opts.Now(), r, body, rb.Robot, m); !ok {
		return a
	}
	if k.noKeyword != nil && !hasKeyword(rb.Keywords, m.Title+"\n"+m.Text) {
		return k.noKeyword()
	}
	s.take(rb)
	return k.ok()
}

func (s *Server) faultFor(token string) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.faults[token]; ok {
		return f
	}
	return s.faults[""]
}

// robot is the robot named kind and token, nil if the server knows none
// (unless Options.Open).
func (s *Server) robot(kind Kind, token string) *robotState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rb, ok := s.robots[robotKey{kind, token}]; ok {
		return rb
	}
	if !s.opts.Open || token == "" {
		return nil
	}
	rb := &robotState{Robot: Robot{Kind: kind, Token: token}}
	s.robots[robotKey{kind, token}] = rb
	return rb
}

// defaultPerMinute are the robots' documented limits of a minute.
var defaultPerMinute = map[Kind]int{DingTalk: 20, WeCom: 20, Lark: 100, Slack: 60}

// penaltyWindows is how many windows a robot that went over its limit
// refuses everything: DingTalk documents ten minutes.
var penaltyWindows = map[Kind]int{DingTalk: 10}

// limited says how long until rb takes another message, zero when it would
// now. Only accepted messages count.
func (s *Server) limited(rb *robotState) time.Duration {
	limit := rb.PerMinute
	if limit == 0 {
		limit = defaultPerMinute[rb.Kind]
	}
	if limit <= 0 {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if now.Before(rb.blockedUntil) {
		return rb.blockedUntil.Sub(now)
	}
	keep := rb.sent[:0]
	for _, t := range rb.sent {
		if now.Sub(t) < s.opts.Window {
			keep = append(keep, t)
		}
	}
	rb.sent = keep
	if len(rb.sent) < limit {
		return 0
	}
	if n := penaltyWindows[rb.Kind]; n > 0 {
		rb.blockedUntil = now.Add(time.Duration(n) * s.opts.Window)
		return rb.blockedUntil.Sub(now)
	}
	return s.opts.Window - now.Sub(rb.sent[0])
}

func (s *Server) take(rb *robotState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rb.sent = append(rb.sent, s.opts.Now())
}

func (s *Server) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
}

func hasKeyword(keywords []string, text string) bool {
	if len(keywords) == 0 {
		return true
	}
	for _, k := range keywords {
		if k != "" && strings.Contains(text, k) {
			return true
		}
	}
	return false
}

// sleep waits d, or until ctx ends (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func write(w http.ResponseWriter, kind Kind, a answer) {
	ct := "application/json; charset=utf-8"
	if kind == Slack || !json.Valid(a.body) {
		ct = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	if a.retryAfter > 0 {
		secs := int((a.retryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// errBadMessage is a message the kind's format does not allow.
var errBadMessage = errors.New("bad message")
