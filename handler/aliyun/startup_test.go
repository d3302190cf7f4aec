package aliyun

import (
	"regexp"
	"testing"

	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
)

// The check that replaced a regexp compiled at start-up accepts
// exactly what the regexp did (the handler tests the other checks so).
func TestHostSafeRegionMatchesItsRegexp(t *testing.T) {
	ecsapitest.MatchesRegexp(t, regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`), hostSafeRegion)
}
