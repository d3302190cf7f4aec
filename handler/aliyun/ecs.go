// Package aliyun implements the ECS and STS interfaces of ecsapi with the v1
// SDK (github.com/aliyun/alibaba-cloud-sdk-go), and removes every secret
// from what they return. It is the only package of the function that imports
// the SDK, which is past its vendor's end of support: a move to
// alibabacloud-go/ecs-20140526 replaces this package alone. The endpoints
// (ECS_ENDPOINT, STS_ENDPOINT) are parsed here.
package aliyun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
)

// Options configure an ECS.
type Options struct {
	// Endpoint is ECS_ENDPOINT: a URL with scheme http or https and a host,
	// where "{regionId}" in the host is replaced by each call's region
	// ("https://ecs-vpc.{regionId}.aliyuncs.com", "http://127.0.0.1:8080").
	// Empty means the documented regional public endpoint,
	// https://ecs.{regionId}.aliyuncs.com, for every region (DESIGN §6): not
	// the SDK's endpoint map, which sends cn-hangzhou to a legacy host and
	// some regions (cn-shanghai-finance-1) to Hangzhou's.
	Endpoint string
	// ConnectTimeout bounds a TCP connect (default 5 s); ReadTimeout a whole
	// call once sent (default 10 s). The invocation's context bounds both.
	ConnectTimeout time.Duration
	ReadTimeout    time.Duration
	// Transport is the connection pool every call shares; nil means a new
	// *http.Transport tuned for ECS. Tests pass one that records requests.
	Transport http.RoundTripper
}

// ECS implements ecsapi.ECS with the v1 SDK. It is safe for concurrent use.
//
// The SDK's Client is not (DESIGN §8: each call writes the client's
// http.Client and its transport's dialer), so every call builds a fresh,
// cheap Client. What must outlive a call — the connections — lives in one
// shared pool, reached through a per-call RoundTripper that is not an
// *http.Transport: the SDK rewrites the dialer and TLS settings only of an
// *http.Transport it is given, so it leaves the shared pool alone. The same
// wrapper binds each request to the caller's context, which the SDK does not
// take, so a call in flight is abandoned at the invocation's deadline.
//
// The SDK's AutoRetry is off (it has no backoff, never retries throttling and
// leaks 5xx bodies): retrying is the starter's job. The SDK prints signed
// URLs only when the DEBUG environment variable names "sdk"; never set it in
// production.
type ECS struct {
	scheme         string // "http" or "https"
	hostTemplate   string // host[:port] with an optional {regionId}
	connectTimeout time.Duration
	readTimeout    time.Duration
	pool           http.RoundTripper
}

var _ ecsapi.ECS = (*ECS)(nil)

// hostSafeRegion says whether region may go into a host name
// (^[a-z0-9]+(-[a-z0-9]+)*$): nothing that could change which host is
// called. No regexp: it would be compiled at start-up.
func hostSafeRegion(region string) bool {
	if region == "" || region[0] == '-' || region[len(region)-1] == '-' {
		return false
	}
	for i := 0; i < len(region); i++ {
		switch c := region[i]; {
		case c == '-':
			if region[i-1] == '-' {
				return false
			}
		case (c < 'a' || c > 'z') && (c < '0' || c > '9'):
			return false
		}
	}
	return true
}

const regionPlaceholder = "{regionId}"

// publicHostTemplate is ECS's documented public endpoint (DESIGN §6).
const publicHostTemplate = "ecs." + regionPlaceholder + ".aliyuncs.com"

// endpointMapOnce fills the SDK's endpoint map once (see client).
var endpointMapOnce sync.Once

// NewECS checks the options and returns the ECS client.
func NewECS(o Options) (*ECS, error) {
	e := &ECS{scheme: "https", hostTemplate: publicHostTemplate, connectTimeout: o.ConnectTimeout, readTimeout: o.ReadTimeout, pool: o.Transport}
	if e.connectTimeout <= 0 {
		e.connectTimeout = 5 * time.Second
	}
	if e.readTimeout <= 0 {
		e.readTimeout = 10 * time.Second
	}
	if o.Endpoint != "" {
		scheme, host, err := ParseEndpoint(ECSEndpointVar, o.Endpoint)
		if err != nil {
			return nil, err
		}
		e.scheme, e.hostTemplate = scheme, host
	}
	if e.pool == nil {
		e.pool = NewTransport(e.connectTimeout)
	}
	return e, nil
}

