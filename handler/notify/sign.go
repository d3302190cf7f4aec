package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
)

// dingTalkSign is DingTalk's custom robot signature: base64 of
// HMAC-SHA256 keyed with the secret over "<timestamp ms>\n<secret>". The
// caller puts it in the `sign` query parameter, URL-escaped.
func dingTalkSign(secret string, ms int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ms, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// larkSign is Lark's (Feishu's) custom bot signature: base64 of
// HMAC-SHA256 keyed with "<timestamp s>\n<secret>" over an empty message.
// It goes in the body's `sign`, beside `timestamp`.
func larkSign(secret string, sec int64) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(sec, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// genericSign is the signature of DESIGN §6's webhooks: hex HMAC-SHA256 of
// "<timestamp s>.<body>" keyed with the secret, sent as
// `X-Signature-256: sha256=<hex>` beside `X-Signature-Timestamp`.
func genericSign(secret string, sec int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(sec, 10) + "."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
