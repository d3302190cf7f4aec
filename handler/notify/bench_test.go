package notify

import (
	"encoding/json"
	"testing"
	"time"
)

// The CPU cost of building one message for a 1,000-instance result with 50
// problems and rendering and signing it for every kind (target: well under
// 1 ms; issue: ≤ 1 ms of CPU per invocation beyond the robot's round trip).
func BenchmarkBuildAndSign(b *testing.B) {
	r := fleet(1000, 50)
	targets := []Target{
		{Kind: DingTalk, Host: "h", url: "https://oapi.dingtalk.com/robot/send?access_token=T", secret: "SECx"},
		{Kind: Lark, Host: "h", url: "https://open.feishu.cn/open-apis/bot/v2/hook/x", secret: "s"},
		{Kind: WeCom, Host: "h", url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"},
		{Kind: Slack, Host: "h", url: "https://hooks.slack.com/services/x"},
		{Kind: Generic, Host: "h", url: "https://example.com/x", secret: "g"},
	}
	now := time.Now()
	b.Run("message", func(b *testing.B) {
		for b.Loop() {
			if _, err := NewMessage(r, ctx0); err != nil {
				b.Fatal(err)
			}
		}
	})
	enc, err := json.Marshal(r)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("message+generic+answer's JSON", func(b *testing.B) {
		for b.Loop() {
			m, err := NewMessage(r, ctx0)
			if err != nil {
				b.Fatal(err)
			}
			m.UseResultJSON(enc)
			if _, err := targets[4].request(b.Context(), m, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, tg := range targets {
		b.Run("message+"+string(tg.Kind), func(b *testing.B) {
			for b.Loop() {
				m, err := NewMessage(r, ctx0)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := tg.request(b.Context(), m, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