// Endpoint variables (DESIGN §6), the names ParseEndpoint's errors give.
const (
	ECSEndpointVar = "ECS_ENDPOINT"
	STSEndpointVar = "STS_ENDPOINT"
)

// EndpointError is an endpoint variable's value that is no endpoint.
type EndpointError struct {
	Var      string // ECSEndpointVar or STSEndpointVar
	Endpoint string
	Why      string
}

func (e *EndpointError) Error() string { return fmt.Sprintf("%s %q: %s", e.Var, e.Endpoint, e.Why) }

// ParseEndpoint splits an endpoint, the value of the variable name
// (ECS_ENDPOINT, STS_ENDPOINT), into scheme and host: the one check of
// both, which configuration, NewECS and NewSTS all call. The SDK builds
// URLs as scheme://host/?query, so a path, query or user is refused rather
// than silently dropped; {regionId} may appear only in the host.
func ParseEndpoint(name, endpoint string) (scheme, host string, err error) {
	bad := func(why string) error {
		return &EndpointError{Var: name, Endpoint: endpoint, Why: why}
	}
	// url.Parse refuses braces in a host; check a stand-in for the region.
	probe := strings.ReplaceAll(endpoint, regionPlaceholder, "region-placeholder")
	u, err := url.Parse(probe)
	if err != nil {
		return "", "", bad("not a URL")
	}
	switch u.Scheme {
	case "http", "https":
	default:
		return "", "", bad("the scheme must be http or https")
	}
	switch {
	case u.Host == "" || u.Hostname() == "":
		return "", "", bad("no host")
	case u.User != nil:
		return "", "", bad("user information is not allowed")
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "", u.Opaque != "":
		return "", "", bad("only scheme://host[:port] is allowed, without path or query")
	}
	host = strings.ReplaceAll(u.Host, "region-placeholder", regionPlaceholder)
	if strings.Count(endpoint, regionPlaceholder) != strings.Count(host, regionPlaceholder) {
		return "", "", bad(regionPlaceholder + " may appear only in the host")
	}
	return u.Scheme, host, nil
}

// NewTransport is the process-wide connection pool: kept-alive
// connections let a warm invocation skip the TCP and TLS handshakes.
func NewTransport(connectTimeout time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = connectTimeout
	t.MaxIdleConns = 100
	// The starter runs a bounded number of calls at once per region; keep
	// that many connections warm to one host.
	t.MaxIdleConnsPerHost = 32
	t.IdleConnTimeout = 90 * time.Second
	return t
}

// StartInstances calls ECS StartInstances.
func (e *ECS) StartInstances(ctx context.Context, creds ecsapi.Credentials, in ecsapi.StartInstancesInput) (*ecsapi.StartInstancesOutput, error) {
	const op = "StartInstances"
	sc := scrubberFor(creds)
	client, rt, err := e.client(ctx, creds, in.RegionID, sc)
	if err != nil {
		return nil, &ecsapi.PermanentError{Op: op, Host: e.hostFor(in.RegionID), Code: clientErrorCode(err), Err: err}
	}
	req := ecs.CreateStartInstancesRequest()
	e.prepare(req.RpcRequest, in.RegionID)
	ids := append([]string(nil), in.InstanceIDs...)
	req.InstanceId = &ids
	req.BatchOptimization = in.BatchOptimization
	if in.DryRun {
		req.DryRun = requests.NewBoolean(true)
	}
	var resp *ecs.StartInstancesResponse
	err = rt.do(func() (err error) { resp, err = client.StartInstances(req); return err })
	if err != nil {
		return nil, e.mapError(ctx, op, rt, e.hostFor(in.RegionID), sc, err)
	}
	// Every field that came from ECS goes through the scrubber (DESIGN §7).
	out := &ecsapi.StartInstancesOutput{RequestID: sc.scrub(resp.RequestId)}
	for _, r := range resp.InstanceResponses.InstanceResponse {
		out.Responses = append(out.Responses, ecsapi.InstanceResponse{
			InstanceID:     sc.scrub(r.InstanceId),
			Code:           sc.scrub(r.Code),
			Message:        sc.scrub(r.Message),
			PreviousStatus: sc.scrub(r.PreviousStatus),
			CurrentStatus:  sc.scrub(r.CurrentStatus),
		})
	}
	return out, nil
}

