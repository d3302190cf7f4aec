package handler

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/start-ecs/start-ecs/handler/aliyun"
	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/notify"
	"github.com/start-ecs/start-ecs/handler/plan"
	"github.com/start-ecs/start-ecs/handler/schedule"
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
	// LastSkipDate is SKIP_DATES's last date, as it writes it ("" when
	// unset): where the holiday calendar ends (DESIGN §9).
	LastSkipDate string
	TimeZone     *time.Location
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
	// NotifyTargets (NOTIFY_URLS, with NOTIFY_SECRET given to the generic
	// ones) are the robots an invocation's message goes to, and NotifyOn
	// (NOTIFY_ON) when it goes (DESIGN §9). A target prints as its kind and
	// host: its URL, token and secret stay inside.
	NotifyTargets []notify.Target
	NotifyOn      notify.On
	// Schedules (SCHEDULES) are the named schedules teams may write on
	// their instances (name → value, DESIGN §3.2), each checked at start-up.
	Schedules map[string]string
	// WorkDates (WORK_DATES) are make-up working days, Saturdays or
	// Sundays that `workdays` schedules include (DESIGN §3.2).
	WorkDates []string
	// ScheduleTagKey (SCHEDULE_TAG_KEY) is the tag key of a schedule
	// request that names none; MaxScheduled (MAX_SCHEDULED) the most
	// instances one schedule lookup reads.
	ScheduleTagKey string
	MaxScheduled   int
}

// ScheduleConfig is what a schedule tick reads of c (plan.NewScheduleTick).
func (c Config) ScheduleConfig() plan.ScheduleConfig {
	return plan.ScheduleConfig{TagKey: c.ScheduleTagKey, Named: c.Schedules, SkipDates: c.SkipDates, WorkDates: c.WorkDates, Zone: c.TimeZone}
}

// Tag is a key=value pair of ALLOWED_TAG or RESTART_TAG.
type Tag struct{ Key, Value string }

func (t Tag) String() string { return t.Key + "=" + t.Value }

// pair is t as the plan's rules take it, nil for none.
func (t *Tag) pair() *ecsapi.Tag {
	if t == nil {
		return nil
	}
	return &ecsapi.Tag{Key: t.Key, Value: t.Value}
}

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
		NotifyOn:           notify.OnProblems,
		ScheduleTagKey:     plan.DefaultScheduleTagKey,
		MaxScheduled:       plan.DefaultMaxScheduled,
	}
}

