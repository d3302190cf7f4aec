// Package plan turns an invocation's messages into a plan (DESIGN §3, §4):
// validation, expiry, regions, skip dates, the limits, the allow-lists,
// merging into one entry per instance, AllTogether groups, refusals, and the
// groups of a sequence; the facts a lookup brings (the instances a tag
// selection found) are handed to it as data (Commit). It never calls ECS:
// it imports neither the starter nor the adapters.
package plan

import (
	"time"

	"github.com/start-ecs/start-ecs/handler/ecsapi"
)

// Rules are what the configuration says to planning (DESIGN §6): the
// limits, the allow-lists, the defaults, expiry and the skip dates.
type Rules struct {
	MaxInstances    int
	MaxEventAge     time.Duration // 0: events never expire
	DefaultRegionID string
	AllowedRegions  map[string]bool
	AllowedIDs      map[string]bool
	AllowedRoles    map[string]bool
	// AllowedTag (ALLOWED_TAG) is the tag every instance must carry, nil
	// for none; RestartTag (RESTART_TAG) the one a stopped instance of an
	// ECS state-change event must carry, nil when unset: such events are
	// then ignored.
	AllowedTag, RestartTag *ecsapi.Tag
	DryRunOnly             bool
	SkipDates              []string
	TimeZone               *time.Location
	// Schedule is what a schedule tick reads of the configuration
	// (SCHEDULE_TAG_KEY, SCHEDULES, SKIP_DATES, WORK_DATES, TIME_ZONE), and
	// MaxScheduled (MAX_SCHEDULED; 0: DefaultMaxScheduled) bounds its
	// lookup (DESIGN §3.2).
	Schedule     ScheduleConfig
	MaxScheduled int
}

// maxScheduled is MAX_SCHEDULED as configured, else its default.
func (r Rules) maxScheduled() int {
	if r.MaxScheduled > 0 {
		return r.MaxScheduled
	}
	return DefaultMaxScheduled
}

// Invocation is what planning knows of the invocation: the function's own
// region and when the invocation started.
type Invocation struct {
	Region string
	Start  time.Time
}

// Planner turns an invocation's messages into a plan under Rules; it never
// calls ECS. Now is the clock (time.Now).
type Planner struct {
	Rules Rules
	Now   func() time.Time
}
