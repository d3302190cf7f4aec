package ecsemu

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Server.
type Options struct {
	Fleet       Fleet
	Credentials []Credential
	// StartDelay is how long a started instance stays Starting before it is
	// Running; SettleDelay how long an instance put in Stopping or Pending
	// takes to become Stopped or Running. Zero means the defaults (5 ms and
	// 50 ms); a negative value means never (the status stays until
	// SetInstance changes it), for tests that hold an instance in transition.
	StartDelay  time.Duration
	SettleDelay time.Duration
	// UnknownIDsPerInstance makes a SuccessFirst call report an unknown ID as
	// that instance's InvalidInstanceId.NotFound while the others start. By
	// default an unknown ID refuses the whole call with
	// InvalidInstanceIds.NotFound (404), as ECS does.
	UnknownIDsPerInstance bool
	// DryRunPassCode is the error code of a dry run that passes:
	// "DryRunOperation" (the default) or "DRYRUN.SUCCESS".
	DryRunPassCode string
	// Now is the server's clock; nil means time.Now.
	Now func() time.Time
	// Roles are the roles of other accounts that STS AssumeRole (Version
	// 2015-04-01, on the same server) hands credentials of; see sts.go.
	Roles []Role
}

// Faults are injected into the calls the server answers. They may be changed
// at any time with SetFaults; the counts are consumed call by call.
type Faults struct {
	// Action limits the faults to calls of that action ("" = every call).
	Action string
	// Latency delays every matching call before it is answered.
	Latency time.Duration
	// Throttle, Unavailable and Internal answer the next that many matching
	// calls with Throttling.User (400), ServiceUnavailable (503) and
	// InternalError (500), in that order.
	Throttle    int
	Unavailable int
	Internal    int
	// Reset closes the connection of the next that many matching calls with
	// a TCP reset, without an answer.
	Reset int
	// Rate, when above zero, is how many matching calls a second the server
	// accepts (a token bucket holding Burst calls, full when the faults are
	// set); a call that finds the bucket empty is answered Throttling.User
	// (400) and takes no token. Calls are counted as they arrive, before
	// Latency, as ECS's own flow control does; the counted faults above come
	// first. Burst zero means 1.
	Rate  float64
	Burst int
	// PerMinute, when above zero, is ECS's quota of a minute: how many calls
	// of one API, region and account the server accepts in each window of
	// Minute (default one minute; tests shorten it), the windows counted
	// from when the faults were set. A call past it is answered
	// Throttling.User (400) until the next window opens; it takes nothing
	// from the quota. Checked after the counted faults and Rate.
	PerMinute int
	Minute    time.Duration
	// EndlessPages makes DescribeInstances paged by NextToken never end:
	// where the last page would have no NextToken, it names one more, empty
	// page, and so on for ever — an ECS a client must stop reading.
	EndlessPages bool
	// Rewrite, when set, replaces each matching answer after the call has
	// taken effect: it is given the action, the HTTP status and the body the
	// emulator would send, and returns the status and body to send instead.
	// Tests use it for answers ECS should not give but a client must survive:
	// entries for instances not asked, duplicated or missing entries, a
	// proxy's HTML page, secrets echoed in any field.
	Rewrite func(action string, status int, body []byte) (int, []byte)
}

// Call is the record of one request the server received.
type Call struct {
	Time              time.Time
	Method            string // GET or POST
	Action            string
	RegionID          string
	InstanceIDs       []string // InstanceId.N, or DescribeInstances' InstanceIds
	BatchOptimization string   // as sent; "" when absent
	DryRun            bool
	// Tags are DescribeInstances' Tag.N.Key=Tag.N.Value filters ("env=dev";
	// "env" alone for a key without value), in the order of N; NextToken
	// and MaxResults its paging, as sent.
	Tags       []string
	NextToken  string
	MaxResults string
	// PageNumber and PageSize are the paging of DescribeInstances (the
	// deprecated way) and DescribeInstanceStatus, as sent.
	PageNumber string
	PageSize   string
	// RoleArn, RoleSessionName, DurationSeconds, ExternalID and Policy are
	// AssumeRole's, as sent.
	RoleArn          string
	RoleSessionName  string
	DurationSeconds  string
	ExternalID       string
	Policy           string
	AccessKeyID      string
	HasSecurityToken bool
	// Fault names the injected fault that answered ("throttle",
	// "unavailable", "internal", "reset", "rate" for a call over
	// Faults.Rate, or "minute" for one over Faults.PerMinute), empty
	// otherwise.
	Fault string
	// Duration is the server's own time on the call, injected latency
	// included: from the request's arrival to the answer ready to write.
	Duration time.Duration
	// HTTPStatus and Code are the answer: 200 and "" on success.
	HTTPStatus int
	Code       string
	// Started lists the instances this call started (a StartInstances
	// answered 200 for them, not a dry run), whatever a Rewrite then sent:
	// a test counts accepted starts per instance from it.
	Started []string
}

