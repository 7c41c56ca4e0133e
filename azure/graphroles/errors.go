package graphroles

import (
	"log/slog"
	"strings"
	"time"

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
)

// words says what k means, for the start of an error line.
func (k kind) words() string {
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
	}
	return "graph refused the request"
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

// roleError is a translated failure: status, OData code and request IDs,
// what is missing, never a response body.
type roleError struct {
	kind     kind
	sentinel error // a rotation sentinel, or nil
	facts    graphcore.Facts
	advice   string
	cause    error // transport or context error; never SDK response text
	attempts int
}

var _ graphcore.Failure = (*roleError)(nil)

func (e *roleError) Error() string {
	var b strings.Builder
	if e.sentinel != nil {
		b.WriteString(e.sentinel.Error())
	} else {
		b.WriteString(e.kind.words())
	}
	if d := e.facts.Details(e.attempts); d != "" {
		b.WriteString(" (" + d + ")")
	}
	if e.advice != "" {
		b.WriteString(": " + e.advice)
	}
	if e.cause != nil {
		b.WriteString(": " + e.cause.Error())
	}
	return b.String()
}

// Unwrap exposes the sentinel and the cause to errors.Is and errors.As.
func (e *roleError) Unwrap() []error {
	var errs []error
	if e.sentinel != nil {
		errs = append(errs, e.sentinel)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// RetryClass implements graphcore.Failure. Every request here is a read or
// a safe POST: 503 and 504 are retried as well as 429.
func (e *roleError) RetryClass() graphcore.RetryClass {
	switch e.kind {
	case kindThrottled:
		return graphcore.RetryThrottled
	case kindUnavailable:
		return graphcore.RetryUnavailable
	}
	return graphcore.NoRetry
}

// RetryAfter implements graphcore.Failure.
func (e *roleError) RetryAfter() (time.Duration, bool) {
	return e.facts.RetryAfter, e.facts.HasRetryAfter
}

// LogAttrs implements graphcore.Failure.
func (e *roleError) LogAttrs() []slog.Attr { return e.facts.LogAttrs() }

// SetAttempts implements graphcore.Failure.
func (e *roleError) SetAttempts(n int) { e.attempts = n }

// translate is the one place that turns what the SDK and the wire reported
// for one request of c into an error that says what went wrong.
func translate(err error, x *graphcore.Exchange, c call) *roleError {
	f := graphcore.Inspect(err, x)
	e := &roleError{facts: f}
	switch {
	case !f.Sent:
		// Token acquisition, request building or a context that ended
		// first: nothing reached the wire.
		e.kind, e.cause = kindNotSent, err
		if ctxErr := graphcore.ContextError(err); ctxErr != nil {
			e.cause = ctxErr
		}
	case f.Status == 0:
		// Sent, no answer. Transport and context errors name only the URL,
		// which holds validated IDs.
		e.kind, e.cause = kindTransport, err
	case f.Status < 400:
		// Its text is not kept: it may quote the body.
		e.kind = kindUnreadable
	case f.Status == 429:
		e.kind, e.sentinel = kindThrottled, rotation.ErrThrottled
	case f.Status == 404 && c.targetKey == keySP:
		e.kind = kindUnknownSP
		e.advice = "no service principal " + c.target + " in the directory; " +
			"ServicePrincipalID must be the object ID of keyturn's enterprise application, not its client ID"
	case f.Status == 404:
		e.kind = kindUnknownUser
		e.advice = "user " + c.target + " is unknown to the directory"
	case f.Status == 403:
		e.kind, e.advice = kindPermission, c.perm
	case f.Status == 503, f.Status == 504:
		e.kind = kindUnavailable
	case f.Status >= 500:
		e.kind = kindServer
	default:
		e.kind = kindRejected
	}
	return e
}