// ConfigFromEnv reads DESIGN §6's variables through getenv (os.Getenv in main).
// Every malformed value is reported, each naming its variable, in the order
// of envVars.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	var errs []string
	for _, ev := range envVars {
		ev.parse(&c, getenv(ev.name), func(format string, a ...any) {
			errs = append(errs, ev.name+": "+fmt.Sprintf(format, a...))
		})
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("invalid configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// badFunc reports a malformed value of the variable being parsed.
type badFunc func(format string, a ...any)

// envParser sets one variable's part of c from its value v, reporting
// what is malformed through bad.
type envParser func(c *Config, v string, bad badFunc)

// envVars are DESIGN §6's variables and their parsers, in the order they
// are read: a parser may rely on those before it (HTTP_AUTH on
// WEBHOOK_SECRET, STS_ENDPOINT's default on ECS_ENDPOINT).
var envVars = []struct {
	name  string
	parse envParser
}{
	{"ECS_ENDPOINT", trimmed(parseECSEndpoint)},
	{"DEFAULT_REGION_ID", trimmed(parseDefaultRegion)},
	{"MAX_INSTANCES", trimmed(parseMaxInstances)},
	{"MAX_EVENT_AGE", trimmed(parseMaxEventAge)},
	{"ALLOWED_REGIONS", trimmed(parseAllowedRegions)},
	{"ALLOWED_INSTANCE_IDS", trimmed(parseAllowedIDs)},
	{"ALLOWED_TAG", trimmed(tagParser(func(c *Config, t *Tag) { c.AllowedTag = t }))},
	{"RESTART_TAG", trimmed(tagParser(func(c *Config, t *Tag) { c.RestartTag = t }))},
	{"WEBHOOK_SECRET", func(c *Config, v string, _ badFunc) { c.WebhookSecret = v }},
	{"HTTP_AUTH", parseHTTPAuth},
	{"MAX_BODY_BYTES", trimmed(parseMaxBodyBytes)},
	{"HTTP_WAIT", trimmed(parseHTTPWait)},
	{"ALLOWED_ROLE_ARNS", trimmed(parseAllowedRoles)},
	{"STS_ENDPOINT", parseSTSEndpoint},
	{"ROLE_EXTERNAL_ID", parseExternalID},
	{"FC_FUNCTION_NAME", trimmed(func(c *Config, v string, _ badFunc) { c.FunctionName = v })},
	{"FC_REGION", trimmed(func(c *Config, v string, _ badFunc) { c.FunctionRegion = v })},
	{"TIME_ZONE", trimmed(parseTimeZone)},
	{"SKIP_DATES", trimmed(parseSkipDates)},
	{"WORK_DATES", trimmed(parseWorkDates)},
	{"SCHEDULES", trimmed(parseSchedules)},
	{"SCHEDULE_TAG_KEY", trimmed(parseScheduleTagKey)},
	{"MAX_SCHEDULED", trimmed(parseMaxScheduled)},
	{"DRY_RUN_ONLY", trimmed(parseDryRunOnly)},
	{"NOTIFY_ON", trimmed(parseNotifyOn)},
	{"NOTIFY_URLS", parseNotifyURLs},
	{"NOTIFY_SECRET", parseNotifySecret},
	{"ALIBABA_CLOUD_ACCESS_KEY_ID", func(c *Config, v string, _ badFunc) { c.EnvCredentials.AccessKeyID = v }},
	{"ALIBABA_CLOUD_ACCESS_KEY_SECRET", func(c *Config, v string, _ badFunc) { c.EnvCredentials.AccessKeySecret = v }},
	{"ALIBABA_CLOUD_SECURITY_TOKEN", func(c *Config, v string, _ badFunc) { c.EnvCredentials.SecurityToken = v }},
}

// trimmed is p given the value without surrounding space, and not called
// when that is empty (the variable keeps its default).
func trimmed(p envParser) envParser {
	return func(c *Config, v string, bad badFunc) {
		if v = strings.TrimSpace(v); v != "" {
			p(c, v, bad)
		}
	}
}

// parseECSEndpoint reads ECS_ENDPOINT with the adapter's own check
// (aliyun.ParseEndpoint), the one place endpoints are judged.
func parseECSEndpoint(c *Config, v string, bad badFunc) {
	checkEndpoint(aliyun.ECSEndpointVar, v, "each call's region", bad)
	c.ECSEndpoint = v
}

// checkEndpoint reports v, the value of the endpoint variable name, when
// aliyun.ParseEndpoint refuses it; {regionId} in its host stands for
// region.
func checkEndpoint(name, v, region string, bad badFunc) {
	if _, _, err := aliyun.ParseEndpoint(name, v); err != nil {
		why := err.Error()
		var ee *aliyun.EndpointError
		if errors.As(err, &ee) {
			why = ee.Why
		}
		bad("%q is not an http:// or https:// URL: %s (scheme://host[:port], {regionId} in the host standing for %s)", v, why, region)
	}
}

func parseDefaultRegion(c *Config, v string, bad badFunc) {
	if !ecsapi.ValidRegionID(v) {
		bad("%q is not a region ID like cn-hangzhou", v)
	}
	c.DefaultRegionID = v
}

func parseMaxInstances(c *Config, v string, bad badFunc) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		bad("%q is not a whole number of at least 1", v)
	}
	c.MaxInstances = n
}