// DescribeInstances looks up ids in region with DescribeInstances (InstanceIds
// as a JSON array, 100 per call). No IDs, no call.
func (e *ECS) DescribeInstances(ctx context.Context, creds ecsapi.Credentials, region string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
	const op = "DescribeInstances"
	sc := scrubberFor(creds)
	out := &ecsapi.DescribeInstancesOutput{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), ecsapi.DescribePageSize)]
		ids = ids[len(chunk):]
		client, rt, err := e.client(ctx, creds, region, sc)
		if err != nil {
			return nil, &ecsapi.PermanentError{Op: op, Host: e.hostFor(region), Code: clientErrorCode(err), Err: err}
		}
		req := ecs.CreateDescribeInstancesRequest()
		e.prepare(req.RpcRequest, region)
		raw, err := json.Marshal(chunk)
		if err != nil {
			return nil, &ecsapi.PermanentError{Op: op, Host: e.hostFor(region), Code: result.CodeInvalidParameter, Err: err}
		}
		req.InstanceIds = string(raw)
		// MaxResults, not the deprecated PageSize/PageNumber (DESIGN §7):
		// 100 IDs fit one page.
		req.MaxResults = requests.NewInteger(ecsapi.DescribePageSize)
		var resp *ecs.DescribeInstancesResponse
		err = rt.do(func() (err error) { resp, err = client.DescribeInstances(req); return err })
		if err != nil {
			return nil, e.mapError(ctx, op, rt, e.hostFor(region), sc, err)
		}
		out.RequestID = sc.scrub(resp.RequestId)
		out.Instances = append(out.Instances, instanceInfos(resp, sc)...)
	}
	return out, nil
}

// statusPageSize is DescribeInstanceStatus' largest page.
const statusPageSize = 50

// DescribeInstanceStatus reads the status of ids with DescribeInstanceStatus
// (InstanceId.N, 100 per call, pages of 50 through PageNumber): the call
// ECS's StartInstances reference names for polling, with a quota of its own.
// No IDs, no call.
func (e *ECS) DescribeInstanceStatus(ctx context.Context, creds ecsapi.Credentials, region string, ids []string) (*ecsapi.DescribeInstancesOutput, error) {
	const op = "DescribeInstanceStatus"
	sc := scrubberFor(creds)
	out := &ecsapi.DescribeInstancesOutput{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), ecsapi.DescribePageSize)]
		ids = ids[len(chunk):]
		// A chunk of 100 is two pages; an answer whose TotalCount would ask
		// for more is not followed further.
		pages := (len(chunk) + statusPageSize - 1) / statusPageSize
		for page := 1; page <= pages; page++ {
			client, rt, err := e.client(ctx, creds, region, sc)
			if err != nil {
				return nil, &ecsapi.PermanentError{Op: op, Host: e.hostFor(region), Code: clientErrorCode(err), Err: err}
			}
			req := ecs.CreateDescribeInstanceStatusRequest()
			e.prepare(req.RpcRequest, region)
			list := append([]string(nil), chunk...)
			req.InstanceId = &list
			req.PageSize = requests.NewInteger(statusPageSize)
			req.PageNumber = requests.NewInteger(page)
			var resp *ecs.DescribeInstanceStatusResponse
			err = rt.do(func() (err error) { resp, err = client.DescribeInstanceStatus(req); return err })
			if err != nil {
				return nil, e.mapError(ctx, op, rt, e.hostFor(region), sc, err)
			}
			out.RequestID = sc.scrub(resp.RequestId)
			for _, st := range resp.InstanceStatuses.InstanceStatus {
				out.Instances = append(out.Instances, ecsapi.InstanceInfo{InstanceID: sc.scrub(st.InstanceId), Status: sc.scrub(st.Status)})
			}
			if page*statusPageSize >= resp.TotalCount {
				break
			}
		}
	}
	return out, nil
}

