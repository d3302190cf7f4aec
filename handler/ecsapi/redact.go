package ecsapi

import (
	"regexp"
	"strings"
	"sync"
)

// RedactSecrets removes from s what could let its reader act with
// credentials it does not name: ECS's echo of the StringToSign (which holds
// the SecurityToken), the query of signed URLs, and the secret parameters
// (Signature, SecurityToken, AccessKeySecret) plain, URL-encoded or as
// JSON. It is the one remover of secrets from text: the adapters' scrubber
// applies it before removing the caller's own secrets wherever they appear,
// and the starter applies it to an error of no known type (DESIGN §7).
func RedactSecrets(s string) string {
	if i := strings.Index(s, stringToSignMarker); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	if mayHoldSecretParams(s) {
		s = signedQueryRE().ReplaceAllString(s, "$1?[redacted]")
		s = secretParamRE().ReplaceAllString(s, "$1[redacted]")
	}
	return s
}

// The regexps are compiled on first use, not at start-up.
var (
	// signedQueryRE finds URLs with a query: the query of a signed request
	// holds the SecurityToken and the Signature.
	signedQueryRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)(\b[a-z][a-z0-9+.-]*://[^\s?"'<>]*)\?[^\s"'<>]*`)
	})
	// secretParamRE finds the secret parameters by name, plain, URL-encoded
	// once (a query) or twice (a StringToSign), or as JSON.
	secretParamRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)((?:Signature|SecurityToken|AccessKeySecret)(?:=|%3D|%253D|"\s*:\s*"))[^&\s"'<>]*`)
	})
)

// mayHoldSecretParams says whether s could match signedQueryRE or
// secretParamRE, so that the fields of a plain answer (IDs, codes, statuses)
// skip both: the names and "://" are ASCII, and a text that is all ASCII
// without them matches neither. A text with other bytes goes through the
// regexps, whose (?i) also folds letters like U+017F to ASCII.
func mayHoldSecretParams(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	if strings.Contains(s, "://") {
		return true
	}
	low := strings.ToLower(s) // ASCII only here
	return strings.Contains(low, "signature") || strings.Contains(low, "securitytoken") || strings.Contains(low, "accesskeysecret")
}

const stringToSignMarker = "server string to sign is:"
