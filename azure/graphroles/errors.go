package graphroles

import (
	"log/slog"

	"github.com/keyturn/keyturn/azure/internal/graphcore"
	"github.com/keyturn/keyturn/rotation"
)

// kind classifies a failed request.
type kind int

const (
	kindRejected    kind = iota // a 4xx without a more specific meaning
	kindNotSent                 // never reached the transport
	kindTransport               // sent, then no usable answer
	kindUnreadable              // a 2xx whose body could not be read
	kindThrottled               // 429
	kindUnavailable             // 503, 504
	kindServer                  // other 5xx
	kindUnknownUser             // 404 on /users/{id}/...
	kindUnknownSP               // 404 on /servicePrincipals/{id}/...
	kindPermission              // 403: a Graph permission is missing
	kindNotFound                // 404 on another object (group, app, policy)
)

// Words implements graphcore.Kind: what k means, for the start of an error
// line.
func (k kind) Words() string {
	switch k {
	case kindNotSent:
		return "graph request not sent"
	case kindTransport:
		return "graph did not answer"
	case kindUnreadable:
		return "graph's answer could not be read"
	case kindThrottled:
		return "graph throttled the request"
	case kindUnavailable:
		return "graph is unavailable"
	case kindServer:
		return "graph failed"
	case kindUnknownUser:
		return "user unknown"
	case kindUnknownSP:
		return "service principal unknown"
	case kindPermission:
		return "graph permission missing"
	case kindNotFound:
		return "no such object"
	}
	return "graph refused the request"
}

// RetryClass implements graphcore.Kind. Every request here is a read or a
// safe POST: 503 and 504 are retried as well as 429.
func (k kind) RetryClass() graphcore.RetryClass {
	switch k {
	case kindThrottled:
		return graphcore.RetryThrottled
	case kindUnavailable:
		return graphcore.RetryUnavailable
	}
	return graphcore.NoRetry
}

// Least-privileged Microsoft Graph application permissions, per call, as
// Microsoft's API reference lists them for reading another user's data.
const (
	// transitiveMemberOf of another user: User.Read.All. The directory
	// roles in it come back as bare IDs ("limited information") unless
	// the app may read directory roles: RoleManagement.Read.Directory.
	permRoles = "keyturn needs the Microsoft Graph application permissions User.Read.All " +
		"(a user's memberships) and RoleManagement.Read.Directory (directory roles), admin-consented"
	// checkMemberGroups for another user: User.Read.All and GroupMember.Read.All.
	permGroups = "keyturn needs the Microsoft Graph application permissions User.Read.All and " +
		"GroupMember.Read.All (checkMemberGroups), admin-consented"
	// appRoleAssignedTo of a service principal: Application.Read.All.
	permAppRoles = "keyturn needs the Microsoft Graph application permission Application.Read.All " +
		"(the app role assignments of its own service principal), admin-consented"
	// ownedObjects of Keyturn's own service principal, for the radar.
	permOwned = "keyturn needs the Microsoft Graph application permission Application.ReadWrite.OwnedBy " +
		"(or Application.Read.All) to list the applications it owns, admin-consented"
)

// call describes one request for translate, the retry loop and logs.
type call struct {
	name      string // "list directory roles", ...
	target    string // the user's or the service principal's object ID
	targetKey string // its log key: user_oid or sp_object_id
	perm      string // what a 403 means
}

func (c call) op() graphcore.Op {
	return graphcore.Op{Name: c.name, Attrs: []slog.Attr{slog.String(c.targetKey, c.target)}, Idempotent: true}
}

// roleError is a translated failure: graphcore's Error with this package's
// kinds. Its text holds status, OData code, request IDs and what is
// missing, never a response body.
type roleError = graphcore.Error[kind]

var _ graphcore.Failure = (*roleError)(nil)

// translate is the one place that turns what the SDK and the wire reported
// for one request of c into an error that says what went wrong.
func translate(err error, x *graphcore.Exchange, c call) *roleError {
	f := graphcore.Inspect(err, x)
	e := graphcore.NewError[kind](f)
	switch {
	case !f.Sent:
		// Token acquisition, request building or a context that ended
		// first: nothing reached the wire.
		e.Kind, e.Cause = kindNotSent, err
		if ctxErr := graphcore.ContextError(err); ctxErr != nil {
			e.Cause = ctxErr
		}
	case f.Status == 0:
		// Sent, no answer. Transport and context errors name only the URL,
		// which holds validated IDs.
		e.Kind, e.Cause = kindTransport, err
	case f.Status < 400:
		// Its text is not kept: it may quote the body.
		e.Kind = kindUnreadable
	case f.Status == 429:
		e.Kind, e.Sentinel = kindThrottled, rotation.ErrThrottled
	case f.Status == 404 && c.targetKey == keySP:
		e.Kind = kindUnknownSP
		e.Advice = "no service principal " + c.target + " in the directory; " +
			"ServicePrincipalID must be the object ID of keyturn's enterprise application, not its client ID"
	case f.Status == 404 && c.targetKey != keyUser:
		e.Kind = kindNotFound
	case f.Status == 404:
		e.Kind = kindUnknownUser
		e.Advice = "user " + c.target + " is unknown to the directory"
	case f.Status == 403:
		e.Kind, e.Advice = kindPermission, c.perm
	case f.Status == 503, f.Status == 504:
		e.Kind = kindUnavailable
	case f.Status >= 500:
		e.Kind = kindServer
	default:
		e.Kind = kindRejected
	}
	return e
}
