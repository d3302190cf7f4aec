package plan

import "time"

// Rules are what the configuration says to planning (DESIGN §6): the
// limits, the allow-lists, the defaults, expiry and the skip dates.
type Rules struct {
	MaxInstances    int
	MaxEventAge     time.Duration // 0: events never expire
	DefaultRegionID string
	AllowedRegions  map[string]bool
	AllowedIDs      map[string]bool
	AllowedRoles    map[string]bool
	// RestartTag says whether RESTART_TAG is set: without it, ECS
	// state-change events are ignored.
	RestartTag bool
	DryRunOnly bool
	SkipDates  []string
	TimeZone   *time.Location
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
