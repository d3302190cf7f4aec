package notify

import "testing"

// Vectors computed outside Go (Python's hmac, hashlib, base64 and
// urllib.parse.quote_plus, following each robot's documented sample code),
// so that these tests do not check the code against itself.
func TestSignaturesMatchIndependentVectors(t *testing.T) {
	// DingTalk: key = secret, message = "<timestamp ms>\n<secret>".
	if got := dingTalkSign("SEC0123456789abcdef", 1700000000123); got != "V9VP5gL2WDsEZvZQHnbd9k4n+p56ibcLMh+WKMZRQas=" {
		t.Errorf("DingTalk sign %q", got)
	}
	// Lark: key = "<timestamp s>\n<secret>", message empty.
	if got := larkSign("larksecret", 1700000000); got != "9tAorv8A/4Mb2NzIxVauBMTDHC2MjRxDs/a0kZWnTWE=" {
		t.Errorf("Lark sign %q", got)
	}
	// Generic (DESIGN §6): key = secret, message = "<timestamp s>.<body>".
	if got := genericSign("notify-secret", 1700000000, []byte(`{"a":1}`)); got != "sha256=143ea9d9b8ab05a118800c2e11d299ec5d515bd8cd408992d86e740b145b5336" {
		t.Errorf("generic sign %q", got)
	}
}
