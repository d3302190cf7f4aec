package handler

import (
	"regexp"
	"testing"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
	"github.com/start-ecs/start-ecs/handler/ecsapi/ecsapitest"
	"github.com/start-ecs/start-ecs/handler/plan"
)

// The checks that replaced regexps compiled at start-up accept
// exactly what the regexps did.
func TestHandWrittenChecksMatchTheirRegexps(t *testing.T) {
	ecsapitest.MatchesRegexp(t, regexp.MustCompile(`^i-[a-z0-9]{6,30}$`), plan.ValidInstanceID)
	ecsapitest.MatchesRegexp(t, regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)+$`), ecsapi.ValidRegionID)
}
