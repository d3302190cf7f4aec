package handler

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/start-ecs/start-ecs/handler/aliyun"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/plan"
)

// HTTP authentication modes (HTTP_AUTH).
const (
	AuthNone    = ""        // no authentication configured: every HTTP request gets 401
	AuthSecret  = "secret"  // WEBHOOK_SECRET: bearer, HMAC signature or token parameter
	AuthTrigger = "trigger" // the HTTP trigger's own authType (function, jwt) authenticates
)

// Config is the function's configuration, read once from the environment at
// start-up (DESIGN §6).
type Config struct {
	ECSEndpoint     string
	DefaultRegionID string
	MaxInstances    int
	MaxEventAge     time.Duration // 0: events never expire
	AllowedRegions  map[string]bool
	AllowedIDs      map[string]bool
	AllowedTag      *Tag
	RestartTag      *Tag
	HTTPAuth        string
	WebhookSecret   string
	MaxBodyBytes    int64
	HTTPWait        time.Duration
	// DryRunOnly turns every request into a dry run (DRY_RUN_ONLY=true): for a
	// first deployment, and the local runner against the real cloud.
	DryRunOnly bool
	// EnvCredentials are used when an invocation carries none (outside FC).
	EnvCredentials ecsapi.Credentials
	// DeadlineMargin is kept free before the invocation's deadline to report.
	DeadlineMargin time.Duration
	// MaxConcurrentCalls bounds the ECS calls one invocation has in flight.
	MaxConcurrentCalls int
	// SkipDates (SKIP_DATES) are dates on which no request is carried out,
	// judged in TimeZone (TIME_ZONE, default UTC), which is also the
	// default zone of a request's skipDates (DESIGN §3.1).
	SkipDates []string
	TimeZone  *time.Location
	// AllowedRoles (ALLOWED_ROLE_ARNS) are the roles of other accounts a
	// request may name in roleArn; none when empty (DESIGN §3.1).
	AllowedRoles map[string]bool
	// STSEndpoint (STS_ENDPOINT) is where AssumeRole goes; {regionId} in
	// it is the function's own region. ConfigFromEnv fills in the default
	// when unset (DefaultSTSEndpoint); empty: STS's public endpoint.
	STSEndpoint string
	// RoleExternalID (ROLE_EXTERNAL_ID) is the ExternalId of every
	// AssumeRole, "" for none; never logged (DESIGN §3.1).
	RoleExternalID string
	// FunctionName (FC_FUNCTION_NAME) and FunctionRegion (FC_REGION) are
	// what FC's runtime says of the function, used when an invocation's
	// context does not: AssumeRole's session name and STS's region.
	FunctionName   string
	FunctionRegion string
}

// Tag is a key=value pair of ALLOWED_TAG or RESTART_TAG.
type Tag struct{ Key, Value string }

func (t Tag) String() string { return t.Key + "=" + t.Value }

// DefaultConfig is the configuration with no environment variable set.
func DefaultConfig() Config {
	return Config{
		MaxInstances:       1000,
		MaxEventAge:        time.Hour,
		MaxBodyBytes:       1 << 20,
		HTTPWait:           4 * time.Second, // CloudMonitor gives up at 5 s; a cold start needs the rest
		DeadlineMargin:     time.Second,
		MaxConcurrentCalls: 8,
		TimeZone:           time.UTC,
	}
}

