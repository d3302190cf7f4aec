package aliyun

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
)

// DESIGN §6 STS_ENDPOINT: {regionId} in the host is the function's own
// region; without it, AssumeRole fails naming FC_REGION.
func TestSTSHostIsTheFunctionsRegion(t *testing.T) {
	s, err := NewSTS("https://sts-vpc.{regionId}.aliyuncs.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	if host, err := s.host("cn-shanghai"); err != nil || host != "sts-vpc.cn-shanghai.aliyuncs.com" {
		t.Errorf("%q %v", host, err)
	}
	if _, err := s.host(""); err == nil || !strings.Contains(err.Error(), "region") {
		t.Errorf("an unknown region: %v", err)
	}
	_, err = s.AssumeRole(context.Background(), ecsapi.Credentials{AccessKeyID: "k", AccessKeySecret: "s"}, ecsapi.AssumeRoleInput{RoleArn: "acs:ram::1222333444555666:role/start-ecs-target"})
	if err == nil || !strings.Contains(err.Error(), "FC_REGION") {
		t.Errorf("AssumeRole without the function's region: %v", err)
	}
}

// DESIGN §7: a call that got no answer within its own timeouts says so,
// naming them. STS maps its errors with its own timeouts, not a zero
// ECS's ("connect 0s, read 0s").
func TestSTSTimeoutNamesItsOwnTimeouts(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s, err := NewSTS(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.readTimeout = 200 * time.Millisecond
	_, err = s.AssumeRole(context.Background(), ecsapi.Credentials{AccessKeyID: "LTAI-test-key", AccessKeySecret: "a-test-secret-of-30-characters"},
		ecsapi.AssumeRoleInput{RoleArn: "acs:ram::1222333444555666:role/start-ecs-target", RoleSessionName: "start-ecs", DurationSeconds: 900})
	var ne *ecsapi.NetworkError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), "(connect 5s, read 200ms)") {
		t.Fatalf("AssumeRole with no answer: %v, want a NetworkError naming STS's timeouts (connect 5s, read 200ms)", err)
	}
}

// DESIGN §6: an endpoint variable's error names that variable (STS_ENDPOINT
// is not ECS_ENDPOINT), from the one check of both (ParseEndpoint).
func TestEndpointErrorsNameTheirVariable(t *testing.T) {
	for _, bad := range []string{"ftp://sts.example.test", "https://host/path", "http://host/{regionId}"} {
		_, err := NewSTS(bad, nil)
		if err == nil || !strings.HasPrefix(err.Error(), "STS_ENDPOINT ") || strings.Contains(err.Error(), "ECS_ENDPOINT") {
			t.Errorf("NewSTS(%q) = %v, want an error naming STS_ENDPOINT alone", bad, err)
		}
		_, err = NewECS(Options{Endpoint: bad})
		if err == nil || !strings.HasPrefix(err.Error(), "ECS_ENDPOINT ") {
			t.Errorf("NewECS(%q) = %v, want an error naming ECS_ENDPOINT", bad, err)
		}
	}
}

// The function's ECS and STS clients share one connection pool
// (NewClients): AssumeRole's connections are kept warm beside ECS's.
func TestNewClientsShareOnePool(t *testing.T) {
	e, s, err := NewClients(Options{}, "https://sts.example.test")
	if err != nil {
		t.Fatal(err)
	}
	if e.pool == nil || e.pool != s.pool {
		t.Fatalf("ECS's pool %p, STS's %p: want one", e.pool, s.pool)
	}
	rt := &captureTransport{}
	e, s, err = NewClients(Options{Transport: rt}, "")
	if err != nil || e.pool != rt || s.pool != rt {
		t.Fatalf("a given transport is not the one pool of both: %v", err)
	}
	if _, _, err := NewClients(Options{Endpoint: "ftp://x"}, "ftp://y"); err == nil ||
		!strings.Contains(err.Error(), "ECS_ENDPOINT") || !strings.Contains(err.Error(), "STS_ENDPOINT") {
		t.Fatalf("both endpoints refused: %v, want both named", err)
	}
}