// Stats count what the server has seen since it started.
type Stats struct {
	Requests    int64 // HTTP requests received
	Connections int64 // TCP connections accepted
}

// Server is an ECS API emulator. Create it with New, then Start or StartOn.
// It is also an http.Handler, to be mounted elsewhere.
type Server struct {
	opts Options

	mu        sync.Mutex
	instances map[string]*instanceState
	// soldOut holds the zones out of stock and until when (zero: until
	// RestoreStock); see SellOut.
	soldOut map[string]time.Time
	creds   map[string]Credential
	tokens  map[string]string // SecurityToken → AccessKeyId
	pages   map[string]int    // DescribeInstances' NextToken → the offset of its page
	nonces  map[string]time.Time
	// nonceQueue holds the nonces in the order they were used.
	nonceQueue []usedNonce
	faults     Faults
	calls      []Call
	// The token bucket of Faults.Rate: bucket calls left at bucketAt.
	bucket   float64
	bucketAt time.Time
	// Faults.PerMinute: the calls accepted in the current window, by API,
	// region and account; window is the window's number since faultsAt.
	faultsAt  time.Time
	window    int64
	perMinute map[string]int

	requests    atomic.Int64
	connections atomic.Int64

	httpServer *http.Server
	listener   net.Listener
	serveDone  chan struct{}
}

// instanceState is an instance with the transition it is in, if any.
type instanceState struct {
	Instance
	next     string    // the status it turns into, "" when none
	nextAt   time.Time // when
	failures int       // start attempts answered with StartError so far
}

// New returns a server for opts. It panics if the fleet is invalid (see
// Fleet.Validate): fleets from files are checked by LoadFleet first, and a bad
// fleet in Go code is a bug of the test.
func New(opts Options) *Server {
	if err := opts.Fleet.Validate(); err != nil {
		panic(err)
	}
	if opts.StartDelay == 0 {
		opts.StartDelay = 5 * time.Millisecond
	}
	if opts.SettleDelay == 0 {
		opts.SettleDelay = 50 * time.Millisecond
	}
	if opts.DryRunPassCode == "" {
		opts.DryRunPassCode = "DryRunOperation"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Roles = append(append([]Role(nil), opts.Roles...), opts.Fleet.Roles...)
	s := &Server{
		opts:      opts,
		instances: make(map[string]*instanceState),
		soldOut:   make(map[string]time.Time),
		creds:     make(map[string]Credential),
		tokens:    make(map[string]string),
		pages:     make(map[string]int),
		nonces:    make(map[string]time.Time),
	}
	for _, c := range opts.Credentials {
		s.AddCredential(c)
	}
	now := opts.Now()
	for _, in := range opts.Fleet.Instances {
		s.putLocked(in, now)
	}
	return s
}

// Start serves on 127.0.0.1 at a free port. It panics if it cannot listen,
// as httptest does.
func (s *Server) Start() {
	if err := s.StartOn("127.0.0.1:0"); err != nil {
		panic(err)
	}
}

// StartOn serves on addr (host:port), for a local runner that needs a known
// port. Listen on loopback unless you mean to expose the emulator.
func (s *Server) StartOn(addr string) error {
	// No caller's context to honour: the listener lives until Close.
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", addr)
	if err != nil {
		return fmt.Errorf("ecsemu: listen: %w", err)
	}
	s.listener = ln
	s.httpServer = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(_ net.Conn, state http.ConnState) {
			if state == http.StateNew {
				s.connections.Add(1)
			}
		},
	}
	s.serveDone = make(chan struct{})
	go func() {
		defer close(s.serveDone)
		_ = s.httpServer.Serve(ln)
	}()
	return nil
}

// URL is the server's base URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string {
	if s.listener == nil {
		return ""
	}
	return "http://" + s.listener.Addr().String()
}

// Close stops the server and closes every connection.
func (s *Server) Close() {
	if s.httpServer == nil {
		return
	}
	_ = s.httpServer.Close()
	<-s.serveDone
}

