package graphcore

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

const (
	// MaxRetryAfter caps the wait a Retry-After header can ask for.
	MaxRetryAfter = 60 * time.Second
	// maxIdentifierLength bounds codes and request IDs quoted in errors.
	maxIdentifierLength = 64
)

// Facts is what the SDK and the wire reported about one failed call, fit
// for an error line: status, OData code and request IDs, never a body.
type Facts struct {
	// Sent says whether the request reached the transport at all.
	Sent            bool
	Status          int
	Code            string // OData error code, kept only if it is a plain identifier
	RequestID       string
	ClientRequestID string
	RetryAfter      time.Duration
	HasRetryAfter   bool

	message string // OData error message: classification only, never printed
}

// Inspect reads err, the SDK's error for one call, and x, what the recorder
// saw of it, into Facts. This is the one place SDK error types are opened.
func Inspect(err error, x *Exchange) Facts {
	f := Facts{Sent: x.Sends > 0, Status: x.Status, RequestID: x.RequestID, ClientRequestID: x.ClientRequestID}
	retryAfter := x.RetryAfter

	var oe *odataerrors.ODataError
	var ae *abs.ApiError
	switch {
	case errors.As(err, &oe):
		if s := oe.GetStatusCode(); s != 0 {
			f.Status = s
		}
		if me := oe.GetErrorEscaped(); me != nil {
			f.Code = Deref(me.GetCode())
			f.message = Deref(me.GetMessage())
			if ie := me.GetInnerError(); ie != nil {
				f.RequestID = firstNonEmpty(f.RequestID, Deref(ie.GetRequestId()))
				f.ClientRequestID = firstNonEmpty(f.ClientRequestID, Deref(ie.GetClientRequestId()))
			}
		}
		retryAfter = firstNonEmpty(retryAfter, header(oe.GetResponseHeaders(), "Retry-After"))
	case errors.As(err, &ae):
		if ae.ResponseStatusCode != 0 {
			f.Status = ae.ResponseStatusCode
		}
		retryAfter = firstNonEmpty(retryAfter, header(ae.ResponseHeaders, "Retry-After"))
	}
	f.Code = Identifier(f.Code)
	f.RequestID = Identifier(f.RequestID)
	f.ClientRequestID = Identifier(f.ClientRequestID)
	f.RetryAfter, f.HasRetryAfter = ParseRetryAfter(retryAfter)
	return f
}

// MessageContains reports whether the OData error message contains s, case
// folded. Graph uses one code for unrelated refusals at times, and the
// message is then the only thing that tells them apart; the message itself
// never leaves Facts.
func (f Facts) MessageContains(s string) bool {
	return s != "" && strings.Contains(strings.ToLower(f.message), strings.ToLower(s))
}

// Details renders the facts for an error line: "graph 403 Code, request-id
// R, client-request-id C, after N attempts" (attempts shown above 1), or ""
// when there is nothing to say.
func (f Facts) Details(attempts int) string {
	var details []string
	if f.Status != 0 {
		d := "graph " + strconv.Itoa(f.Status)
		if f.Code != "" {
			d += " " + f.Code
		}
		details = append(details, d)
	}
	if f.RequestID != "" {
		details = append(details, "request-id "+f.RequestID)
	}
	if f.ClientRequestID != "" {
		details = append(details, "client-request-id "+f.ClientRequestID)
	}
	if attempts > 1 {
		details = append(details, "after "+strconv.Itoa(attempts)+" attempts")
	}
	return strings.Join(details, ", ")
}

// LogAttrs returns the facts as log attributes (status, code, request_id,
// client_request_id).
func (f Facts) LogAttrs() []slog.Attr {
	return []slog.Attr{
		slog.Int("status", f.Status), slog.String("code", f.Code),
		slog.String("request_id", f.RequestID), slog.String("client_request_id", f.ClientRequestID),
	}
}

// ContextError returns context.Canceled or context.DeadlineExceeded when err
// is one of them, else nil.
func ContextError(err error) error {
	for _, c := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, c) {
			return c
		}
	}
	return nil
}

// ParseRetryAfter reads a Retry-After header in seconds (Graph's form),
// capped at MaxRetryAfter. HTTP dates are ignored: backoff applies instead.
func ParseRetryAfter(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || secs < 0 || secs != secs {
		return 0, false
	}
	if secs > MaxRetryAfter.Seconds() {
		return MaxRetryAfter, true
	}
	return time.Duration(secs * float64(time.Second)), true
}

// Identifier keeps a code or request ID fit for an error line: letters,
// digits, '-', '_' and '.', at most 64 long. Anything else is dropped rather
// than quoted.
func Identifier(s string) string {
	if len(s) > maxIdentifierLength {
		return ""
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return ""
		}
	}
	return s
}

// CanonicalGUID accepts exactly the 8-4-4-4-12 hexadecimal form (no braces,
// no urn:uuid: prefix, no spaces) and returns it in lower case. Only its
// output may be put into a URL.
func CanonicalGUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch i {
		case 8, 13, 18, 23:
			if ch != '-' {
				return "", false
			}
		default:
			if !('0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f' || 'A' <= ch && ch <= 'F') {
				return "", false
			}
		}
	}
	return strings.ToLower(s), true
}

// Deref returns *p, or "" for nil.
func Deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func header(h *abs.ResponseHeaders, name string) string {
	if h == nil {
		return ""
	}
	if v := h.Get(name); len(v) > 0 {
		return v[0]
	}
	return ""
}