func parseMaxEventAge(c *Config, v string, bad badFunc) {
	if v == "0" {
		c.MaxEventAge = 0
		return
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		bad("%q is not a duration like 1h or 30m (0 turns expiry off)", v)
		return
	}
	c.MaxEventAge = d
}

// setOf is the list v as a set, each element judged by valid; bad names
// each that is not, as what.
func setOf(v string, valid func(string) bool, bad badFunc, what string) map[string]bool {
	set := map[string]bool{}
	for _, s := range splitList(v) {
		if !valid(s) {
			bad("%q is not "+what, s)
		}
		set[s] = true
	}
	return set
}

func parseAllowedRegions(c *Config, v string, bad badFunc) {
	c.AllowedRegions = setOf(v, ecsapi.ValidRegionID, bad, "a region ID")
}

func parseAllowedIDs(c *Config, v string, bad badFunc) {
	c.AllowedIDs = setOf(v, plan.ValidInstanceID, bad, "an instance ID")
}

func parseAllowedRoles(c *Config, v string, bad badFunc) {
	c.AllowedRoles = setOf(v, func(r string) bool { return ecsapi.AccountOf(r) != "" }, bad,
		"a RAM role's ARN like acs:ram::1234567890123456:role/start-ecs-target")
}

// tagParser parses key=value and hands the tag to set.
func tagParser(set func(*Config, *Tag)) envParser {
	return func(c *Config, v string, bad badFunc) {
		k, val, ok := strings.Cut(v, "=")
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if !ok || k == "" {
			bad("%q is not key=value", v)
			return
		}
		set(c, &Tag{Key: k, Value: val})
	}
}

// parseHTTPAuth reads HTTP_AUTH; unset, it is secret when WEBHOOK_SECRET
// (read before it) is set.
func parseHTTPAuth(c *Config, v string, bad badFunc) {
	switch v := strings.ToLower(strings.TrimSpace(v)); v {
	case "":
		if c.WebhookSecret != "" {
			c.HTTPAuth = AuthSecret
		}
	case AuthSecret:
		c.HTTPAuth = AuthSecret
		if c.WebhookSecret == "" {
			bad("secret needs WEBHOOK_SECRET to be set")
		}
	case AuthTrigger:
		c.HTTPAuth = AuthTrigger
	default:
		bad("%q is neither secret nor trigger", v)
	}
}

func parseMaxBodyBytes(c *Config, v string, bad badFunc) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		bad("%q is not a positive number of bytes", v)
	}
	c.MaxBodyBytes = n
}

func parseHTTPWait(c *Config, v string, bad badFunc) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		bad("%q is not a positive duration like 4s", v)
	}
	c.HTTPWait = d
}

// parseSTSEndpoint reads STS_ENDPOINT; unset, it is the default that goes
// with ECS_ENDPOINT (read before it).
func parseSTSEndpoint(c *Config, v string, bad badFunc) {
	v = strings.TrimSpace(v)
	if v == "" {
		c.STSEndpoint = aliyun.DefaultSTSEndpoint(c.ECSEndpoint)
		return
	}
	checkEndpoint(aliyun.STSEndpointVar, v, "the function's region", bad)
	c.STSEndpoint = v
}

func parseExternalID(c *Config, v string, bad badFunc) {
	if v == "" {
		return
	}
	// The value is never repeated: it is not to be logged.
	if !validExternalID(v) {
		bad("its %d characters are not 2 to 1,224 of letters, digits and _+=,.@:/- (STS's ExternalId)", len(v))
	}
	c.RoleExternalID = v
}

func parseTimeZone(c *Config, v string, bad badFunc) {
	loc, err := plan.LoadZone(v)
	if err != nil {
		bad("%q is not UTC or an IANA Area/Location zone of the embedded time zone database, like Asia/Shanghai", v)
		return
	}
	c.TimeZone = loc
}