// AddCredential registers (or replaces) an AccessKey.
func (s *Server) AddCredential(c Credential) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.creds[c.AccessKeyID]; ok && old.SecurityToken != "" {
		delete(s.tokens, old.SecurityToken)
	}
	s.creds[c.AccessKeyID] = c
	if c.SecurityToken != "" {
		s.tokens[c.SecurityToken] = c.AccessKeyID
	}
}

// SellOut puts zoneID out of stock until until (zero: until RestoreStock),
// as ECS's capacity runs out: starting an instance of the zone that was
// stopped in economical mode (StoppedMode StopCharging, its resources
// released) answers OperationDenied.NoStock (HTTP 403; an AllTogether call
// is refused as a whole) until then. Instances stopped in normal mode keep
// their resources and start.
func (s *Server) SellOut(zoneID string, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.soldOut[zoneID] = until
}

// RestoreStock ends SellOut of zoneID: its instances start again.
func (s *Server) RestoreStock(zoneID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.soldOut, zoneID)
}

// SetFaults replaces the injected faults.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.bucket, s.bucketAt = float64(max(1, f.Burst)), time.Now()
	s.faultsAt, s.window, s.perMinute = time.Now(), 0, map[string]int{}
}

// Faults returns the faults still to be injected.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Instance returns the instance with id as it is now, and whether it exists.
func (s *Server) Instance(id string) (Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.instances[id]
	if !ok {
		return Instance{}, false
	}
	st.advance(s.opts.Now())
	return st.clone(), true
}

// Instances returns every instance as it is now, in no particular order.
func (s *Server) Instances() []Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	out := make([]Instance, 0, len(s.instances))
	for _, st := range s.instances {
		st.advance(now)
		out = append(out, st.clone())
	}
	return out
}

// SetInstance adds or replaces an instance. An instance put in Stopping or
// Pending settles after Options.SettleDelay.
func (s *Server) SetInstance(in Instance) error {
	if err := in.validate(); err != nil {
		return fmt.Errorf("ecsemu: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putLocked(in, s.opts.Now())
	return nil
}

func (s *Server) putLocked(in Instance, now time.Time) {
	st := &instanceState{Instance: in.clone()}
	switch in.Status {
	case Stopping:
		st.schedule(Stopped, now, s.opts.SettleDelay)
	case Pending:
		st.schedule(Running, now, s.opts.SettleDelay)
	case Starting:
		st.schedule(Running, now, s.opts.StartDelay)
	}
	s.instances[in.InstanceID] = st
}

func (st *instanceState) schedule(next string, now time.Time, after time.Duration) {
	if after < 0 {
		st.next = ""
		return
	}
	st.next, st.nextAt = next, now.Add(after)
}

// advance applies a transition that is due.
func (st *instanceState) advance(now time.Time) {
	if st.next != "" && !now.Before(st.nextAt) {
		st.Status, st.next = st.next, ""
		if st.Status == Stopped && st.StoppedMode == "Not-applicable" {
			st.StoppedMode = ""
		}
	}
}

// Calls returns a copy of the calls recorded since the start or the last
// ResetCalls.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		c.InstanceIDs = append([]string(nil), c.InstanceIDs...)
		c.Started = append([]string(nil), c.Started...)
		c.Tags = append([]string(nil), c.Tags...)
		out[i] = c
	}
	return out
}

// ResetCalls forgets the recorded calls.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// Stats returns the request and connection counters.
func (s *Server) Stats() Stats {
	return Stats{Requests: s.requests.Load(), Connections: s.connections.Load()}
}

// takeFault consumes the fault, if any, that answers call.
func (s *Server) takeFault(call Call) (latency time.Duration, fault string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &s.faults
	if f.Action != "" && f.Action != call.Action {
		return 0, ""
	}
	defer func() {
		if fault == "" && f.PerMinute > 0 && !s.withinMinuteQuota(call) {
			fault = "minute"
		}
	}()
	switch {
	case f.Reset > 0:
		f.Reset--
		fault = "reset"
	case f.Throttle > 0:
		f.Throttle--
		fault = "throttle"
	case f.Unavailable > 0:
		f.Unavailable--
		fault = "unavailable"
	case f.Internal > 0:
		f.Internal--
		fault = "internal"
	case f.Rate > 0:
		// Real time, not Options.Now: the rate is of calls the server is
		// actually sent.
		now := time.Now()
		s.bucket = min(float64(max(1, f.Burst)), s.bucket+now.Sub(s.bucketAt).Seconds()*f.Rate)
		s.bucketAt = now
		if s.bucket >= 1 {
			s.bucket--
		} else {
			fault = "rate"
		}
	}
	return f.Latency, fault
}

