package ecsemu

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// stsVersion is the STS API version whose AssumeRole the server answers.
const stsVersion = "2015-04-01"

// Role is a RAM role of another account that STS AssumeRole hands
// credentials of. The caller must be a credential of the home account (the
// function's role); what AssumeRole returns is a fresh STS credential of the
// role's account, which ECS then accepts for that account's instances only.
type Role struct {
	// Arn is acs:ram::<account id>:role/<name>; the account is read from it.
	Arn string `json:"arn"`
	// Refuse, when set, is the code AssumeRole answers instead (403), as STS
	// does when the role's trust policy does not name the caller:
	// "NoPermission".
	Refuse string `json:"refuse,omitempty"`
	// ExternalID, when set, is the sts:ExternalId condition of the role's
	// trust policy: an AssumeRole without that ExternalId is refused with
	// NoPermission (403), as STS refuses a caller the policy does not admit.
	ExternalID string `json:"externalId,omitempty"`
	// Expiration, when set, is the Expiration AssumeRole hands out, as
	// sent: a time in the past ("2000-01-01T00:00:00Z") or text no client
	// can read ("soon"), for clients that must survive either.
	Expiration string `json:"expiration,omitempty"`
}

// accountOfArn reads the account ID of a role ARN, "" when malformed.
func accountOfArn(arn string) string {
	rest, ok := strings.CutPrefix(arn, "acs:ram::")
	if !ok {
		return ""
	}
	account, name, ok := strings.Cut(rest, ":role/")
	if !ok || account == "" || name == "" {
		return ""
	}
	return account
}

type assumeRoleResponse struct {
	XMLName         xml.Name        `json:"-" xml:"AssumeRoleResponse"`
	RequestID       string          `json:"RequestId" xml:"RequestId"`
	AssumedRoleUser assumedRoleUser `json:"AssumedRoleUser" xml:"AssumedRoleUser"`
	Credentials     stsCredentials  `json:"Credentials" xml:"Credentials"`
}

type assumedRoleUser struct {
	AssumedRoleID string `json:"AssumedRoleId" xml:"AssumedRoleId"`
	Arn           string `json:"Arn" xml:"Arn"`
}

type stsCredentials struct {
	AccessKeyID     string `json:"AccessKeyId" xml:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret" xml:"AccessKeySecret"`
	SecurityToken   string `json:"SecurityToken" xml:"SecurityToken"`
	Expiration      string `json:"Expiration" xml:"Expiration"`
}

// assumeRole answers STS AssumeRole for a caller already authenticated
// (signature, token): the home account's credentials only, a known role not
// refusing, RoleSessionName 2 to 64 of [\w.@-], DurationSeconds 900 to
// 3600, ExternalId (when sent) 2 to 1,224 of [\w+=,.@:/-] and the role's
// own when it names one, Policy (when sent) a JSON policy document of at
// most 2,048 characters. These are STS's documented rules.
func (s *Server) assumeRole(p url.Values, requestID string, now time.Time) (any, *apiError) {
	duration, apiErr := readAssumeRole(p)
	if apiErr != nil {
		return nil, apiErr
	}
	arn := p.Get("RoleArn")
	role, apiErr := s.grantRole(p, arn)
	if apiErr != nil {
		return nil, apiErr
	}
	cred := Credential{AccessKeyID: "STS." + randomText(12), AccessKeySecret: randomText(22), SecurityToken: "CAIS" + randomText(60),
		AccountID: accountOfArn(arn)}
	s.AddCredential(cred)
	expiration := now.Add(time.Duration(duration) * time.Second).UTC().Format(timestampOfAPI)
	if role.Expiration != "" {
		expiration = role.Expiration
	}
	return assumeRoleResponse{RequestID: requestID,
		AssumedRoleUser: assumedRoleUser{AssumedRoleID: "3" + randomText(8) + ":" + p.Get("RoleSessionName"), Arn: arn},
		Credentials: stsCredentials{AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, SecurityToken: cred.SecurityToken,
			Expiration: expiration}}, nil
}

