package graphapps

import (
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

// Words implements graphcore.Kind: a failure without a sentinel was either
// never sent or refused.
func (k kind) Words() string {
	if k == kindNotSent {
		return "graph request not sent"
	}
	return "graph refused the request"
}

// RetryClass implements graphcore.Kind.
func (k kind) RetryClass() graphcore.RetryClass {
	switch k {
	case kindThrottled:
		return graphcore.RetryThrottled
	case kindConcurrent:
		return graphcore.RetryContention
	case kindUnavailable:
		return graphcore.RetryUnavailable
	}
	return graphcore.NoRetry
}

// graphError is a translated failure: graphcore's Error with this package's
// kinds. Its text holds the sentinel's words, the status, the OData code
// and the request IDs, never a response body.
type graphError = graphcore.Error[kind]

var _ graphcore.Failure = (*graphError)(nil)

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
	e := graphcore.NewError[kind](f)

	switch {
	case !f.Sent:
		// Token acquisition, request building or a context that ended first:
		// nothing reached the wire.
		e.Kind, e.Cause = kindNotSent, err
		if ctxErr := graphcore.ContextError(err); ctxErr != nil {
			e.Cause = ctxErr
		}
	case f.Status == 0:
		// Sent, and no answer: timeout, reset, refused connection. Transport
		// and context errors name only the URL, which holds validated IDs.
		e.Kind, e.Sentinel, e.Cause = kindTransport, rotation.ErrAmbiguous, err
	case f.Status < 400:
		// A success whose body the SDK could not read. Its text is not
		// kept: it may quote the body, and the body may hold a secret.
		e.Kind, e.Sentinel = kindUnreadable, rotation.ErrAmbiguous
		e.Advice = "the response could not be read"
	case f.Code == codeConcurrency || f.Status == 400 && f.Code == codeBadRequest && isConcurrencyMessage(f):
		e.Kind, e.Sentinel = kindConcurrent, rotation.ErrThrottled
	case f.Status == 429:
		e.Kind, e.Sentinel = kindThrottled, rotation.ErrThrottled
	case f.Code == codeLifetime:
		e.Kind, e.Sentinel = kindLifetime, rotation.ErrLifetimePolicy
	case f.Code == codeTypeNotAllowed, f.Code == codeTooManyPasswords, f.Code == codeObjectSizeTooBig:
		e.Kind, e.Sentinel = kindForbidden, rotation.ErrPasswordsForbidden
	case f.Status == 404:
		e.Kind, e.Sentinel = kindNotFound, rotation.ErrAppNotFound
		e.Advice = "no application " + c.app + " is visible to keyturn"
	case f.Status == 403:
		e.Kind, e.Sentinel = kindNotOwner, rotation.ErrNotOwner
		e.Advice = "add keyturn's service principal as an owner of the application: " +
			"az ad app owner add --id " + c.app + " --owner-object-id " + ownerID +
			"; keyturn also needs the Application.ReadWrite.OwnedBy application permission, admin-consented"
	case f.Status == 503, f.Status == 504:
		e.Kind, e.Sentinel = kindUnavailable, rotation.ErrAmbiguous
	case f.Status >= 500:
		e.Kind, e.Sentinel = kindServer, rotation.ErrAmbiguous
	default:
		e.Kind = kindRejected
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
