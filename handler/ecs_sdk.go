package handler

// This is the only file of the project that imports the v1 SDK
// (github.com/aliyun/alibaba-cloud-sdk-go), which is past its vendor's end of
// support: a move to alibabacloud-go/ecs-20140526 replaces this file alone.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

// SDKOptions configure an SDKECS.
type SDKOptions struct {
	// Endpoint is ECS_ENDPOINT: a URL with scheme http or https and a host,
	// where "{regionId}" in the host is replaced by each call's region
	// ("https://ecs-vpc.{regionId}.aliyuncs.com", "http://127.0.0.1:8080").
	// Empty means the SDK's regional public endpoint, over HTTPS.
	Endpoint string
	// ConnectTimeout bounds a TCP connect (default 5 s); ReadTimeout a whole
	// call once sent (default 10 s). The invocation's context bounds both.
	ConnectTimeout time.Duration
	ReadTimeout    time.Duration
	// Transport is the connection pool every call shares; nil means a new
	// *http.Transport tuned for ECS. Tests pass one that records requests.
	Transport http.RoundTripper
}

// SDKECS implements ECS with the v1 SDK. It is safe for concurrent use.
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
type SDKECS struct {
	scheme         string // "http" or "https"
	hostTemplate   string // host[:port] with an optional {regionId}; "" = SDK's endpoint
	connectTimeout time.Duration
	readTimeout    time.Duration
	pool           http.RoundTripper
}

var _ ECS = (*SDKECS)(nil)

// sdkRegionRE is what a region ID must look like before it goes into a host
// name: nothing that could change which host is called.
var sdkRegionRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

const regionPlaceholder = "{regionId}"

// endpointMapOnce fills the SDK's endpoint map once (see NewSDKECS).
var endpointMapOnce sync.Once

// NewSDKECS checks the options and returns the ECS client.
func NewSDKECS(o SDKOptions) (*SDKECS, error) {
	// ecs.NewClientWithOptions reads ecs.GetEndpointMap, which fills a package
	// variable on first use without a lock: concurrent first calls race (seen
	// with the race detector). Filling it here, before any goroutine, leaves
	// only reads for later.
	endpointMapOnce.Do(func() { ecs.GetEndpointMap() })
	e := &SDKECS{scheme: "https", connectTimeout: o.ConnectTimeout, readTimeout: o.ReadTimeout, pool: o.Transport}
	if e.connectTimeout <= 0 {
		e.connectTimeout = 5 * time.Second
	}
	if e.readTimeout <= 0 {
		e.readTimeout = 10 * time.Second
	}
	if o.Endpoint != "" {
		scheme, host, err := parseEndpoint(o.Endpoint)
		if err != nil {
			return nil, err
		}
		e.scheme, e.hostTemplate = scheme, host
	}
	if e.pool == nil {
		e.pool = newECSTransport(e.connectTimeout)
	}
	return e, nil
}