// DescribeInstancesByTags reads one page of a tag selection: DescribeInstances
// with Tag.N.Key/Tag.N.Value, MaxResults 100 and NextToken. A pair without a
// value sends no Tag.N.Value, which ECS takes as any value; the caller checks
// the tags of what comes back, so an answer is never trusted to have filtered.
func (e *ECS) DescribeInstancesByTags(ctx context.Context, creds ecsapi.Credentials, in ecsapi.DescribeByTagsInput) (*ecsapi.DescribeInstancesOutput, error) {
	const op = "DescribeInstances"
	sc := scrubberFor(creds)
	client, rt, err := e.client(ctx, creds, in.RegionID, sc)
	if err != nil {
		return nil, &ecsapi.PermanentError{Op: op, Host: e.hostFor(in.RegionID), Code: clientErrorCode(err), Err: err}
	}
	req := ecs.CreateDescribeInstancesRequest()
	e.prepare(req.RpcRequest, in.RegionID)
	tags := make([]ecs.DescribeInstancesTag, len(in.Tags))
	for i, t := range in.Tags {
		tags[i] = ecs.DescribeInstancesTag{Key: t.Key}
		if !t.AnyValue {
			tags[i].Value = t.Value
		}
	}
	req.Tag = &tags
	req.MaxResults = requests.NewInteger(ecsapi.DescribePageSize)
	req.NextToken = in.NextToken
	var resp *ecs.DescribeInstancesResponse
	err = rt.do(func() (err error) { resp, err = client.DescribeInstances(req); return err })
	if err != nil {
		return nil, e.mapError(ctx, op, rt, e.hostFor(in.RegionID), sc, err)
	}
	return &ecsapi.DescribeInstancesOutput{RequestID: sc.scrub(resp.RequestId), NextToken: sc.scrub(resp.NextToken),
		Instances: instanceInfos(resp, sc)}, nil
}

// instanceInfos reads the instances of a DescribeInstances answer, every
// field through the scrubber (DESIGN §7).
func instanceInfos(resp *ecs.DescribeInstancesResponse, sc *scrubber) []ecsapi.InstanceInfo {
	var out []ecsapi.InstanceInfo
	for _, in := range resp.Instances.Instance {
		info := ecsapi.InstanceInfo{InstanceID: sc.scrub(in.InstanceId), RegionID: sc.scrub(in.RegionId),
			Status: sc.scrub(in.Status), StoppedMode: sc.scrub(in.StoppedMode)}
		for _, l := range in.OperationLocks.LockReason {
			info.LockReasons = append(info.LockReasons, sc.scrub(l.LockReason))
		}
		for _, t := range in.Tags.Tag {
			key, value := t.TagKey, t.TagValue
			if key == "" {
				key, value = t.Key, t.Value
			}
			if key == "" {
				continue
			}
			if info.Tags == nil {
				info.Tags = make(map[string]string)
			}
			info.Tags[sc.scrub(key)] = sc.scrub(value)
		}
		out = append(out, info)
	}
	return out
}

// client builds the SDK client of one call. It is cheap: no connection is
// opened here, and the pool is shared.
func (e *ECS) client(ctx context.Context, creds ecsapi.Credentials, region string, sc *scrubber) (*ecs.Client, *callTransport, error) {
	if !hostSafeRegion(region) {
		return nil, nil, &malformedRegionError{region: region}
	}
	// ecs.NewClientWithOptions reads ecs.GetEndpointMap, which fills a
	// package variable on first use without a lock: concurrent first calls
	// race (seen with the race detector). Filling it once here, under a
	// sync.Once, leaves only reads for later and keeps it off the cold start.
	endpointMapOnce.Do(func() { ecs.GetEndpointMap() })
	cfg, provider, rt := sdkSetup(ctx, e.pool, e.scheme, creds)
	// No region for the client: every request names its own RegionId and
	// host (prepare), so the client's is never read, and given one the SDK
	// compiles a regexp to check it on every client, about a tenth of a
	// warm invocation's CPU; hostSafeRegion checked it above.
	client, err := ecs.NewClientWithOptions("", cfg, provider)
	if err != nil {
		return nil, nil, errors.New(sc.scrub(err.Error()))
	}
	client.SetReadTimeout(e.readTimeout)
	client.SetConnectTimeout(e.connectTimeout)
	return client, rt, nil
}

