package handler

import (
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigDefaults(t *testing.T) {
	c, err := ConfigFromEnv(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxInstances != 1000 || c.MaxEventAge != time.Hour || c.MaxBodyBytes != 1<<20 || c.HTTPWait != 4*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
	if c.HTTPAuth != AuthNone {
		t.Fatalf("HTTP auth must be off (refusing) by default, got %q", c.HTTPAuth)
	}
}

func TestConfigReadsEveryVariable(t *testing.T) {
	c, err := ConfigFromEnv(envOf(map[string]string{
		"ECS_ENDPOINT":         "https://ecs-vpc.{regionId}.aliyuncs.com",
		"DEFAULT_REGION_ID":    "cn-shanghai-finance-1",
		"MAX_INSTANCES":        "50",
		"MAX_EVENT_AGE":        "0",
		"ALLOWED_REGIONS":      "cn-hangzhou, cn-beijing",
		"ALLOWED_INSTANCE_IDS": "i-bp67acfmxazb4p0001,i-bp67acfmxazb4p0002",
		"ALLOWED_TAG":          "start-ecs=allowed",
		"RESTART_TAG":          "restart=always",
		"WEBHOOK_SECRET":       "0123456789abcdef",
		"MAX_BODY_BYTES":       "2048",
		"HTTP_WAIT":            "3s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DefaultRegionID != "cn-shanghai-finance-1" || c.MaxInstances != 50 || c.MaxEventAge != 0 ||
		!c.AllowedRegions["cn-beijing"] || !c.AllowedIDs["i-bp67acfmxazb4p0002"] ||
		*c.AllowedTag != (Tag{"start-ecs", "allowed"}) || *c.RestartTag != (Tag{"restart", "always"}) ||
		c.HTTPAuth != AuthSecret || c.MaxBodyBytes != 2048 || c.HTTPWait != 3*time.Second {
		t.Fatalf("%+v", c)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	for name, val := range map[string]string{
		"ECS_ENDPOINT":      "ftp://x",
		"DEFAULT_REGION_ID": "CN_Hangzhou",
		"MAX_INSTANCES":     "-3",
		"MAX_EVENT_AGE":     "an hour",
		"ALLOWED_TAG":       "novalue",
		"HTTP_AUTH":         "basic",
		"HTTP_WAIT":         "0",
		"MAX_BODY_BYTES":    "lots",
	} {
		_, err := ConfigFromEnv(envOf(map[string]string{name: val}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %v does not name it", name, val, err)
		}
	}
	if _, err := ConfigFromEnv(envOf(map[string]string{"HTTP_AUTH": "secret"})); err == nil || !strings.Contains(err.Error(), "WEBHOOK_SECRET") {
		t.Errorf("HTTP_AUTH=secret without a secret: %v", err)
	}
}

// DESIGN §6: ECS_ENDPOINT and STS_ENDPOINT are judged in one place, the
// adapter's ParseEndpoint: configuration refuses every value the clients
// would refuse (a path, a query, a user, {regionId} outside the host),
// naming the variable, and accepts every value they accept.
func TestConfigEndpointsAreTheAdaptersCheck(t *testing.T) {
	for _, name := range []string{"ECS_ENDPOINT", "STS_ENDPOINT"} {
		for _, v := range []string{"ftp://x", "https://host/path", "https://host?x=1", "https://user:pw@host", "http://host/{regionId}", "127.0.0.1:8080"} {
			_, err := ConfigFromEnv(envOf(map[string]string{name: v}))
			if err == nil || !strings.Contains(err.Error(), name+": ") {
				t.Errorf("%s=%q: %v, want it refused naming %s", name, v, err, name)
			}
		}
		for _, v := range []string{"http://127.0.0.1:8080", "https://{regionId}.example.test:8443/"} {
			if _, err := ConfigFromEnv(envOf(map[string]string{name: v})); err != nil {
				t.Errorf("%s=%q: %v", name, v, err)
			}
		}
	}
}