// parseEndpoint splits ECS_ENDPOINT into scheme and host; the SDK builds
// URLs as scheme://host/?query, so a path, query or user is refused rather
// than silently dropped.
func parseEndpoint(endpoint string) (scheme, host string, err error) {
	bad := func(why string) error {
		return fmt.Errorf("ECS_ENDPOINT %q: %s", endpoint, why)
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

// newECSTransport is the process-wide connection pool: kept-alive
// connections let a warm invocation skip the TCP and TLS handshakes.
func newECSTransport(connectTimeout time.Duration) *http.Transport {
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
func (e *SDKECS) StartInstances(ctx context.Context, creds Credentials, in StartInstancesInput) (*StartInstancesOutput, error) {
	const op = "StartInstances"
	client, rt, err := e.client(ctx, creds, in.RegionID)
	if err != nil {
		return nil, &NetworkError{Op: op, Host: e.hostFor(in.RegionID), Err: err}
	}
	req := ecs.CreateStartInstancesRequest()
	e.prepare(req.RpcRequest, in.RegionID)
	ids := append([]string(nil), in.InstanceIDs...)
	req.InstanceId = &ids
	req.BatchOptimization = in.BatchOptimization
	if in.DryRun {
		req.DryRun = requests.NewBoolean(true)
	}
	resp, err := client.StartInstances(req)
	if err != nil {
		return nil, e.mapError(ctx, op, rt.hostOr(e.hostFor(in.RegionID)), creds, err)
	}
	out := &StartInstancesOutput{RequestID: resp.RequestId}
	for _, r := range resp.InstanceResponses.InstanceResponse {
		out.Responses = append(out.Responses, InstanceResponse{
			InstanceID:     r.InstanceId,
			Code:           r.Code,
			Message:        scrubSecrets(r.Message, creds),
			PreviousStatus: r.PreviousStatus,
			CurrentStatus:  r.CurrentStatus,
		})
	}
	return out, nil
}

// describePageSize is DescribeInstances' largest page, and also the most IDs
// InstanceIds takes.
const describePageSize = 100

// DescribeInstances looks up ids in region with DescribeInstances (InstanceIds
// as a JSON array, 100 per call). No IDs, no call.
func (e *SDKECS) DescribeInstances(ctx context.Context, creds Credentials, region string, ids []string) (*DescribeInstancesOutput, error) {
	const op = "DescribeInstances"
	out := &DescribeInstancesOutput{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), describePageSize)]
		ids = ids[len(chunk):]
		client, rt, err := e.client(ctx, creds, region)
		if err != nil {
			return nil, &NetworkError{Op: op, Host: e.hostFor(region), Err: err}
		}
		req := ecs.CreateDescribeInstancesRequest()
		e.prepare(req.RpcRequest, region)
		raw, err := json.Marshal(chunk)
		if err != nil {
			return nil, &NetworkError{Op: op, Host: e.hostFor(region), Err: err}
		}
		req.InstanceIds = string(raw)
		req.PageSize = requests.NewInteger(describePageSize)
		req.PageNumber = requests.NewInteger(1)
		resp, err := client.DescribeInstances(req)
		if err != nil {
			return nil, e.mapError(ctx, op, rt.hostOr(e.hostFor(region)), creds, err)
		}
		out.RequestID = resp.RequestId
		for _, in := range resp.Instances.Instance {
			info := InstanceInfo{InstanceID: in.InstanceId, RegionID: in.RegionId, Status: in.Status, StoppedMode: in.StoppedMode}
			for _, l := range in.OperationLocks.LockReason {
				info.LockReasons = append(info.LockReasons, l.LockReason)
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
				info.Tags[key] = value
			}
			out.Instances = append(out.Instances, info)
		}
	}
	return out, nil
}

// client builds the SDK client of one call. It is cheap: no connection is
// opened here, and the pool is shared.
func (e *SDKECS) client(ctx context.Context, creds Credentials, region string) (*ecs.Client, *callTransport, error) {
	if !sdkRegionRE.MatchString(region) {
		return nil, nil, fmt.Errorf("malformed region ID %q", region)
	}
	rt := &callTransport{ctx: ctx, pool: e.pool}
	cfg := sdk.NewConfig()
	cfg.AutoRetry = false
	cfg.MaxRetryTime = 0
	cfg.Transport = rt
	// The SDK's default scheme is HTTP; say which one explicitly.
	cfg.Scheme = strings.ToUpper(e.scheme)
	var provider credentials.CredentialsProvider
	if creds.SecurityToken != "" {
		provider = credentials.NewStaticSTSCredentialsProvider(creds.AccessKeyID, creds.AccessKeySecret, creds.SecurityToken)
	} else {
		provider = credentials.NewStaticAKCredentialsProvider(creds.AccessKeyID, creds.AccessKeySecret)
	}
	client, err := ecs.NewClientWithOptions(region, cfg, provider)
	if err != nil {
		return nil, nil, errors.New(scrubSecrets(err.Error(), creds))
	}
	client.SetReadTimeout(e.readTimeout)
	client.SetConnectTimeout(e.connectTimeout)
	return client, rt, nil
}

func (e *SDKECS) prepare(req *requests.RpcRequest, region string) {
	req.RegionId = region
	req.Scheme = strings.ToUpper(e.scheme)
	if e.hostTemplate != "" {
		req.Domain = strings.ReplaceAll(e.hostTemplate, regionPlaceholder, region)
	}
}