// sdkSetup is what every SDK client of one call is made with, ECS's and
// STS's: no retries of the SDK's own (the starter retries), the call's
// transport over the shared pool, the scheme said explicitly (the SDK's
// default is HTTP), and the caller's credentials, with their token if any.
func sdkSetup(ctx context.Context, pool http.RoundTripper, scheme string, creds ecsapi.Credentials) (*sdk.Config, credentials.CredentialsProvider, *callTransport) {
	rt := &callTransport{ctx: ctx, pool: pool}
	cfg := sdk.NewConfig()
	cfg.AutoRetry = false
	cfg.MaxRetryTime = 0
	cfg.Transport = rt
	cfg.Scheme = strings.ToUpper(scheme)
	if creds.SecurityToken != "" {
		return cfg, credentials.NewStaticSTSCredentialsProvider(creds.AccessKeyID, creds.AccessKeySecret, creds.SecurityToken), rt
	}
	return cfg, credentials.NewStaticAKCredentialsProvider(creds.AccessKeyID, creds.AccessKeySecret), rt
}

// malformedRegionError is a region ID that cannot be part of a host name.
type malformedRegionError struct{ region string }

func (e *malformedRegionError) Error() string { return fmt.Sprintf("malformed region ID %q", e.region) }

// clientErrorCode is the code of a failure to build the SDK client: a
// malformed region is InvalidRegionId; anything else (the SDK refusing the
// credentials or the configuration) is a client error. Neither is retried.
func clientErrorCode(err error) string {
	var mr *malformedRegionError
	if errors.As(err, &mr) {
		return result.CodeInvalidRegionID
	}
	return result.CodeClientError
}

func (e *ECS) prepare(req *requests.RpcRequest, region string) {
	req.RegionId = region
	req.Scheme = strings.ToUpper(e.scheme)
	// Always a host of our own: the SDK's endpoint map is not the documented
	// one (DESIGN §6).
	req.Domain = e.hostFor(region)
}

// hostFor names the host a call to region goes to.
func (e *ECS) hostFor(region string) string {
	return strings.ReplaceAll(e.hostTemplate, regionPlaceholder, region)
}

// callTransport is the RoundTripper of one call: it sends through the shared
// pool, bound to the caller's context, and notes the host it reached.
type callTransport struct {
	ctx  context.Context
	pool http.RoundTripper
	// host, status and size are written by RoundTrip and the body it
	// returns, and read after the SDK call returns; the SDK calls RoundTrip
	// and reads the body on the caller's goroutine (no AutoRetry, no async).
	host   string
	status int   // HTTP status of the answer, 0 when none came
	size   int64 // bytes of the answer's body read
}

// do runs one SDK call. The SDK type-asserts fields of an error body
// (a non-string Code panics): such an answer is one that does not parse.
// The call runs on a worker goroutine (shallow), the recover with it.
func (t *callTransport) do(call func() error) (err error) {
	shallow(func() {
		defer func() {
			if p := recover(); p != nil {
				err = errUnparsable
			}
		}()
		err = call()
	})
	return err
}

// shallow runs f on a worker goroutine whose stack holds little but f, and
// waits for it. The SDK signs every request with a nonce made from
// runtime.Stack of the calling goroutine, which formats every frame of it:
// from the handler's depth that was a tenth of a warm invocation's CPU.
// Up to maxKeptWorkers workers are kept for the next call; a
// worker beyond them (more calls in flight at once, over many regions)
// ends with its job.
func shallow(f func()) {
	done := make(chan struct{})
	job := func() {
		defer close(done)
		f()
	}
	select {
	case idleWorkers <- job:
	default:
		go sdkWorker(job)
	}
	<-done
}

// idleWorkers hands a job to a worker that waits for one.
var idleWorkers = make(chan func())

// keptWorkers counts the workers that wait for another job once theirs is
// done; maxKeptWorkers bounds them (4 regions' worth of calls in flight).
var keptWorkers atomic.Int32

const maxKeptWorkers = 32

func sdkWorker(job func()) {
	if keptWorkers.Add(1) > maxKeptWorkers {
		keptWorkers.Add(-1)
		job()
		return
	}
	for {
		job()
		job = <-idleWorkers
	}
}

// errUnparsable marks an answer the SDK could not read.
var errUnparsable = errors.New("the answer does not parse")

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.host = req.URL.Host
	// Keep the http.Client's own timeout (in req's context) and add the
	// caller's: whichever ends first cancels the request.
	ctx, cancel := context.WithCancelCause(req.Context())
	stop := context.AfterFunc(t.ctx, func() { cancel(context.Cause(t.ctx)) })
	release := func() { stop(); cancel(nil) }
	resp, err := t.pool.RoundTrip(req.WithContext(ctx))
	if err != nil {
		release()
		return nil, err
	}
	// The context must live until the SDK has read the body.
	t.status = resp.StatusCode
	resp.Body = &releaseOnClose{ReadCloser: resp.Body, release: release, size: &t.size}
	return resp, nil
}

