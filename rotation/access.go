package rotation

import (
	"context"
	"fmt"
	"strings"
)

// Who may do what is decided in package policy (policy.Allow); this file
// holds the vocabulary the domain shares with it: where roles come from,
// the actions, and what a decision says.

// SourceKind says where in Entra ID a role comes from.
type SourceKind string

// Role sources.
const (
	// SourceDirectoryRole is a directory role (Entra built-in or custom),
	// by role template ID, held directly or through a group.
	SourceDirectoryRole SourceKind = "directoryRole"
	// SourceGroup is a security group, by object ID, with nested groups.
	SourceGroup SourceKind = "group"
	// SourceAppRole is an app role of Keyturn's own enterprise app, by app
	// role ID, assigned to the user or to a group the user is in.
	SourceAppRole SourceKind = "appRole"
)

// RoleSource is one place a permission comes from.
type RoleSource struct {
	Kind SourceKind
	ID   string // template ID, group object ID or app role ID
	Name string // for people: "Application Administrator", "sg-keyturn-approvers"
}

func (s RoleSource) String() string {
	if s.Name != "" {
		return fmt.Sprintf("%s %s", s.Kind, s.Name)
	}
	return fmt.Sprintf("%s %s", s.Kind, s.ID)
}

// Key identifies s by kind and lower-case ID (names are for people).
func (s RoleSource) Key() string { return string(s.Kind) + ":" + strings.ToLower(s.ID) }

// RoleAssignment is an app role assignment on Keyturn's service principal.
type RoleAssignment struct {
	AppRoleID     string
	PrincipalID   string
	PrincipalType string // "User", "Group" or "ServicePrincipal"
}

// RoleDirectory answers role questions about a user from Entra ID
// (Microsoft Graph). Implementations translate SDK errors; any error makes
// the caller deny.
type RoleDirectory interface {
	// DirectoryRoleTemplates returns the template IDs of the directory
	// roles userID holds, directly or through groups.
	DirectoryRoleTemplates(ctx context.Context, userID string) ([]string, error)
	// MemberGroups returns those of groupIDs that userID is a member of,
	// transitively.
	MemberGroups(ctx context.Context, userID string, groupIDs []string) ([]string, error)
	// AppRoleAssignments returns the assignments of Keyturn's service
	// principal whose app role is one of appRoleIDs.
	AppRoleAssignments(ctx context.Context, appRoleIDs []string) ([]RoleAssignment, error)
}

// Action is something a caller may or may not do; policy.Allow decides.
type Action string

// The actions the approval flow authorizes; package policy declares the
// others (the bot's commands) next to its decision table.
const (
	ActionRequest Action = "request" // ask for a rotation of an app
	ActionApprove Action = "approve" // approve or reject someone's request
)

// Authorizer decides whether a caller may take an action, and audits every
// decision, allowed or refused (*policy.Authorizer). It is an interface so
// that rotation imports nothing of ours: the decision lives in package
// policy.
type Authorizer interface {
	// Authorize decides a. It returns the decision and, when it is not
	// allowed, an error wrapping ErrDenied (a *DeniedError). A role lookup
	// failure refuses (fail closed). An allowed decision whose audit record
	// cannot be written returns ErrAuditFailed: no audit, no action.
	Authorize(ctx context.Context, a Attempt) (Decision, error)
}

// Attempt is what a caller tries to do.
type Attempt struct {
	Who       Principal
	Action    Action
	ClientID  string // the app acted on; empty for actions on no app
	RequestID string // the approval request, when there is one
}

// Decision is the answer to an Attempt: allowed or not, and which rule of
// the policy said so, with what issue 10's messages need to explain it.
type Decision struct {
	Attempt
	Allowed bool
	// Direct marks an allowed request the caller may also approve, for an
	// app whose policy needs no approval: it runs with no second person.
	Direct bool
	// Rule names the rule that decided, as the policy file spells it
	// ("roles.request", "apps.payments-api.approvers", "everyone"); for a
	// refusal, the rule that would have allowed it.
	Rule string
	// Needs lists the role sources any one of which allows the action.
	Needs []RoleSource
	// Held lists the caller's role sources that the policy names.
	Held []RoleSource
	// Why says in words why a refusal was not decided by roles: the roles
	// could not be read, or the request's state refused it.
	Why string
}

// Event is the audit record of d: the one path by which every decision,
// allowed or refused, reaches the audit trail.
func (d Decision) Event() Event {
	e := Event{Type: EventAllowed, RequestID: d.RequestID, ClientID: d.ClientID, Actor: d.Who.String()}
	verdict := "allowed"
	if !d.Allowed {
		e.Type, verdict = EventDenied, "refused"
	}
	e.Detail = verdict
	if d.Action != "" {
		e.Detail = string(d.Action) + " " + verdict
	}
	if d.Rule != "" {
		e.Detail += " by " + d.Rule
	}
	if d.Why != "" {
		e.Detail += ": " + d.Why
	}
	return e
}

// DeniedError is a refused Decision as an error: it wraps ErrDenied, and
// the lookup error when the roles could not be read.
type DeniedError struct {
	Decision Decision
	Err      error // the role lookup's failure, or nil
}

func (e *DeniedError) Error() string {
	msg := fmt.Sprintf("%s: %s", ErrDenied, e.Decision.Action)
	if e.Decision.Why != "" {
		msg += ": " + e.Decision.Why
	} else if e.Decision.Rule != "" {
		msg += " needs " + e.Decision.Rule
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns ErrDenied and the lookup error.
func (e *DeniedError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrDenied}
	}
	return []error{ErrDenied, e.Err}
}