// ConfigFromEnv reads DESIGN §6's variables through getenv (os.Getenv in main).
// Every malformed value is reported, each naming its variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	var errs []string
	bad := func(name, format string, a ...any) {
		errs = append(errs, name+": "+fmt.Sprintf(format, a...))
	}

	if v := strings.TrimSpace(getenv("ECS_ENDPOINT")); v != "" {
		u, err := url.Parse(strings.ReplaceAll(v, "{regionId}", "region"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("ECS_ENDPOINT", "%q is not an http:// or https:// URL", v)
		}
		c.ECSEndpoint = v
	}
	if v := strings.TrimSpace(getenv("DEFAULT_REGION_ID")); v != "" {
		if !ecsapi.ValidRegionID(v) {
			bad("DEFAULT_REGION_ID", "%q is not a region ID like cn-hangzhou", v)
		}
		c.DefaultRegionID = v
	}
	if v := strings.TrimSpace(getenv("MAX_INSTANCES")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			bad("MAX_INSTANCES", "%q is not a whole number of at least 1", v)
		}
		c.MaxInstances = n
	}
	if v := strings.TrimSpace(getenv("MAX_EVENT_AGE")); v != "" {
		if v == "0" {
			c.MaxEventAge = 0
		} else if d, err := time.ParseDuration(v); err != nil || d < 0 {
			bad("MAX_EVENT_AGE", "%q is not a duration like 1h or 30m (0 turns expiry off)", v)
		} else {
			c.MaxEventAge = d
		}
	}
	if v := getenv("ALLOWED_REGIONS"); strings.TrimSpace(v) != "" {
		c.AllowedRegions = map[string]bool{}
		for _, r := range splitList(v) {
			if !ecsapi.ValidRegionID(r) {
				bad("ALLOWED_REGIONS", "%q is not a region ID", r)
			}
			c.AllowedRegions[r] = true
		}
	}
	if v := getenv("ALLOWED_INSTANCE_IDS"); strings.TrimSpace(v) != "" {
		c.AllowedIDs = map[string]bool{}
		for _, id := range splitList(v) {
			if !plan.ValidInstanceID(id) {
				bad("ALLOWED_INSTANCE_IDS", "%q is not an instance ID", id)
			}
			c.AllowedIDs[id] = true
		}
	}
	for _, name := range []string{"ALLOWED_TAG", "RESTART_TAG"} {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			continue
		}
		k, val, ok := strings.Cut(v, "=")
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if !ok || k == "" {
			bad(name, "%q is not key=value", v)
			continue
		}
		t := &Tag{Key: k, Value: val}
		if name == "ALLOWED_TAG" {
			c.AllowedTag = t
		} else {
			c.RestartTag = t
		}
	}
	c.WebhookSecret = getenv("WEBHOOK_SECRET")
	switch v := strings.ToLower(strings.TrimSpace(getenv("HTTP_AUTH"))); v {
	case "":
		if c.WebhookSecret != "" {
			c.HTTPAuth = AuthSecret
		}
	case AuthSecret:
		c.HTTPAuth = AuthSecret
		if c.WebhookSecret == "" {
			bad("HTTP_AUTH", "secret needs WEBHOOK_SECRET to be set")
		}
	case AuthTrigger:
		c.HTTPAuth = AuthTrigger
	default:
		bad("HTTP_AUTH", "%q is neither secret nor trigger", v)
	}
	if v := strings.TrimSpace(getenv("MAX_BODY_BYTES")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			bad("MAX_BODY_BYTES", "%q is not a positive number of bytes", v)
		}
		c.MaxBodyBytes = n
	}
	if v := strings.TrimSpace(getenv("HTTP_WAIT")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad("HTTP_WAIT", "%q is not a positive duration like 4s", v)
		}
		c.HTTPWait = d
	}
	if v := getenv("ALLOWED_ROLE_ARNS"); strings.TrimSpace(v) != "" {
		c.AllowedRoles = map[string]bool{}
		for _, r := range splitList(v) {
			if ecsapi.AccountOf(r) == "" {
				bad("ALLOWED_ROLE_ARNS", "%q is not a RAM role's ARN like acs:ram::1234567890123456:role/start-ecs-target", r)
			}
			c.AllowedRoles[r] = true
		}
	}
	if v := strings.TrimSpace(getenv("STS_ENDPOINT")); v != "" {
		if _, _, err := aliyun.ParseEndpoint(v); err != nil {
			bad("STS_ENDPOINT", "%q is not an http:// or https:// URL (scheme://host[:port], {regionId} in the host standing for the function's region)", v)
		}
		c.STSEndpoint = v
	} else {
		c.STSEndpoint = aliyun.DefaultSTSEndpoint(c.ECSEndpoint)
	}
	if v := getenv("ROLE_EXTERNAL_ID"); v != "" {
		// The value is never repeated: it is not to be logged.
		if !validExternalID(v) {
			bad("ROLE_EXTERNAL_ID", "its %d characters are not 2 to 1,224 of letters, digits and _+=,.@:/- (STS's ExternalId)", len(v))
		}
		c.RoleExternalID = v
	}
	c.FunctionName = strings.TrimSpace(getenv("FC_FUNCTION_NAME"))
	c.FunctionRegion = strings.TrimSpace(getenv("FC_REGION"))
	c.TimeZone = time.UTC
	if v := strings.TrimSpace(getenv("TIME_ZONE")); v != "" {
		if loc, err := plan.LoadZone(v); err != nil {
			bad("TIME_ZONE", "%q is not UTC or an IANA Area/Location zone of the embedded time zone database, like Asia/Shanghai", v)
		} else {
			c.TimeZone = loc
		}
	}
	if v := getenv("SKIP_DATES"); strings.TrimSpace(v) != "" {
		for _, d := range splitList(v) {
			if !plan.ValidDate(d) {
				bad("SKIP_DATES", "%q is not a date like 2026-12-25", d)
			}
			c.SkipDates = append(c.SkipDates, d)
		}
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("DRY_RUN_ONLY"))); v {
	case "", "false", "0", "no":
	case "true", "1", "yes":
		c.DryRunOnly = true
	default:
		bad("DRY_RUN_ONLY", "%q is not true or false", v)
	}
	c.EnvCredentials = ecsapi.Credentials{
		AccessKeyID:     getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"),
		AccessKeySecret: getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
		SecurityToken:   getenv("ALIBABA_CLOUD_SECURITY_TOKEN"),
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("invalid configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// validExternalID says whether s is an ExternalId STS accepts: 2 to 1,224
// characters of [\w+=,.@:/-].
func validExternalID(s string) bool {
	if len(s) < 2 || len(s) > 1224 {
		return false
	}
	for i := range len(s) {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("_+=,.@:/-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