func (t *callTransport) hostOr(fallback string) string {
	if t != nil && t.host != "" {
		return t.host
	}
	return fallback
}

type releaseOnClose struct {
	io.ReadCloser
	release func()
	size    *int64
}

func (b *releaseOnClose) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	*b.size += int64(n)
	return n, err
}

func (b *releaseOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// mapError turns what the SDK returned into *APIError (ECS answered),
// *PermanentError (the region's host does not exist) or *NetworkError (no
// usable answer), with every secret removed. A body that is not an ECS answer
// is described by its status and size, never quoted (DESIGN §7).
func (e *ECS) mapError(ctx context.Context, op string, rt *callTransport, fallbackHost string, sc *scrubber, err error) error {
	return mapError(ctx, op, rt, fallbackHost, sc, err, callTimeoutError{connect: e.connectTimeout, read: e.readTimeout})
}

// mapError is ECS's and STS's mapping of what the SDK returned; timeouts
// are the caller's own, named when the call got no answer within them.
func mapError(ctx context.Context, op string, rt *callTransport, fallbackHost string, sc *scrubber, err error, timeouts callTimeoutError) error {
	host := rt.hostOr(fallbackHost)
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		if se.ErrorCode() == "" {
			// Not an ECS error body (a proxy's page, a truncated answer):
			// the SDK put the whole body in Message, which is not kept.
			code := fmt.Sprintf("HTTP%d", se.HttpStatus())
			if se.HttpStatus() >= http.StatusInternalServerError {
				code = "UnknownError"
			}
			return &ecsapi.APIError{HTTPStatus: se.HttpStatus(), Code: code, RequestID: sc.scrub(se.RequestId()),
				Message: fmt.Sprintf("the answer was not an ECS error (HTTP %d, %d bytes)", se.HttpStatus(), rt.size)}
		}
		return &ecsapi.APIError{
			HTTPStatus: se.HttpStatus(),
			Code:       sc.scrub(se.ErrorCode()),
			Message:    sc.scrub(se.Message()),
			RequestID:  sc.scrub(se.RequestId()),
		}
	}
	// The caller's deadline or cancellation says more than the transport's
	// "context canceled", and lets errors.Is find it.
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &ecsapi.NetworkError{Op: op, Host: host, Err: ctxErr}
	}
	var ce *sdkerrors.ClientError
	if errors.Is(err, errUnparsable) || (errors.As(err, &ce) && ce.ErrorCode() == sdkerrors.JsonUnmarshalErrorCode) {
		// The decoder's error quotes the body around where it stopped.
		return &ecsapi.NetworkError{Op: op, Host: host, Err: &ecsapi.UnparsableAnswerError{HTTPStatus: rt.status, Size: rt.size}}
	}
	cause := networkCause(err, sc)
	var dns *net.DNSError
	if !errors.As(cause, &dns) && isTimeout(cause) {
		// The call's own timeout, while the invocation still has time: the
		// client's "context deadline exceeded" would read as the
		// invocation's deadline (found by the fault matrix).
		return &ecsapi.NetworkError{Op: op, Host: host, Err: &timeouts}
	}
	if errors.As(cause, &dns) && dns.IsNotFound {
		// NXDOMAIN: the region has no ECS endpoint (a typo, a region that
		// does not exist). A DNS timeout or temporary failure is not this.
		return &ecsapi.PermanentError{Op: op, Host: host, Code: result.CodeInvalidRegionID, Err: cause}
	}
	return &ecsapi.NetworkError{Op: op, Host: host, Err: cause}
}

// isTimeout says whether a call's error is a timeout of its own (the
// client's, a dial's, a read's).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// callTimeoutError is a call that got no answer within its own timeouts. It
// does not wrap context.DeadlineExceeded: that means the invocation's
// deadline (DESIGN §5), which had not come.
type callTimeoutError struct{ connect, read time.Duration }

func (e *callTimeoutError) Error() string {
	return fmt.Sprintf("no answer within the call's timeout (connect %v, read %v)", e.connect, e.read)
}

// Timeout marks it as a timeout for net.Error's users.
func (e *callTimeoutError) Timeout() bool { return true }