// readAssumeRole checks AssumeRole's parameters by STS's rules (see
// assumeRole) and returns DurationSeconds, 3600 when not sent.
func readAssumeRole(p url.Values) (duration int, apiErr *apiError) {
	for _, name := range []string{"RoleArn", "RoleSessionName"} {
		if p.Get(name) == "" {
			return 0, missingParameter(name)
		}
	}
	if n := p.Get("RoleSessionName"); len(n) < 2 || len(n) > 64 || !onlyChars(n, "_.@-") {
		return 0, &apiError{status: http.StatusBadRequest, code: "InvalidParameter.RoleSessionName", message: "The parameter RoleSessionName is wrongly formed."}
	}
	external, sentExternal := p["ExternalId"]
	if sentExternal && (len(external[0]) < 2 || len(external[0]) > 1224 || !onlyChars(external[0], "_+=,.@:/-")) {
		return 0, &apiError{status: http.StatusBadRequest, code: "InvalidParameter.ExternalId", message: "The parameter ExternalId is wrongly formed."}
	}
	if policy, ok := p["Policy"]; ok && !validPolicy(policy[0]) {
		return 0, &apiError{status: http.StatusBadRequest, code: "InvalidParameter.PolicyGrammar", message: "The parameter Policy has not passed grammar check."}
	}
	duration = 3600
	if v := p.Get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 900 || n > 3600 {
			return 0, &apiError{status: http.StatusBadRequest, code: "InvalidParameter.DurationSeconds", message: "The parameter DurationSeconds is wrongly formed."}
		}
		duration = n
	}
	return duration, nil
}

// grantRole finds the role arn names and says whether the caller may
// assume it: only with the home account's credentials, a role that does
// not refuse, and the role's ExternalId when it names one.
func (s *Server) grantRole(p url.Values, arn string) (*Role, *apiError) {
	s.mu.Lock()
	caller := s.creds[p.Get("AccessKeyId")]
	s.mu.Unlock()
	var role *Role
	for i := range s.opts.Roles {
		if s.opts.Roles[i].Arn == arn {
			role = &s.opts.Roles[i] // the first: Options.Roles before the fleet's
			break
		}
	}
	switch {
	case accountOfArn(arn) == "":
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidParameter.RoleArn", message: "The parameter RoleArn is wrongly formed."}
	case role == nil:
		return nil, &apiError{status: http.StatusNotFound, code: "EntityNotExist.Role", message: "The role not exists: " + arn + "."}
	case caller.AccountID != "" || role.Refuse != "" || (role.ExternalID != "" && p.Get("ExternalId") != role.ExternalID):
		code := role.Refuse
		if code == "" {
			code = "NoPermission"
		}
		return nil, &apiError{status: http.StatusForbidden, code: code,
			message: "You are not authorized to do this action. You should be authorized by RAM."}
	}
	return role, nil
}

// onlyChars says whether s holds only letters, digits and the bytes of extra.
func onlyChars(s, extra string) bool {
	for i := range len(s) {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte(extra, c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validPolicy says whether p is a RAM policy document as STS checks one: at
// most 2,048 characters of JSON with a Version and Allow or Deny statements
// naming actions.
func validPolicy(p string) bool {
	var doc struct {
		Version   string
		Statement []struct {
			Effect string
			Action json.RawMessage
		}
	}
	if len(p) == 0 || len(p) > 2048 || json.Unmarshal([]byte(p), &doc) != nil || doc.Version == "" || len(doc.Statement) == 0 {
		return false
	}
	for _, st := range doc.Statement {
		if (st.Effect != "Allow" && st.Effect != "Deny") || len(st.Action) == 0 {
			return false
		}
	}
	return true
}

// randomText is n random bytes in hex.
func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Assumed returns the credentials AssumeRole handed out so far, by account.
func (s *Server) Assumed() map[string][]Credential {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]Credential{}
	for _, c := range s.creds {
		if c.AccountID != "" {
			out[c.AccountID] = append(out[c.AccountID], c)
		}
	}
	return out
}
