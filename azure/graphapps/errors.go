package graphapps

import (
	"log/slog"
	"strings"
	"time"

	"github.com/keyturn/keyturn/azure/internal/graphcore"
	"github.com/keyturn/keyturn/rotation"
)

// kind classifies a failed call for the retry loop.
type kind int

const (
	kindRejected    kind = iota // a 4xx we have no sentinel for; nothing changed
	kindNotSent                 // the request never reached the transport
	kindThrottled               // 429: not processed
	kindConcurrent              // "concurrent requests": not processed
	kindUnavailable             // 503/504: may have been processed
	kindServer                  // other 5xx: may have been processed
	kindTransport               // sent, then no usable answer: may have been processed
	kindUnreadable              // 2xx whose body could not be read: processed
	kindNotFound
	kindNotOwner
	kindLifetime
	kindForbidden // passwords forbidden by policy or limit
)

// OData error codes that decide a sentinel on their own. 404
// (Request_ResourceNotFound) and 403 (Authorization_RequestDenied) are
// decided by status, whatever the code.
const (
	codeBadRequest       = "Request_BadRequest"
	codeConcurrency      = "Directory_ConcurrencyViolation"
	codeLifetime         = "CredentialInvalidLifetimeAsPerAppPolicy"
	codeTypeNotAllowed   = "CredentialTypeNotAllowedAsPerAppPolicy" // passwordAddition restriction
	codeTooManyPasswords = "TooManyAppPasswords"                    // personal-account apps: 2 at most
	codeObjectSizeTooBig = "Directory_ResourceSizeExceeded"         // object size limit (403)
)

// concurrentRequestText identifies Graph's write-contention message.
const concurrentRequestText = "concurrent requests"

// graphError is a translated failure. Its text holds the sentinel's words,
// the status, the OData code and the request IDs, never a response body.
type graphError struct {
	kind            kind
	sentinel        error // a rotation sentinel, or nil
	status          int
	code            string
	requestID       string
	clientRequestID string
	retryAfter      time.Duration
	hasRetryAfter   bool
	advice          string
	cause           error // transport or context error; never SDK response text
	attempts        int   // set by the retry loop when it gave up
}

func (e *graphError) Error() string {
	var b strings.Builder
	switch {
	case e.sentinel != nil:
		b.WriteString(e.sentinel.Error())
	case e.kind == kindNotSent:
		b.WriteString("graph request not sent")
	default:
		b.WriteString("graph refused the request")
	}
	if d := e.facts().Details(e.attempts); d != "" {
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
func (e *graphError) Unwrap() []error {
	var errs []error
	if e.sentinel != nil {
		errs = append(errs, e.sentinel)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

var _ graphcore.Failure = (*graphError)(nil)

// facts returns e's identifying fields for graphcore's formatting.
func (e *graphError) facts() graphcore.Facts {
	return graphcore.Facts{Status: e.status, Code: e.code, RequestID: e.requestID, ClientRequestID: e.clientRequestID}
}

// RetryClass implements graphcore.Failure.
func (e *graphError) RetryClass() graphcore.RetryClass {
	switch e.kind {
	case kindThrottled:
		return graphcore.RetryThrottled
	case kindConcurrent:
		return graphcore.RetryContention
	case kindUnavailable:
		return graphcore.RetryUnavailable
	}
	return graphcore.NoRetry
}

// RetryAfter implements graphcore.Failure.
func (e *graphError) RetryAfter() (time.Duration, bool) { return e.retryAfter, e.hasRetryAfter }

// LogAttrs implements graphcore.Failure.
func (e *graphError) LogAttrs() []slog.Attr { return e.facts().LogAttrs() }

// SetAttempts implements graphcore.Failure.
func (e *graphError) SetAttempts(n int) { e.attempts = n }

// call describes one operation for translate and the retry loop.
type call struct {
	name       string // for logs: "get app", "add password", ...
	app        string // client ID or object ID, quoted in advice
	appKey     string // its log key: client_id or app_object_id
	idempotent bool   // 503/504 may be retried
}

// translate is the one place that turns what the SDK and the wire reported
// into rotation's sentinels. err is the SDK's error for one call, x what the
// recorder saw of it.
func translate(err error, x *graphcore.Exchange, c call, ownerID string) *graphError {
	f := graphcore.Inspect(err, x)
	e := &graphError{status: f.Status, code: f.Code, requestID: f.RequestID, clientRequestID: f.ClientRequestID,
		retryAfter: f.RetryAfter, hasRetryAfter: f.HasRetryAfter}

	switch {
	case !f.Sent:
		// Token acquisition, request building or a context that ended first:
		// nothing reached the wire.
		e.kind, e.cause = kindNotSent, err
		if ctxErr := graphcore.ContextError(err); ctxErr != nil {
			e.cause = ctxErr
		}
	case e.status == 0:
		// Sent, and no answer: timeout, reset, refused connection. Transport
		// and context errors name only the URL, which holds validated IDs.
		e.kind, e.sentinel, e.cause = kindTransport, rotation.ErrAmbiguous, err
	case e.status < 400:
		// A success whose body the SDK could not read. Its text is not
		// kept: it may quote the body, and the body may hold a secret.
		e.kind, e.sentinel = kindUnreadable, rotation.ErrAmbiguous
		e.advice = "the response could not be read"
	case e.code == codeConcurrency || e.status == 400 && e.code == codeBadRequest && isConcurrencyMessage(f):
		e.kind, e.sentinel = kindConcurrent, rotation.ErrThrottled
	case e.status == 429:
		e.kind, e.sentinel = kindThrottled, rotation.ErrThrottled
	case e.code == codeLifetime:
		e.kind, e.sentinel = kindLifetime, rotation.ErrLifetimePolicy
	case e.code == codeTypeNotAllowed, e.code == codeTooManyPasswords, e.code == codeObjectSizeTooBig:
		e.kind, e.sentinel = kindForbidden, rotation.ErrPasswordsForbidden
	case e.status == 404:
		e.kind, e.sentinel = kindNotFound, rotation.ErrAppNotFound
		e.advice = "no application " + c.app + " is visible to keyturn"
	case e.status == 403:
		e.kind, e.sentinel = kindNotOwner, rotation.ErrNotOwner
		e.advice = "add keyturn's service principal as an owner of the application: " +
			"az ad app owner add --id " + c.app + " --owner-object-id " + ownerID +
			"; keyturn also needs the Application.ReadWrite.OwnedBy application permission, admin-consented"
	case e.status == 503, e.status == 504:
		e.kind, e.sentinel = kindUnavailable, rotation.ErrAmbiguous
	case e.status >= 500:
		e.kind, e.sentinel = kindServer, rotation.ErrAmbiguous
	default:
		e.kind = kindRejected
	}
	return e
}

// isConcurrencyMessage reports whether a 400 Request_BadRequest is Graph's
// tenant write-contention refusal ("Error due to concurrent requests being
// made to the tenant. Please wait briefly and retry."). Graph uses that code
// for every malformed request too, and the structured OData message field
// is the only thing that tells them apart; reading it here, in translate and
// nowhere else, lets the retry loop retry a request Graph did not process.
// The message never leaves graphcore.Facts.
func isConcurrencyMessage(f graphcore.Facts) bool {
	return f.MessageContains(concurrentRequestText)
}
