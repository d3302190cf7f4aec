package aliyun

import (
	"context"
	"strings"
	"testing"

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
