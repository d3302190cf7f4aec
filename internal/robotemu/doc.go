// Package robotemu is an emulator of the chat robots start-ecs notifies — a
// DingTalk custom robot, a Lark/Feishu custom bot, a WeCom group robot, a
// Slack incoming webhook — and of a generic signed-JSON receiver, as one real
// HTTP server, for the end-to-end tests and the local runner. It checks what
// each robot documents and answers with each robot's own codes, so that a
// sender is tested against the robot's rules, not against a fake that takes
// anything.
//
// # Kinds
//
// The kind follows the path; the token names the robot (Robot.Token):
//
//   - DingTalk: POST /robot/send?access_token=T. A robot with a Secret
//     needs timestamp (milliseconds, within an hour of the server's clock,
//     else 310000 "invalid timestamp") and sign = the URL-escaped
//     base64(HMAC-SHA256(key secret, "<timestamp>\n<secret>")) (else
//     310000 "sign not match"). The body is msgtype "markdown" (title and
//     text) or "text" (content), else 300001 "param error"; over 20,000
//     bytes is 460101. Keywords missing: 310000 "keywords not in content".
//     Unknown token: 300005 "token is not exist". Over 20 a minute: 130101
//     "send too fast, exceed 20 times per minute", and the robot then
//     refuses everything for ten minutes (ten windows), as documented. Taken:
//     {"errcode":0,"errmsg":"ok"}. Every answer is HTTP 200.
//   - Lark: POST /open-apis/bot/v2/hook/T. A robot with a Secret needs
//     timestamp (seconds, a string or a number, within an hour) and sign =
//     base64(HMAC-SHA256(key "<timestamp>\n<secret>", empty message)) in the
//     body, else 19021. msg_type "text", "post" or "interactive" (a card of
//     v1 elements or v2 body.elements), else, or a body that is not JSON,
//     9499 "Bad Request"; keywords 19024 "Key Words Not Found"; unknown
//     token 19001; over 100 a minute 11232 "frequency limited …". Taken:
//     {"code":0,"msg":"success","data":{},"Extra":null,"StatusCode":0,"StatusMessage":"success"};
//     refusals {"code":N,"data":{},"msg":…}, HTTP 200.
//   - WeCom: POST /cgi-bin/webhook/send?key=K, unsigned. msgtype "markdown"
//     (content up to 4,096 bytes), "markdown_v2" (4,096) or "text" (2,048):
//     over is 40058, empty 44004; image, news, file, voice and template_card
//     are taken unread; any other type, or a body that is not JSON, 40008
//     "invalid message type". Unknown key 93000 "invalid webhook url, …";
//     over 20 a minute 45009 "api freq out of limit". HTTP 200 throughout.
//   - Slack: POST /services/T…/B…/…, unsigned, JSON (or a form field
//     payload) with text and/or blocks. Not JSON: 400 invalid_payload;
//     neither: 400 no_text; blocks not a list: 400 invalid_blocks; unknown
//     path: 404 no_service; over 60 a minute (Slack documents one a second):
//     429 rate_limited with Retry-After in seconds. Taken: 200 "ok".
//   - Generic: POST to any other path. A receiver with a Secret needs
//     X-Signature-Timestamp (seconds, within 300 s) and X-Signature-256 =
//     "sha256=" + hex(HMAC-SHA256(secret, "<timestamp>.<body>")), else 401
//     signature_mismatch; the body must be JSON, else 400 body_not_json.
//     Taken: 200 {"ok":true}.
//
// The checks run in the order: injected fault, method, robot known, fault
// Code, rate limit, signature, format, keywords. Only messages taken count
// toward a rate limit, in a sliding window of Options.Window (one minute).
//
// # Faults
//
// SetFault, per token or for every robot: Down closes the connection
// without an answer; Status answers that HTTP status (503) before any
// check; Delay holds the answer (a client that gives up first gets
// nothing); Code and Msg answer the robot's own error shape (for Slack and
// generic, Code is the HTTP status). Close refuses connections altogether.
//
// # Records
//
// Messages returns every request, taken or not: kind, token, the body and
// its JSON, the message type, the title and text as a person reads them
// (PlainText), whether a signature came and checked, the answer's status
// and code, and the fault that answered. Render prints one as it would show
// in the group, for the local runner.
//
// # Limits
//
// Error messages are the robots' documented or commonly reported ones, not
// captures of every variant (DingTalk appends a link to some; WeCom a hint
// and the caller's IP). WeCom's answer to unparsable JSON and DingTalk's to
// a malformed body are not documented; the emulator uses 40008 and 300001.
// IP allow-lists, @-mentions and images are not checked.
//
// # Use
//
//	robots := robotemu.New(robotemu.Options{Robots: []robotemu.Robot{
//		{Kind: robotemu.DingTalk, Token: "t", Secret: "SECx"},
//	}})
//	robots.Start()
//	defer robots.Close()
//	notifyURLs := "dingtalk=" + robots.URLFor(robotemu.DingTalk, "t") + "#SECx"
//	// … run, then assert on robots.Messages() or print robotemu.Render(m)
package robotemu
