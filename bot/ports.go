package bot

import (
	"context"

	"github.com/keyturn/keyturn/bot/activity"
	"github.com/keyturn/keyturn/bot/botauth"
	"github.com/keyturn/keyturn/bot/connector"
	"github.com/keyturn/keyturn/rotation"
)

// Authenticator validates the bearer token of an incoming activity
// (botauth.Validator). Errors map to HTTP status with botauth.HTTPStatus.
type Authenticator interface {
	Validate(ctx context.Context, authHeader, channelID, serviceURL string) (botauth.Claims, error)
}

// Sender writes into conversations (connector.Client).
type Sender interface {
	ReplyToActivity(ctx context.Context, ref activity.ConversationReference, replyToID string, act connector.Activity) (string, error)
	UpdateActivity(ctx context.Context, ref activity.ConversationReference, activityID string, act connector.Activity) error
	SendToConversation(ctx context.Context, ref activity.ConversationReference, act connector.Activity) (string, error)
	SendTyping(ctx context.Context, ref activity.ConversationReference) error
}

// Rotations is the part of *rotation.Rotator the bot drives.
type Rotations interface {
	Rotate(ctx context.Context, req rotation.Request) (rotation.Result, error)
	Status(ctx context.Context, clientID string, refs ...rotation.SecretRef) (rotation.Status, error)
	Retire(ctx context.Context, opts rotation.RetireOptions) ([]rotation.Retirement, error)
}

// Target is what a command's <app> [into <vault>] resolves to.
type Target struct {
	Name         string // the alias people typed, or the client ID
	ClientID     string
	VaultURI     string
	ClientIDName string // vault secret names; empty: rotation's defaults
	SecretName   string
}

// Catalog resolves an app alias or client ID, and an optional vault, to a
// Target. Errors wrap rotation.ErrInvalid or rotation.ErrVaultNotAllowed
// and say what is wrong in words for the person who typed it.
type Catalog interface {
	Resolve(app, vault string) (Target, error)
}

// Caller is the person behind an activity, as Teams identifies them: the
// Entra object ID and tenant, never the display name, decide.
type Caller struct {
	ObjectID string
	TenantID string
	Name     string // display name, for messages only
}

// Action is something a caller may or may not do.
type Action string

// The actions the bot authorizes.
const (
	ActionRotate Action = "rotate"
	ActionRetire Action = "retire"
	ActionStatus Action = "status"
)

// Decision is an authorization outcome.
type Decision struct {
	Allowed bool
	Reason  string   // why not, in words for the caller
	Roles   []string // the roles the caller holds, for whoami
}

// Authorizer decides whether a caller may take an action on an app.
// A lookup failure is an error, which the bot treats as a denial.
type Authorizer interface {
	Authorize(ctx context.Context, c Caller, a Action, clientID string) (Decision, error)
}

// References keeps conversation references learnt from authenticated
// activities, for proactive messages.
type References interface {
	SaveReference(ctx context.Context, ref activity.ConversationReference) error
	DeleteReference(ctx context.Context, conversationID string) error
}

// Deduper remembers activities already taken, because Teams re-delivers.
type Deduper interface {
	// FirstSeen records key and reports whether it was new.
	FirstSeen(ctx context.Context, key string) (bool, error)
	// Forget drops key, so a re-delivery is taken after all (used when the
	// work could not be queued).
	Forget(ctx context.Context, key string) error
}
