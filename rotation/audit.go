package rotation

import "time"

// EventType names an audited decision or step.
type EventType string

// Audited steps of a rotation. The "-ing" events are recorded before the
// action they announce; the others after the outcome is known.
const (
	EventRequested      EventType = "rotation.requested"
	EventAllowed        EventType = "rotation.allowed"
	EventDenied         EventType = "rotation.denied"
	EventApproved       EventType = "approval.approved"
	EventRejected       EventType = "approval.rejected"
	EventExpired        EventType = "approval.expired"
	EventSuperseded     EventType = "approval.superseded"
	EventStarted        EventType = "rotation.started"
	EventConfigChanged  EventType = "config.changed"
	EventAdding         EventType = "password.adding"
	EventAdded          EventType = "password.added"
	EventOrphanRemoving EventType = "password.orphan-removing"
	EventStoring        EventType = "vault.storing"
	EventStored         EventType = "vault.stored"
	EventVerified       EventType = "password.verified"
	EventRetireSchedule EventType = "retirement.scheduled"
	EventRetiring       EventType = "password.retiring"
	EventRetired        EventType = "password.retired"
	EventRollingBack    EventType = "rotation.rolling-back"
	EventRolledBack     EventType = "rotation.rolled-back"
	EventFailed         EventType = "rotation.failed"
	EventRecovering     EventType = "rotation.recovering"
	EventCompleted      EventType = "rotation.completed"
)

// Event is one entry of the audit trail. It carries IDs, public hints and
// words for people; never a secret value.
type Event struct {
	Time      time.Time
	Type      EventType
	RequestID string
	ClientID  string
	Actor     string // who caused it: the requester, the approver, "keyturn"
	KeyID     string
	Hint      string
	Vault     string // a secret URI, versioned when known
	Detail    string
	// Ref is the reference of the interaction that caused the event (a
	// Teams message or click), as quoted in the reply and logged as
	// request_id: the one ID that finds the reply, the log line and the
	// audit record. Empty for the scheduler's own work.
	Ref string
}
