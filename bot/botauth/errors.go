package botauth

import (
	"errors"
	"net/http"
)

// Sentinel errors. Every error Validator.Validate returns wraps exactly one
// of ErrUnauthorized and ErrForbidden; the wrapping text says why, for logs
// only. Test them with errors.Is, or map them with HTTPStatus.
var (
	// ErrUnauthorized means the request is not authenticated: header,
	// token, signature, issuer, audience, lifetime or serviceurl failed, or
	// no signing keys were available. Answer 401 with an empty body.
	ErrUnauthorized = errors.New("unauthorized")

	// ErrForbidden means the token is otherwise valid but its signing key
	// is not endorsed for the activity's channel. Answer 403 with an empty
	// body.
	ErrForbidden = errors.New("forbidden")
)

// Errors of KeySource.SigningKey. Validate wraps them in ErrUnauthorized.
var (
	// ErrUnknownKeyID means no cached signing key has the token's kid and
	// a refresh was done (or was not allowed by the rate limit) without
	// finding it.
	ErrUnknownKeyID = errors.New("unknown signing key id")

	// ErrKeysUnavailable means no fresh key set is held (never fetched,
	// or older than MaxAge) and fetching one failed or was rate-limited.
	ErrKeysUnavailable = errors.New("signing keys unavailable")
)

// HTTPStatus returns the HTTP status to answer for err, an error from
// Validate: 200 for nil, 403 for ErrForbidden and 401 for anything else,
// so an unexpected error never lets a request through.
func HTTPStatus(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	default:
		return http.StatusUnauthorized
	}
}
