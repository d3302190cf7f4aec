package aliyun

// The STS adapter: like ecs.go for ECS, the only file that imports the
// v1 SDK's services/sts, so that a move to the v2 SDK stays a change of one
// file. It shares ecs.go's transport (one connection pool, each call
// bound to the caller's context), error mapping (with STS's own timeouts)
// and secret scrubber.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/sts"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/result"
)

// stsPublicHost is STS's public endpoint, and stsVPCHost the template of
// its VPC endpoints (DESIGN §6, STS_ENDPOINT).
const (
	stsPublicHost = "sts.aliyuncs.com"
	stsVPCHost    = "sts-vpc." + regionPlaceholder + ".aliyuncs.com"
)

// DefaultSTSEndpoint is STS_ENDPOINT when unset (DESIGN §6): the VPC
// endpoint of the function's own region when ECS_ENDPOINT names ECS's VPC
// endpoints (a function without internet access reaches no public
// endpoint), else STS's public endpoint.
func DefaultSTSEndpoint(ecsEndpoint string) string {
	if _, host, err := ParseEndpoint(ECSEndpointVar, ecsEndpoint); err == nil && strings.HasPrefix(strings.ToLower(host), "ecs-vpc.") {
		return "https://" + stsVPCHost
	}
	return "https://" + stsPublicHost
}

// STS implements ecsapi.STS with the v1 SDK. It is safe for concurrent use: as
// ECS, it builds a client per call over a shared pool.
type STS struct {
	scheme string
	// hostTemplate is the endpoint's host; {regionId} in it is the
	// function's own region (AssumeRoleInput.Region).
	hostTemplate   string
	connectTimeout time.Duration
	readTimeout    time.Duration
	pool           http.RoundTripper
}

var _ ecsapi.STS = (*STS)(nil)

// NewSTS returns the STS client. endpoint is STS_ENDPOINT, a URL
// (scheme://host[:port]) whose host may hold {regionId}, the function's
// own region; empty means https://sts.aliyuncs.com. transport may be nil (a
// pool of its own) or the ECS client's (NewClients).
func NewSTS(endpoint string, transport http.RoundTripper) (*STS, error) {
	s := &STS{scheme: "https", hostTemplate: stsPublicHost, connectTimeout: 5 * time.Second, readTimeout: 10 * time.Second, pool: transport}
	if endpoint != "" {
		scheme, host, err := ParseEndpoint(STSEndpointVar, endpoint)
		if err != nil {
			return nil, err
		}
		s.scheme, s.hostTemplate = scheme, host
	}
	if s.pool == nil {
		s.pool = NewTransport(s.connectTimeout)
	}
	return s, nil
}

// host is the endpoint's host for a function in region.
func (s *STS) host(region string) (string, error) {
	if !strings.Contains(s.hostTemplate, regionPlaceholder) {
		return s.hostTemplate, nil
	}
	if !ecsapi.ValidRegionID(region) {
		return "", fmt.Errorf("STS_ENDPOINT's host %s names %s, but the function's own region is unknown (FC_REGION)", s.hostTemplate, regionPlaceholder)
	}
	return strings.ReplaceAll(s.hostTemplate, regionPlaceholder, region), nil
}

// AssumeRole calls STS AssumeRole with creds. Every field of the answer goes
// through the scrubber of the caller's credentials; the assumed ones are
// returned to the caller alone, never put in an error.
func (s *STS) AssumeRole(ctx context.Context, creds ecsapi.Credentials, in ecsapi.AssumeRoleInput) (*ecsapi.AssumedRole, error) {
	const op = "AssumeRole"
	sc := scrubberFor(creds)
	host, err := s.host(in.Region)
	if err != nil {
		return nil, &ecsapi.PermanentError{Op: op, Host: s.hostTemplate, Code: result.CodeClientError, Err: err}
	}
	cfg, provider, rt := sdkSetup(ctx, s.pool, s.scheme, creds)
	client, err := sts.NewClientWithOptions("cn-hangzhou", cfg, provider)
	if err != nil {
		return nil, &ecsapi.PermanentError{Op: op, Host: host, Code: result.CodeClientError, Err: errors.New(sc.scrub(err.Error()))}
	}
	client.SetReadTimeout(s.readTimeout)
	client.SetConnectTimeout(s.connectTimeout)
	req := sts.CreateAssumeRoleRequest()
	req.Scheme = strings.ToUpper(s.scheme)
	req.Domain = host
	req.RoleArn = in.RoleArn
	req.RoleSessionName = in.RoleSessionName
	req.DurationSeconds = requests.NewInteger(in.DurationSeconds)
	req.ExternalId = in.ExternalID
	req.Policy = in.Policy
	var resp *sts.AssumeRoleResponse
	err = rt.do(func() (err error) { resp, err = client.AssumeRole(req); return err })
	if err != nil {
		err = mapError(ctx, op, rt, host, sc, err, callTimeoutError{connect: s.connectTimeout, read: s.readTimeout})
		var api *ecsapi.APIError
		if in.ExternalID != "" && errors.As(err, &api) {
			// STS's echo of the request (a StringToSign) would carry it:
			// ROLE_EXTERNAL_ID is never logged.
			for _, form := range []string{in.ExternalID, url.QueryEscape(in.ExternalID)} {
				api.Message = strings.ReplaceAll(api.Message, form, "[ROLE_EXTERNAL_ID]")
			}
		}
		return nil, err
	}
	c := resp.Credentials
	out := &ecsapi.AssumedRole{RequestID: sc.scrub(resp.RequestId),
		Credentials: ecsapi.Credentials{AccessKeyID: c.AccessKeyId, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken}}
	if out.Credentials.Empty() {
		return nil, &ecsapi.APIError{HTTPStatus: http.StatusOK, Code: "InvalidAnswer", RequestID: out.RequestID, Message: "STS's answer carries no credentials"}
	}
	if exp, err := time.Parse(time.RFC3339, c.Expiration); err == nil {
		out.Expiration = exp
	} // else zero: good for this invocation only (roleCache)
	return out, nil
}

// NewClients returns the ECS and STS clients of the function, sharing one
// connection pool (o.Transport, or a new one when nil): AssumeRole and the
// ECS calls keep their connections warm in the same pool. stsEndpoint is
// STS_ENDPOINT. Either client is nil when its endpoint is refused; err
// then says why (both, joined).
func NewClients(o Options, stsEndpoint string) (*ECS, *STS, error) {
	if o.Transport == nil {
		connect := o.ConnectTimeout
		if connect <= 0 {
			connect = 5 * time.Second
		}
		o.Transport = NewTransport(connect)
	}
	e, ecsErr := NewECS(o)
	s, stsErr := NewSTS(stsEndpoint, o.Transport)
	return e, s, errors.Join(ecsErr, stsErr)
}
