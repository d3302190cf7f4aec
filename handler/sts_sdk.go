package handler

// The STS adapter: like ecs_sdk.go for ECS, the only file that imports the
// v1 SDK's services/sts, so that a move to the v2 SDK stays a change of one
// file. It shares ecs_sdk.go's transport (one connection pool, each call
// bound to the caller's context), error mapping and secret scrubber.

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/sts"
)

// stsPublicHost is STS's public endpoint (DESIGN §6: STS_ENDPOINT unset).
const stsPublicHost = "sts.aliyuncs.com"

// SDKSTS implements STS with the v1 SDK. It is safe for concurrent use: as
// SDKECS, it builds a client per call over a shared pool.
type SDKSTS struct {
	scheme, host   string
	connectTimeout time.Duration
	readTimeout    time.Duration
	pool           http.RoundTripper
}

var _ STS = (*SDKSTS)(nil)

// NewSDKSTS returns the STS client. endpoint is STS_ENDPOINT, a URL
// (scheme://host[:port]); empty means https://sts.aliyuncs.com. transport
// may be nil (a pool of its own) or the ECS client's.
func NewSDKSTS(endpoint string, transport http.RoundTripper) (*SDKSTS, error) {
	s := &SDKSTS{scheme: "https", host: stsPublicHost, connectTimeout: 5 * time.Second, readTimeout: 10 * time.Second, pool: transport}
	if endpoint != "" {
		scheme, host, err := parseEndpoint(endpoint)
		if err != nil {
			return nil, errors.New(strings.Replace(err.Error(), "ECS_ENDPOINT", "STS_ENDPOINT", 1))
		}
		if strings.Contains(host, regionPlaceholder) {
			return nil, errors.New("STS_ENDPOINT " + endpoint + ": STS has one endpoint, without " + regionPlaceholder)
		}
		s.scheme, s.host = scheme, host
	}
	if s.pool == nil {
		s.pool = newECSTransport(s.connectTimeout)
	}
	return s, nil
}

// AssumeRole calls STS AssumeRole with creds. Every field of the answer goes
// through the scrubber of the caller's credentials; the assumed ones are
// returned to the caller alone, never put in an error.
func (s *SDKSTS) AssumeRole(ctx context.Context, creds Credentials, in AssumeRoleInput) (*AssumedRole, error) {
	const op = "AssumeRole"
	sc := scrubberFor(creds)
	cfg, provider, rt := sdkSetup(ctx, s.pool, s.scheme, creds)
	client, err := sts.NewClientWithOptions("cn-hangzhou", cfg, provider)
	if err != nil {
		return nil, &PermanentError{Op: op, Host: s.host, Code: CodeClientError, Err: errors.New(sc.scrub(err.Error()))}
	}
	client.SetReadTimeout(s.readTimeout)
	client.SetConnectTimeout(s.connectTimeout)
	req := sts.CreateAssumeRoleRequest()
	req.Scheme = strings.ToUpper(s.scheme)
	req.Domain = s.host
	req.RoleArn = in.RoleArn
	req.RoleSessionName = in.RoleSessionName
	req.DurationSeconds = requests.NewInteger(in.DurationSeconds)
	var resp *sts.AssumeRoleResponse
	err = rt.do(func() (err error) { resp, err = client.AssumeRole(req); return err })
	if err != nil {
		return nil, (&SDKECS{}).mapError(ctx, op, rt, s.host, sc, err)
	}
	c := resp.Credentials
	out := &AssumedRole{RequestID: sc.scrub(resp.RequestId),
		Credentials: Credentials{AccessKeyID: c.AccessKeyId, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken}}
	if out.Credentials.Empty() {
		return nil, &APIError{HTTPStatus: http.StatusOK, Code: "InvalidAnswer", RequestID: out.RequestID, Message: "STS's answer carries no credentials"}
	}
	exp, err := time.Parse(time.RFC3339, c.Expiration)
	if err != nil {
		// Unknown expiry: good for this invocation only.
		exp = time.Now().Add(roleMargin)
	}
	out.Expiration = exp
	return out, nil
}
