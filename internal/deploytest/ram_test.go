package deploytest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/start-ecs/start-ecs/handler"
)

// policy is a RAM policy document (Version "1").
type policy struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

type statement struct {
	Effect    string                    `json:"Effect"`
	Action    stringList                `json:"Action"`
	Resource  stringList                `json:"Resource"`
	Principal map[string]stringList     `json:"Principal"`
	Condition map[string]map[string]any `json:"Condition"`
}

// stringList is RAM's "a string or a list of strings".
type stringList []string

func (s *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

func readPolicy(t *testing.T, name string) policy {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "ram", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var p policy
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("ram/%s: %v", name, err)
	}
	if p.Version != "1" {
		t.Errorf("ram/%s: Version %q, RAM policies are version \"1\"", name, p.Version)
	}
	if len(p.Statement) == 0 {
		t.Fatalf("ram/%s: no statement", name)
	}
	for i, st := range p.Statement {
		if st.Effect != "Allow" {
			t.Errorf("ram/%s: statement %d: Effect %q", name, i, st.Effect)
		}
	}
	return p
}

func actions(p policy) []string {
	var out []string
	for _, st := range p.Statement {
		for _, a := range st.Action {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	sort.Strings(out)
	return out
}

// The function's role may start instances, look them up and poll their
// status (DESIGN §6: the polls of wait), nothing else: no wildcard action,
// and only ECS instance resources.
func TestFunctionPoliciesAreLeastPrivilege(t *testing.T) {
	want := []string{"ecs:DescribeInstanceStatus", "ecs:DescribeInstances", "ecs:StartInstances"}
	for _, name := range []string{"policy.json", "policy-tagged.json", "target-policy.json"} {
		p := readPolicy(t, name)
		if got := actions(p); !slices.Equal(got, want) {
			t.Errorf("ram/%s: actions %v, want exactly %v", name, got, want)
		}
		for i, st := range p.Statement {
			if st.Principal != nil {
				t.Errorf("ram/%s: statement %d: a permission policy names no Principal", name, i)
			}
			for _, r := range st.Resource {
				if !strings.HasPrefix(r, "acs:ecs:") || !strings.HasSuffix(r, ":instance/*") {
					t.Errorf("ram/%s: statement %d: resource %q is not an ECS instance ARN", name, i, r)
				}
			}
		}
	}
}

// The tagged variant narrows StartInstances to instances carrying a tag (mirror
// of ALLOWED_TAG) and leaves DescribeInstances open: the function must see an
// untagged instance to report it Forbidden.NotAllowed rather than fail the call.
func TestTaggedPolicyNarrowsStartsByResourceTag(t *testing.T) {
	p := readPolicy(t, "policy-tagged.json")
	for i, st := range p.Statement {
		starts := slices.Contains(st.Action, "ecs:StartInstances")
		if starts && len(st.Action) != 1 {
			t.Errorf("statement %d: StartInstances shares its statement with %v, which the tag condition would narrow too", i, st.Action)
		}
		var tagKeys []string
		for op, kv := range st.Condition {
			if op != "StringEquals" {
				t.Errorf("statement %d: condition operator %s", i, op)
			}
			for k := range kv {
				if !strings.HasPrefix(k, "acs:ResourceTag/") || len(k) == len("acs:ResourceTag/") {
					t.Errorf("statement %d: condition key %q is not acs:ResourceTag/<key>", i, k)
				}
				tagKeys = append(tagKeys, k)
			}
		}
		if starts && len(tagKeys) == 0 {
			t.Errorf("statement %d: StartInstances without an acs:ResourceTag condition", i)
		}
		if !starts && len(tagKeys) > 0 {
			t.Errorf("statement %d: %v narrowed by tag", i, st.Action)
		}
	}
}

// Only Function Compute may assume the role.
func TestTrustPolicyNamesOnlyFunctionCompute(t *testing.T) {
	p := readPolicy(t, "trust-policy.json")
	if got := actions(p); !slices.Equal(got, []string{"sts:AssumeRole"}) {
		t.Errorf("actions %v, want [sts:AssumeRole]", got)
	}
	for i, st := range p.Statement {
		if len(st.Principal) != 1 || !slices.Equal(st.Principal["Service"], stringList{"fc.aliyuncs.com"}) {
			t.Errorf("statement %d: Principal %v, want only Service fc.aliyuncs.com", i, st.Principal)
		}
		if len(st.Resource) > 0 {
			t.Errorf("statement %d: a trust policy names no Resource", i)
		}
	}
}

// The async destination policy lets the role send to the one queue s.yaml names
// as the onFailure destination, and nothing else.
func TestAsyncDestinationPolicyMatchesSYaml(t *testing.T) {
	p := readPolicy(t, "async-destination-policy.json")
	if got := actions(p); !slices.Equal(got, []string{"mns:SendMessage"}) {
		t.Errorf("actions %v, want [mns:SendMessage]", got)
	}
	for _, r := range resources(t) {
		dest := str(r.resolved, "asyncInvokeConfig", "destinationConfig", "onFailure", "destination")
		i := strings.Index(dest, ":/queues/")
		if i < 0 {
			t.Errorf("%s: onFailure destination %q is not an MNS queue", r.name, dest)
			continue
		}
		queue := dest[i:]
		for _, st := range p.Statement {
			for _, res := range st.Resource {
				if !strings.HasSuffix(res, queue) {
					t.Errorf("%s: destination queue %s, but the policy allows %s", r.name, queue, res)
				}
			}
		}
	}
}

// MNS invokes the mns-topic trigger's function as the role s.yaml names in
// invocationRole: only MNS may assume it, and it may only invoke this function.
func TestMNSInvocationRoleMatchesSYaml(t *testing.T) {
	trust := readPolicy(t, "mns-invocation-trust-policy.json")
	if got := actions(trust); !slices.Equal(got, []string{"sts:AssumeRole"}) {
		t.Errorf("trust actions %v, want [sts:AssumeRole]", got)
	}
	for i, st := range trust.Statement {
		if len(st.Principal) != 1 || !slices.Equal(st.Principal["Service"], stringList{"mns.aliyuncs.com"}) {
			t.Errorf("trust statement %d: Principal %v, want only Service mns.aliyuncs.com", i, st.Principal)
		}
	}
	p := readPolicy(t, "mns-invocation-policy.json")
	if got := actions(p); !slices.Equal(got, []string{"fc:InvokeFunction"}) {
		t.Errorf("actions %v, want [fc:InvokeFunction]", got)
	}
	var fns []string
	for _, r := range resources(t) {
		if fn := str(r.resolved, "functionName"); fn != "" {
			for _, e := range r.resolved["triggers"].([]any) {
				if str(e.(map[string]any), "triggerType") == "mns_topic" {
					fns = append(fns, fn)
				}
			}
		}
	}
	for _, st := range p.Statement {
		for _, res := range st.Resource {
			if !slices.ContainsFunc(fns, func(fn string) bool { return strings.HasSuffix(res, ":functions/"+fn) }) {
				t.Errorf("resource %q is not the function of an mns_topic trigger (%v)", res, fns)
			}
		}
	}
	topics := 0
	for _, tr := range triggers(t) {
		if tr.typ != "mns_topic" {
			continue
		}
		topics++
		role := str(tr.vars, "mnsInvocationRole")
		if role == "" || !strings.HasSuffix(str(tr.resolved, "invocationRole"), ":role/"+role) {
			t.Errorf("%s: %s: invocationRole %q is not vars.mnsInvocationRole (%q)", tr.file, tr.name, str(tr.resolved, "invocationRole"), role)
		}
	}
	if topics == 0 {
		t.Error("no mns_topic trigger in any deployment file")
	}
}

// The cross-account pair (DESIGN §3.1): the function's role may assume the
// target roles by name, never role/* nor any account; the target role
// trusts the function's role alone (roleName in s.yaml) and may start and
// look up instances, nothing else.
func TestCrossAccountPair(t *testing.T) {
	p := readPolicy(t, "policy-assume.json")
	if got := actions(p); !slices.Equal(got, []string{"sts:AssumeRole"}) {
		t.Errorf("policy-assume.json: actions %v, want [sts:AssumeRole]", got)
	}
	roleRes := regexp.MustCompile(`^acs:ram:\*:[0-9]+:role/[A-Za-z0-9._-]+$`)
	for i, st := range p.Statement {
		if len(st.Resource) == 0 {
			t.Errorf("policy-assume.json: statement %d names no role", i)
		}
		for _, r := range st.Resource {
			if !roleRes.MatchString(r) {
				t.Errorf("policy-assume.json: statement %d: %q is not one role of one account (acs:ram:*:<account>:role/<name>)", i, r)
			}
		}
	}
	trust := readPolicy(t, "target-trust-policy.json")
	if got := actions(trust); !slices.Equal(got, []string{"sts:AssumeRole"}) {
		t.Errorf("target-trust-policy.json: actions %v", got)
	}
	roleName := str(loadSYAML(t), "vars", "roleName")
	for i, st := range trust.Statement {
		if len(st.Principal) != 1 || len(st.Principal["RAM"]) == 0 {
			t.Errorf("target-trust-policy.json: statement %d: Principal %v, want only RAM roles", i, st.Principal)
		}
		for _, pr := range st.Principal["RAM"] {
			if !regexp.MustCompile(`^acs:ram::[0-9]+:role/` + regexp.QuoteMeta(roleName) + `$`).MatchString(pr) {
				t.Errorf("target-trust-policy.json: principal %q is not the function's role %s of one account", pr, roleName)
			}
		}
		// DESIGN §3.1 roleArn: the trust policy holds the sts:ExternalId
		// condition that ROLE_EXTERNAL_ID matches (against the confused
		// deputy), with a value the function accepts as ROLE_EXTERNAL_ID.
		ext, _ := st.Condition["StringEquals"]["sts:ExternalId"].(string)
		if _, err := handler.ConfigFromEnv(func(k string) string {
			if k == "ROLE_EXTERNAL_ID" {
				return ext
			}
			return ""
		}); ext == "" || err != nil {
			t.Errorf("target-trust-policy.json: statement %d: sts:ExternalId condition %q (%v), want StringEquals with ROLE_EXTERNAL_ID's value", i, ext, err)
		}
	}
	// The function sends it: s.yaml passes ROLE_EXTERNAL_ID from the deploy shell.
	for _, r := range resources(t) {
		if _, ok := obj(r.raw, "environmentVariables")["ROLE_EXTERNAL_ID"]; !ok {
			t.Errorf("%s: environmentVariables lack ROLE_EXTERNAL_ID", r.name)
		}
	}
}