// withinMinuteQuota counts call against Faults.PerMinute (s.mu held): false
// when its API, region and account have used the current window's quota.
func (s *Server) withinMinuteQuota(call Call) bool {
	minute := s.faults.Minute
	if minute <= 0 {
		minute = time.Minute
	}
	// Real time, not Options.Now, as for Rate.
	if w := int64(time.Since(s.faultsAt) / minute); w != s.window {
		s.window, s.perMinute = w, map[string]int{}
	}
	key := call.Action + "|" + call.RegionID + "|" + s.creds[call.AccessKeyID].AccountID
	if s.perMinute[key] >= s.faults.PerMinute {
		return false
	}
	s.perMinute[key]++
	return true
}

var faultCodes = map[string]string{
	"minute":      "Throttling.User",
	"throttle":    "Throttling.User",
	"rate":        "Throttling.User",
	"unavailable": "ServiceUnavailable",
	"internal":    "InternalError",
}

// ServeHTTP answers one ECS API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	arrived := time.Now()
	now := s.opts.Now()
	call := Call{Time: now, Method: r.Method}
	requestID := newRequestID()

	var answer any
	var apiErr *apiError
	xmlFormat := false
	defer func() {
		if call.Fault == "reset" {
			call.Duration = time.Since(arrived)
			s.record(call)
			return
		}
		if apiErr != nil {
			call.HTTPStatus, call.Code = apiErr.status, apiErr.code
			answer = errorBody{RequestID: requestID, HostID: r.Host, Code: apiErr.code, Message: apiErr.message}
		} else {
			call.HTTPStatus = http.StatusOK
		}
		// Recorded before the answer goes, so that a caller holding the
		// answer finds the call in Calls.
		call.Duration = time.Since(arrived)
		s.record(call)
		writeAnswer(w, call.HTTPStatus, requestID, answer, xmlFormat, s.rewriter(call.Action))
	}()
	answer, apiErr, xmlFormat = s.serve(w, r, &call, requestID, now)
}

// serve is ServeHTTP's work: it reads the request into call and returns
// the answer or the error, and whether they go as XML. Nil and nil is no
// answer at all: the connection was reset, or the caller left during an
// injected latency.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, call *Call, requestID string, now time.Time) (answer any, apiErr *apiError, xmlFormat bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil, ecsError("UnsupportedHTTPMethod", "This http method is not supported."), false
	}
	if err := r.ParseForm(); err != nil {
		return nil, invalidParameter("body"), false
	}
	p := r.Form
	readCall(call, p)
	switch strings.ToUpper(p.Get("Format")) {
	case "", "JSON":
	case "XML":
		xmlFormat = true
	default:
		return nil, invalidParameter("Format"), false
	}
	if apiErr, done := s.injectFault(w, r, call); done {
		return nil, apiErr, xmlFormat
	}
	if call.Action == "" {
		return nil, missingParameter("Action"), xmlFormat
	}
	if p.Get("Version") == "" {
		return nil, missingParameter("Version"), xmlFormat
	}
	if call.Action == "AssumeRole" && p.Get("Version") == stsVersion {
		call.RoleArn, call.RoleSessionName, call.DurationSeconds = p.Get("RoleArn"), p.Get("RoleSessionName"), p.Get("DurationSeconds")
		call.ExternalID, call.Policy = p.Get("ExternalId"), p.Get("Policy")
		if apiErr = s.authenticate(r.Method, p, now); apiErr != nil {
			return nil, apiErr, xmlFormat
		}
		answer, apiErr = s.assumeRole(p, requestID, now)
		return answer, apiErr, xmlFormat
	}
	if p.Get("Version") != apiVersion {
		return nil, ecsError("InvalidVersion", ""), xmlFormat
	}
	switch call.Action {
	case "StartInstances", "DescribeInstances", "DescribeInstanceStatus":
	default:
		return nil, ecsError("InvalidAction.NotFound", ""), xmlFormat
	}
	if apiErr = s.authenticate(r.Method, p, now); apiErr != nil {
		return nil, apiErr, xmlFormat
	}
	answer, apiErr = s.ecsAction(p, call, requestID, now)
	return answer, apiErr, xmlFormat
}

