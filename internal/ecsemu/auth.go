package ecsemu

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // G505: HMAC-SHA1 is what ECS signature version 1.0 specifies
	"crypto/subtle"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Credential is an AccessKey the server accepts. An AccessKeyID that starts
// with "STS." is a temporary one: requests must carry its SecurityToken.
type Credential struct {
	AccessKeyID     string `json:"accessKeyId"`
	AccessKeySecret string `json:"accessKeySecret"`
	SecurityToken   string `json:"securityToken,omitempty"`
	// Expired makes every request with this STS credential fail with
	// InvalidSecurityToken.Expired.
	Expired bool `json:"expired,omitempty"`
	// AccountID is the account the credential acts in; empty: the home
	// account. ECS answers it only about that account's instances.
	AccountID string `json:"accountId,omitempty"`
}

const (
	apiVersion = "2014-05-26"
	// clockSkew is how far a request's Timestamp may be from the server's
	// clock, both ways, as ECS allows.
	clockSkew      = 15 * time.Minute
	timestampOfAPI = "2006-01-02T15:04:05Z"
)

// percentEncode is the RFC 3986 encoding that signature version 1.0 uses:
// url.QueryEscape, with a space as %20, '*' encoded and '~' left alone.
func percentEncode(s string) string {
	s = url.QueryEscape(s)
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "*", "%2A")
	return strings.ReplaceAll(s, "%7E", "~")
}

// StringToSign is what signature version 1.0 signs: the HTTP method, the
// encoded "/", and the encoded canonical query of every parameter but
// Signature, sorted by name.
func StringToSign(method string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	pairs := make([]string, 0, len(keys))
	for _, k := range keys {
		pairs = append(pairs, percentEncode(k)+"="+percentEncode(params.Get(k)))
	}
	return method + "&" + percentEncode("/") + "&" + percentEncode(strings.Join(pairs, "&"))
}

// Sign returns the signature of params for a request by method, signed with
// accessKeySecret: base64(HMAC-SHA1(accessKeySecret + "&", StringToSign)).
// Tests that build requests by hand use it; the SDK computes the same.
func Sign(method string, params url.Values, accessKeySecret string) string {
	mac := hmac.New(sha1.New, []byte(accessKeySecret+"&"))
	mac.Write([]byte(StringToSign(method, params)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// authenticate checks the common parameters of a request and returns the
// AccessKeyId it was made with, or the error ECS would answer. The nonce is
// consumed only by a request whose signature is valid.
func (s *Server) authenticate(method string, p url.Values, now time.Time) *apiError {
	for _, name := range []string{"AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"} {
		if p.Get(name) == "" {
			return missingParameter(name)
		}
	}
	if p.Get("SignatureMethod") != "HMAC-SHA1" {
		return ecsError("InvalidSignatureMethod", "")
	}
	if p.Get("SignatureVersion") != "1.0" {
		return ecsError("InvalidSignatureVersion", "")
	}
	ts, err := time.Parse(timestampOfAPI, p.Get("Timestamp"))
	if err != nil {
		return ecsError("InvalidTimeStamp.Format", "")
	}
	if d := now.Sub(ts); d > clockSkew || d < -clockSkew {
		return ecsError("InvalidTimeStamp.Expired", "")
	}

	akID := p.Get("AccessKeyId")
	token := p.Get("SecurityToken")
	s.mu.Lock()
	cred, ok := s.creds[akID]
	tokenOwner, tokenKnown := s.tokens[token]
	s.mu.Unlock()
	if !ok {
		return ecsError("InvalidAccessKeyId.NotFound", "")
	}
	switch {
	case strings.HasPrefix(akID, "STS.") && token == "":
		return ecsError("MissingSecurityToken", "")
	case token != "" && token != cred.SecurityToken:
		// A token issued with another AccessKey is a mismatch; anything
		// else is not a token STS issued at all.
		if tokenKnown && tokenOwner != akID {
			return ecsError("InvalidSecurityToken.MismatchWithAccessKey", "")
		}
		return ecsError("InvalidSecurityToken.Malformed", "")
	case token != "" && cred.Expired:
		return ecsError("InvalidSecurityToken.Expired", "")
	}

	stringToSign := StringToSign(method, p)
	want := Sign(method, p, cred.AccessKeySecret)
	if subtle.ConstantTimeCompare([]byte(want), []byte(p.Get("Signature"))) != 1 {
		// ECS appends its StringToSign to the message; the SDK compares it
		// with its own to tell a wrong secret from a signing bug.
		return ecsError("SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:"+stringToSign)
	}
	if !s.useNonce(p.Get("SignatureNonce"), now) {
		return ecsError("SignatureNonceUsed", "")
	}
	return nil
}

// useNonce records nonce and reports whether it was new. Nonces are kept as
// long as a Timestamp could replay them, then forgotten.
func (s *Server) useNonce(nonce string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, used := s.nonces[nonce]; used {
		return false
	}
	// Nonces are forgotten in the order they came, once past the window
	// in which a replay's timestamp would still pass: a queue, so that a
	// call never walks the whole map (it did, on every call past 4,096
	// fresh nonces).
	for len(s.nonceQueue) > 0 && now.Sub(s.nonceQueue[0].at) > 2*clockSkew {
		delete(s.nonces, s.nonceQueue[0].nonce)
		s.nonceQueue = s.nonceQueue[1:]
	}
	s.nonces[nonce] = now
	s.nonceQueue = append(s.nonceQueue, usedNonce{nonce, now})
	return true
}

// usedNonce is a nonce and when it was used, in the order of use.
type usedNonce struct {
	nonce string
	at    time.Time
}