func parseSkipDates(c *Config, v string, bad badFunc) {
	for _, d := range splitList(v) {
		if !plan.ValidDate(d) {
			bad("%q is not a date like 2026-12-25", d)
		}
		c.SkipDates = append(c.SkipDates, d)
		if d > c.LastSkipDate { // dates like 2026-12-25 order as strings
			c.LastSkipDate = d
		}
	}
}

// parseWorkDates reads WORK_DATES like SKIP_DATES (read before it): each a
// Saturday or a Sunday, none also a skip date (DESIGN §3.2).
func parseWorkDates(c *Config, v string, bad badFunc) {
	for _, d := range splitList(v) {
		t, err := time.Parse(plan.DateLayout, d)
		switch {
		case err != nil || t.Format(plan.DateLayout) != d:
			bad("%q is not a date like 2027-02-20", d)
		case t.Weekday() != time.Saturday && t.Weekday() != time.Sunday:
			bad("%q is a %s: a make-up working day is a Saturday or a Sunday", d, t.Weekday())
		case slices.Contains(c.SkipDates, d):
			bad("%q is in SKIP_DATES too: a date is skipped or worked, not both", d)
		}
		c.WorkDates = append(c.WorkDates, d)
	}
}

// parseSchedules reads SCHEDULES, a JSON object of name → schedule, each
// value parsed now (in TIME_ZONE, read before it): a bad one is a
// configuration error naming its name, not an InvalidSchedule on every
// instance that uses it.
func parseSchedules(c *Config, v string, bad badFunc) {
	var named map[string]string
	if err := json.Unmarshal([]byte(v), &named); err != nil {
		bad("is not a JSON object of name → schedule, like {\"office\": \"08:00 workdays Asia/Shanghai\"}: %v", err)
		return
	}
	if _, err := schedule.NewParser(c.TimeZone, named); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			bad("%s", strings.TrimPrefix(line, "SCHEDULES "))
		}
	}
	c.Schedules = named
}

func parseScheduleTagKey(c *Config, v string, bad badFunc) {
	if why := plan.TagKeyProblem(v); why != "" {
		bad("%s", why)
	}
	c.ScheduleTagKey = v
}

func parseMaxScheduled(c *Config, v string, bad badFunc) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		bad("%q is not a whole number of at least 1", v)
	}
	c.MaxScheduled = n
}

func parseDryRunOnly(c *Config, v string, bad badFunc) {
	switch v = strings.ToLower(v); v {
	case "false", "0", "no":
	case "true", "1", "yes":
		c.DryRunOnly = true
	default:
		bad("%q is not true or false", v)
	}
}

func parseNotifyOn(c *Config, v string, bad badFunc) {
	on, err := notify.ParseOn(strings.ToLower(v))
	if err != nil {
		bad("%q is not problems, always or never", v)
		return
	}
	c.NotifyOn = on
}

// parseNotifyURLs reads NOTIFY_URLS with notify.ParseURLs, whose errors
// name the entry's position and host, never its URL, token or secret.
func parseNotifyURLs(c *Config, v string, bad badFunc) {
	targets, err := notify.ParseURLs(v)
	if err != nil {
		bad("%v", err)
		return
	}
	c.NotifyTargets = targets
}

// parseNotifySecret gives NOTIFY_SECRET (read after NOTIFY_URLS) to every
// generic target without a secret of its own: a generic notification is
// always signed (DESIGN §9), so one with no secret at all is an error. The
// value is never repeated.
func parseNotifySecret(c *Config, v string, bad badFunc) {
	notify.SetGenericSecret(c.NotifyTargets, v)
	for i, t := range c.NotifyTargets {
		if t.NeedsSecret() {
			bad("NOTIFY_URLS entry %d (%s) is a generic target and is sent signed: set NOTIFY_SECRET, or give it a secret after #", i+1, t)
		}
	}
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
