package graphcore

import (
	"log/slog"
	"strings"
	"time"
)

// Kind is an adapter's own classification of a failed call. The adapter
// defines the values; Error asks them for words and for the retry class.
type Kind interface {
	// Words says what went wrong, for the start of an error line that has
	// no sentinel: "graph request not sent", "graph refused the request".
	Words() string
	// RetryClass tells the retry loop whether it may repeat the call.
	RetryClass() RetryClass
}

// Error is an adapter's translation of one failed Graph call: a sentinel
// the adapter chose (or none), its kind, the identifying facts of the
// answer, advice for the operator and the transport or context error
// behind it. Its text holds the sentinel's or the kind's words, the status,
// the OData code, the request IDs, the advice and the cause, never a
// response body. Build it with NewError, then set the rest.
type Error[K Kind] struct {
	// Kind classifies the failure; the zero value is the adapter's choice.
	Kind K
	// Sentinel is the domain sentinel the failure means, or nil.
	Sentinel error
	// Facts identify the failed answer (status, OData code, request IDs,
	// Retry-After). NewError keeps no OData message in them.
	Facts Facts
	// Advice tells the operator what to do; "" when there is nothing to say.
	Advice string
	// Cause is a transport or context error; never SDK response text.
	Cause error
	// Attempts is how many attempts were made, set by the retry loop when
	// it gave up; 0 or 1 is not shown.
	Attempts int
}

// NewError returns an Error with facts f and the zero kind. The OData
// message f holds for classification (Facts.MessageContains) is dropped,
// so no formatting of the Error, %#v included, can show response text.
func NewError[K Kind](f Facts) *Error[K] {
	f.message = ""
	return &Error[K]{Facts: f}
}

// Error returns "<sentinel or kind words> (<facts>): <advice>: <cause>",
// leaving out the parts that are empty.
func (e *Error[K]) Error() string {
	var b strings.Builder
	if e.Sentinel != nil {
		b.WriteString(e.Sentinel.Error())
	} else {
		b.WriteString(e.Kind.Words())
	}
	if d := e.Facts.Details(e.Attempts); d != "" {
		b.WriteString(" (" + d + ")")
	}
	if e.Advice != "" {
		b.WriteString(": " + e.Advice)
	}
	if e.Cause != nil {
		b.WriteString(": " + e.Cause.Error())
	}
	return b.String()
}

// Unwrap exposes the sentinel and the cause to errors.Is and errors.As.
func (e *Error[K]) Unwrap() []error {
	var errs []error
	if e.Sentinel != nil {
		errs = append(errs, e.Sentinel)
	}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

// RetryClass implements Failure: the kind decides.
func (e *Error[K]) RetryClass() RetryClass { return e.Kind.RetryClass() }

// RetryAfter implements Failure with the facts' Retry-After.
func (e *Error[K]) RetryAfter() (time.Duration, bool) {
	return e.Facts.RetryAfter, e.Facts.HasRetryAfter
}

// LogAttrs implements Failure with the facts' attributes.
func (e *Error[K]) LogAttrs() []slog.Attr { return e.Facts.LogAttrs() }

// SetAttempts implements Failure.
func (e *Error[K]) SetAttempts(n int) { e.Attempts = n }