// networkCause drops the signed URL that *url.Error carries and keeps the
// cause (a *net.OpError, a timeout), so that errors.Is and errors.As still
// work; a cause whose own text holds a secret is replaced by its scrubbed
// text.
func networkCause(err error, sc *scrubber) error {
	var ce *sdkerrors.ClientError
	if errors.As(err, &ce) {
		if origin := ce.OriginError(); origin != nil {
			err = origin
		} else {
			return errors.New(sc.scrub(ce.ErrorCode() + ": " + ce.Message()))
		}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if err == nil {
		return errors.New("no answer")
	}
	if text := err.Error(); sc.scrub(text) != text {
		return errors.New(sc.scrub(text))
	}
	return err
}

// secretPiece is the shortest piece of a secret the scrubber looks for
// (DESIGN §7): any 16 characters in a row of the AccessKeySecret or the
// SecurityToken, in any encoding the SDK or ECS uses, are removed.
const secretPiece = 16

// scrubber removes from text whatever could let its reader act with one set
// of credentials. It keeps every secretPiece-long piece (a "gram") of each
// secret's forms in a set, so that a text is scanned once, in linear time,
// however long the token: a piece of 16 or more characters contains a gram at
// each of its positions.
type scrubber struct {
	grams map[string]struct{} // ASCII-lowercased secretPiece-long pieces
	short []string            // whole forms of secrets shorter than secretPiece
}

var (
	scrubberMu   sync.Mutex
	lastCreds    ecsapi.Credentials
	lastScrubber *scrubber
)

// scrubberFor returns the scrubber of creds; the last one is kept, since one
// invocation makes many calls with the same credentials.
func scrubberFor(creds ecsapi.Credentials) *scrubber {
	scrubberMu.Lock()
	defer scrubberMu.Unlock()
	if lastScrubber != nil && lastCreds == creds {
		return lastScrubber
	}
	sc := &scrubber{grams: make(map[string]struct{})}
	for _, secret := range []string{creds.AccessKeySecret, creds.SecurityToken} {
		if secret == "" {
			continue
		}
		once := url.QueryEscape(secret)
		forms := []string{secret, once, url.QueryEscape(once), strings.ReplaceAll(once, "+", "%20"),
			url.PathEscape(secret), strings.ReplaceAll(secret, "/", `\/`)}
		for _, form := range forms {
			if len(form) < secretPiece {
				sc.short = append(sc.short, form)
				continue
			}
			low := asciiLower(form)
			for i := 0; i+secretPiece <= len(low); i++ {
				sc.grams[low[i:i+secretPiece]] = struct{}{}
			}
		}
	}
	lastCreds, lastScrubber = creds, sc
	return sc
}

// scrubSecrets removes from s whatever could let its reader act with the
// caller's credentials: what ecsapi.RedactSecrets removes of any text (ECS's
// echo of the StringToSign, which holds the SecurityToken; signed URLs' queries;
// the secret parameters), and any piece of 16 or more characters of the
// secret and the token, in any encoding the SDK uses.
// Every text and field that came from ECS goes through it.
func scrubSecrets(s string, creds ecsapi.Credentials) string {
	return scrubberFor(creds).scrub(s)
}

func (sc *scrubber) scrub(s string) string {
	if s == "" {
		return s
	}
	s = ecsapi.RedactSecrets(s)
	for _, form := range sc.short {
		s = strings.ReplaceAll(s, form, "[redacted]")
	}
	if len(sc.grams) == 0 || len(s) < secretPiece {
		return s
	}
	low := asciiLower(s)
	var b strings.Builder
	last := 0                  // s[:last] is written
	runStart, runEnd := -1, -1 // the run of secret pieces being read
	for i := 0; i+secretPiece <= len(low); i++ {
		if _, ok := sc.grams[low[i:i+secretPiece]]; !ok {
			continue
		}
		if runStart < 0 || i > runEnd {
			if runStart >= 0 {
				b.WriteString(s[last:runStart])
				b.WriteString("[redacted]")
				last = runEnd
			}
			runStart = i
		}
		runEnd = i + secretPiece
	}
	if runStart < 0 {
		return s
	}
	b.WriteString(s[last:runStart])
	b.WriteString("[redacted]")
	b.WriteString(s[runEnd:])
	return b.String()
}

// asciiLower lowercases ASCII letters only, so that byte offsets stay those of
// s (percent-encodings come in both cases).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