// hostFor names the host a call to region goes to, for error messages.
func (e *SDKECS) hostFor(region string) string {
	if e.hostTemplate != "" {
		return strings.ReplaceAll(e.hostTemplate, regionPlaceholder, region)
	}
	return "ECS " + region
}

// callTransport is the RoundTripper of one call: it sends through the shared
// pool, bound to the caller's context, and notes the host it reached.
type callTransport struct {
	ctx  context.Context
	pool http.RoundTripper
	// host is written by RoundTrip and read after the SDK call returns; the
	// SDK calls RoundTrip on the caller's goroutine (no AutoRetry, no async).
	host string
}

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
	resp.Body = &releaseOnClose{ReadCloser: resp.Body, release: release}
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
}

func (b *releaseOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// mapError turns what the SDK returned into *APIError (ECS answered) or
// *NetworkError (it did not), with every secret removed.
func (e *SDKECS) mapError(ctx context.Context, op, host string, creds Credentials, err error) error {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		apiErr := &APIError{
			HTTPStatus: se.HttpStatus(),
			Code:       se.ErrorCode(),
			Message:    scrubSecrets(se.Message(), creds),
			RequestID:  se.RequestId(),
		}
		if apiErr.Code == "" {
			// Not an ECS error body (a proxy's page, a truncated answer):
			// the SDK put the whole body in Message.
			apiErr.Code = fmt.Sprintf("HTTP%d", apiErr.HTTPStatus)
			if apiErr.HTTPStatus >= http.StatusInternalServerError {
				apiErr.Code = "UnknownError"
			}
			apiErr.Message = "the answer was not an ECS error: " + truncate(apiErr.Message, 200)
		}
		return apiErr
	}
	// The caller's deadline or cancellation says more than the transport's
	// "context canceled", and lets errors.Is find it.
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &NetworkError{Op: op, Host: host, Err: ctxErr}
	}
	return &NetworkError{Op: op, Host: host, Err: networkCause(err, creds)}
}

// networkCause drops the signed URL that *url.Error carries and keeps the
// cause (a *net.OpError, a timeout), so that errors.Is and errors.As still
// work; a cause whose own text holds a secret is replaced by its scrubbed
// text.
func networkCause(err error, creds Credentials) error {
	var ce *sdkerrors.ClientError
	if errors.As(err, &ce) {
		if origin := ce.OriginError(); origin != nil {
			err = origin
		} else {
			return errors.New(scrubSecrets(ce.ErrorCode()+": "+ce.Message(), creds))
		}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if err == nil {
		return errors.New("no answer")
	}
	if text := err.Error(); scrubSecrets(text, creds) != text {
		return errors.New(scrubSecrets(text, creds))
	}
	return err
}

var (
	// signedQueryRE finds URLs with a query: the query of a signed request
	// holds the SecurityToken and the Signature.
	signedQueryRE = regexp.MustCompile(`(?i)(\b[a-z][a-z0-9+.-]*://[^\s?"'<>]*)\?[^\s"'<>]*`)
	// secretParamRE finds the secret parameters by name, plain, URL-encoded
	// once (a query) or twice (a StringToSign), or as JSON.
	secretParamRE = regexp.MustCompile(`(?i)((?:Signature|SecurityToken|AccessKeySecret)(?:=|%3D|%253D|"\s*:\s*"))[^&\s"'<>]*`)
)

const stringToSignMarker = "server string to sign is:"

// scrubSecrets removes from s whatever could let its reader act with the
// caller's credentials: ECS's echo of the StringToSign (which holds the
// SecurityToken), signed URLs, the secret parameters, and the secret and
// token themselves in any encoding the SDK uses. Error texts and messages of
// both error paths go through it.
func scrubSecrets(s string, creds Credentials) string {
	if i := strings.Index(s, stringToSignMarker); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	s = signedQueryRE.ReplaceAllString(s, "$1?[redacted]")
	s = secretParamRE.ReplaceAllString(s, "$1[redacted]")
	for _, secret := range []string{creds.AccessKeySecret, creds.SecurityToken} {
		if secret == "" {
			continue
		}
		once := url.QueryEscape(secret)
		for _, form := range []string{url.QueryEscape(once), once, strings.ReplaceAll(once, "+", "%20"), secret} {
			s = strings.ReplaceAll(s, form, "[redacted]")
		}
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
