package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/start-ecs/start-ecs/handler"
	"github.com/start-ecs/start-ecs/internal/ecsemu"
)

// DESIGN §3.1 tags: the query spelling with Tag.N and no InstanceId is a start
// request wherever a request may stand. The README gives it as a timer's
// payload for the morning start: exactly that string, from the README, through
// the binary as a timer event, starts the dev fleet of cn-hangzhou.
func TestREADMETimerPayloadInQuerySpellingStartsTheTaggedFleet(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("`(RegionId=cn-hangzhou&Tag\\.1\\.Key=[^`]*)`").FindSubmatch(readme)
	if m == nil {
		t.Fatal("the README gives no timer payload in the query spelling with Tag.1")
	}
	payload := string(m[1])
	fl := fleet(t)
	want := map[string]bool{}
	for _, in := range fl.Instances {
		if in.RegionID == "cn-hangzhou" && in.Tags["env"] == "dev" {
			want[in.InstanceID] = true
		}
	}
	h := startWith(t, fl, nil, ecsemu.Options{})
	r := result(t, invoke(t, h, timerEvent(payload)))
	if len(r.Ignored) > 0 {
		t.Fatalf("timer payload %q: ignored %+v", payload, r.Ignored)
	}
	got := outcomes(r)
	for id := range want {
		if o := got[id].Outcome; o != handler.Started && o != handler.AlreadyRunning {
			t.Errorf("%s: %q, want Started or AlreadyRunning", id, o)
		}
	}
	if len(got) != len(want) || r.Summary.Started == 0 {
		t.Errorf("%d instances reported (%d started), want the %d of env=dev in cn-hangzhou", len(got), r.Summary.Started, len(want))
	}
}
