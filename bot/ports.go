package bot

import (
	"context"
	"time"

	"github.com/keyturn/keyturn/bot/activity"
	"github.com/keyturn/keyturn/bot/botauth"
	"github.com/keyturn/keyturn/bot/connector"
	"github.com/keyturn/keyturn/rotation"
)

// Authenticator validates the bearer token of an incoming activity
// (botauth.Validator). Errors map to HTTP status with botauth.HTTPStatus.
// A seam: emulator mode has none, and tests sign with botauthtest.
type Authenticator interface {
	Validate(ctx context.Context, authHeader, channelID, serviceURL string) (botauth.Claims, error)
}

// Sender writes into conversations (connector.Client). A seam: the
// sandbox and tests answer the connector's calls themselves.
type Sender interface {
	ReplyToActivity(ctx context.Context, ref activity.ConversationReference, replyToID string, act connector.Activity) (string, error)
	UpdateActivity(ctx context.Context, ref activity.ConversationReference, activityID string, act connector.Activity) error
	SendToConversation(ctx context.Context, ref activity.ConversationReference, act connector.Activity) (string, error)
	SendTyping(ctx context.Context, ref activity.ConversationReference) error
}

// Rotations is the part of *rotation.Rotator the bot drives. A seam: a
// test holds Recover to keep a scheduler tick running past its lease's
// first term (TestSchedulerLeaseOutlivesALongTick).
type Rotations interface {
	Rotate(ctx context.Context, req rotation.Request) (rotation.Result, error)
	Status(ctx context.Context, clientID string, refs ...rotation.SecretRef) (rotation.Status, error)
	Retire(ctx context.Context, opts rotation.RetireOptions) ([]rotation.Retirement, error)
	Recover(ctx context.Context) ([]rotation.Result, error)
	Sweep(ctx context.Context) ([]rotation.Orphan, error)
}

// Target is what a command's <app> [into <vault>] resolves to.
type Target struct {
	Name         string // the alias people typed, or the client ID
	ClientID     string
	VaultURI     string
	ClientIDName string // vault secret names; empty: rotation's defaults
	SecretName   string
	Lifetime     time.Duration // zero: the policy's
	Overlap      time.Duration // zero: the policy's
	// Listed reports that the app is one the configuration names (by
	// alias or client ID); an unlisted client ID may still be rotated if
	// Keyturn owns the app.
	Listed bool
}

// Caller is the person behind an activity, as Teams identifies them: the
// Entra object ID and tenant, never the display name, decide.
type Caller struct {
	ObjectID string
	TenantID string
	Name     string // display name, for messages only
}

// MemberLister lists a conversation's members (connector.Client), so only
// approvers' clients refresh an approval card into its actionable form.
type MemberLister interface {
	ConversationMembers(ctx context.Context, ref activity.ConversationReference) ([]connector.Member, error)
}

// SharedState is the state the scheduler, the audit channel and proactive
// messages share across replicas (*kvstore.Store). It is an interface
// because bot must not import the store packages.
type SharedState interface {
	// SaveRef stores a conversation reference (JSON) under its
	// conversation; DeleteRef drops it.
	SaveRef(ctx context.Context, conversation string, data []byte) error
	DeleteRef(ctx context.Context, conversation string) error
	Acquire(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	Release(ctx context.Context, name, holder string) error
	Records(ctx context.Context, after uint64, limit int) ([]rotation.AuditRecord, error)
	AuditHead(ctx context.Context) (uint64, error)
	Posted(ctx context.Context) (uint64, string, error)
	SetPosted(ctx context.Context, seq uint64, etag string) (string, error)
	Setting(ctx context.Context, name string, v any) error
	SetSetting(ctx context.Context, name string, v any) error
	PruneSeen(ctx context.Context, age time.Duration) (int, error)
	// The card outbox: request IDs whose card must still reach Teams.
	CardPending(ctx context.Context, id string) (string, error)
	CardDone(ctx context.Context, id, etag string) error
	CardsPending(ctx context.Context, limit int) (map[string]string, error)
}

// Deduper remembers activities already taken, because Teams re-delivers
// (*kvstore.Store; an interface because bot must not import the store).
type Deduper interface {
	// FirstSeen records key durably and reports whether it was new; of
	// concurrent callers (several replicas included) exactly one sees it
	// new.
	FirstSeen(ctx context.Context, key string) (bool, error)
	// Forget drops key, so a re-delivery is taken after all (used when the
	// work could not be queued after a synchronous claim).
	Forget(ctx context.Context, key string) error
}