// readCall records in call what the request p asks.
func readCall(call *Call, p url.Values) {
	call.Action = p.Get("Action")
	call.RegionID = p.Get("RegionId")
	call.AccessKeyID = p.Get("AccessKeyId")
	call.HasSecurityToken = p.Get("SecurityToken") != ""
	call.BatchOptimization = p.Get("BatchOptimization")
	call.DryRun = strings.EqualFold(p.Get("DryRun"), "true")
	switch call.Action {
	case "StartInstances":
		call.InstanceIDs = repeated(p, "InstanceId")
	case "DescribeInstanceStatus":
		call.InstanceIDs = repeated(p, "InstanceId")
		call.PageNumber, call.PageSize = p.Get("PageNumber"), p.Get("PageSize")
	case "DescribeInstances":
		call.PageNumber, call.PageSize = p.Get("PageNumber"), p.Get("PageSize")
		_ = json.Unmarshal([]byte(p.Get("InstanceIds")), &call.InstanceIDs)
		call.NextToken, call.MaxResults = p.Get("NextToken"), p.Get("MaxResults")
		for n := 1; n <= maxTagFilters; n++ {
			k := p.Get("Tag." + strconv.Itoa(n) + ".Key")
			if k == "" {
				continue
			}
			if v, ok := p["Tag."+strconv.Itoa(n)+".Value"]; ok {
				k += "=" + v[0]
			}
			call.Tags = append(call.Tags, k)
		}
	}
}

// injectFault applies the fault the options hold for call, if any: its
// latency first, then a reset connection or an error. done says that the
// request is answered so (apiErr, or no answer at all).
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request, call *Call) (apiErr *apiError, done bool) {
	latency, fault := s.takeFault(*call)
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return nil, true
		}
	}
	switch fault {
	case "reset":
		call.Fault = fault
		resetConnection(w)
		return nil, true
	case "":
		return nil, false
	default:
		call.Fault = fault
		return ecsError(faultCodes[fault], ""), true
	}
}

// ecsAction answers an authenticated ECS call, about the instances of the
// caller's account only.
func (s *Server) ecsAction(p url.Values, call *Call, requestID string, now time.Time) (answer any, apiErr *apiError) {
	s.mu.Lock()
	account := s.creds[p.Get("AccessKeyId")].AccountID
	s.mu.Unlock()
	switch call.Action {
	case "StartInstances":
		answer, apiErr = s.startInstances(p, requestID, now, account)
		if resp, ok := answer.(startInstancesResponse); ok && apiErr == nil {
			for _, r := range resp.InstanceResponses.InstanceResponse {
				if r.Code == "200" {
					call.Started = append(call.Started, r.InstanceID)
				}
			}
		}
	case "DescribeInstances":
		answer, apiErr = s.describeInstances(p, requestID, now, account)
	case "DescribeInstanceStatus":
		answer, apiErr = s.describeInstanceStatus(p, requestID, now, account)
	}
	return answer, apiErr
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

// resetConnection drops the connection with a TCP RST, the way a load
// balancer's idle reaper or a crashed peer does.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("ecsemu: connection cannot be hijacked")
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

type errorBody struct {
	XMLName   xml.Name `json:"-" xml:"Error"`
	RequestID string   `json:"RequestId" xml:"RequestId"`
	HostID    string   `json:"HostId" xml:"HostId"`
	Code      string   `json:"Code" xml:"Code"`
	Message   string   `json:"Message" xml:"Message"`
}

// rewriter is the Rewrite fault for a call of action, or nil.
func (s *Server) rewriter(action string) func(int, []byte) (int, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.Rewrite == nil || (s.faults.Action != "" && s.faults.Action != action) {
		return nil
	}
	rw := s.faults.Rewrite
	return func(status int, body []byte) (int, []byte) { return rw(action, status, body) }
}

func writeAnswer(w http.ResponseWriter, status int, requestID string, body any, asXML bool, rewrite func(int, []byte) (int, []byte)) {
	var data []byte
	var err error
	if asXML {
		w.Header().Set("Content-Type", "text/xml;charset=utf-8")
		data, err = xml.Marshal(body)
		data = append([]byte(xml.Header), data...)
	} else {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		data, err = json.Marshal(body)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if rewrite != nil {
		status, data = rewrite(status, data)
	}
	w.Header().Set("x-acs-request-id", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(data) //nolint:gosec // G705: an API emulator's JSON or XML answer (AssumeRole echoes the role), read by SDKs, never rendered as HTML
}

// newRequestID makes an ID in ECS's format (UUID-like, upper case).
func newRequestID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(errors.New("ecsemu: no randomness"))
	}
	h := strings.ToUpper(hex.EncodeToString(b[:]))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
