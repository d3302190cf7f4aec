package handler

import (
	"strings"
	"testing"

	"github.com/start-ecs/start-ecs/events"
	"github.com/start-ecs/start-ecs/handler/plan"
)

// DESIGN §3.1: a zone (a request's timeZone, TIME_ZONE) is UTC or an
// Area/Location name of the embedded database, resolved from it alone:
// localtime is the machine's own zone (what refusing Local meant to
// prevent), and posixrules, Factory, right/… and posix/… are no place's
// zone.
func TestZoneIsUTCOrAreaLocation(t *testing.T) {
	bad := []string{"Local", "localtime", "posixrules", "Factory", "right/UTC", "right/Asia/Shanghai",
		"posix/Asia/Shanghai", "EST5EDT", "GMT", "/etc/localtime", "utc"}
	for _, zone := range bad {
		errs := plan.Validate(events.StartRequest{InstanceIDs: []string{"i-bp67acfmxazb4p0001"}, TimeZone: zone})
		if len(errs) != 1 || errs[0].Field != "timeZone" || !strings.Contains(errs[0].Message, "Area/Location") {
			t.Errorf("timeZone %q: %+v, want it refused", zone, errs)
		}
		if _, err := ConfigFromEnv(envOf(map[string]string{"TIME_ZONE": zone})); err == nil || !strings.Contains(err.Error(), "TIME_ZONE") {
			t.Errorf("TIME_ZONE=%q: %v, want a configuration error naming it", zone, err)
		}
	}
	for _, zone := range []string{"UTC", "Asia/Shanghai", "Pacific/Pago_Pago", "Etc/GMT-8"} {
		if errs := plan.Validate(events.StartRequest{InstanceIDs: []string{"i-bp67acfmxazb4p0001"}, TimeZone: zone}); len(errs) > 0 {
			t.Errorf("timeZone %q: %+v", zone, errs)
		}
		c, err := ConfigFromEnv(envOf(map[string]string{"TIME_ZONE": zone}))
		if err != nil || c.TimeZone.String() != zone {
			t.Errorf("TIME_ZONE=%q: %v %v", zone, c.TimeZone, err)
		}
	}
}
