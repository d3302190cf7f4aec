package ecsapi

import (
	"context"
	"time"
)

// AssumeRoleInput is one STS AssumeRole call (DESIGN §3.1, roleArn).
type AssumeRoleInput struct {
	RoleArn         string
	RoleSessionName string
	DurationSeconds int
	// ExternalID is ROLE_EXTERNAL_ID, "" when unset; never logged.
	ExternalID string
	// Policy is the session policy: the assumed credentials may do no more
	// than it allows, whatever the role's own policy allows.
	Policy string
	// Region is the function's own region, the {regionId} of STS_ENDPOINT
	// (DESIGN §6); not a parameter of the call.
	Region string
}

// AssumedRole is what AssumeRole hands out: the role's credentials, until
// Expiration (zero when STS gave none that could be read).
type AssumedRole struct {
	Credentials Credentials
	Expiration  time.Time
	RequestID   string
}

// STS is what the handler needs of STS: AssumeRole with the function's
// credentials. Errors are those of the ECS interface (*APIError with STS's
// code, *NetworkError, *PermanentError), never holding a secret.
type STS interface {
	AssumeRole(ctx context.Context, creds Credentials, in AssumeRoleInput) (*AssumedRole, error)
}
