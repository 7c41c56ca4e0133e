package graphcore

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"

	"github.com/keyturn/keyturn/rotation"
)

// DefaultMaxAttempts is the number of attempts a call makes when no other
// bound is given: the first and up to three retries.
const DefaultMaxAttempts = 4

// Backoff for retries without a usable Retry-After: 1s, 2s, 4s, ... capped.
const (
	backoffBase = time.Second
	backoffMax  = 30 * time.Second
)

// RetryClass says whether the loop may repeat a failed attempt.
type RetryClass int

// Retry classes.
const (
	// NoRetry: final, or it may have been processed.
	NoRetry RetryClass = iota
	// RetryThrottled (429): not processed. Honours Retry-After, else backs
	// off. Retried for every call.
	RetryThrottled
	// RetryContention (Graph's "concurrent requests"): not processed.
	// Backs off. Retried for every call.
	RetryContention
	// RetryUnavailable (503, 504): may have been processed. Retried only
	// for idempotent calls; honours Retry-After, else backs off.
	RetryUnavailable
)

// Failure is an adapter's translation of one failed attempt, as the retry
// loop sees it.
type Failure interface {
	error
	// RetryClass classifies the failure for the loop.
	RetryClass() RetryClass
	// RetryAfter returns the wait the service asked for, if it asked.
	RetryAfter() (time.Duration, bool)
	// LogAttrs identifies the failed answer in a log line: status, code,
	// request IDs. Never a body.
	LogAttrs() []slog.Attr
	// SetAttempts records how many attempts were made, when the loop
	// gives up on the failure.
	SetAttempts(n int)
}

// Op describes one operation for the retry loop and its log lines.
type Op struct {
	Name       string      // "get app", "check member groups", ...
	Attrs      []slog.Attr // what it is about: client_id, user_oid, ...
	Idempotent bool        // 503 and 504 may be retried
}

// Retrier runs SDK calls with Keyturn's retries. The SDK's own retry
// handler is off (see Middlewares and RequestOptions), so these are the
// only ones.
type Retrier struct {
	log         *slog.Logger
	sleep       func(ctx context.Context, d time.Duration) error
	maxAttempts int
}

// NewRetrier returns a Retrier that logs to log (nil: discard), waits with
// sleep (nil: a timer that honours ctx) and makes at most maxAttempts
// attempts per call (below 1: DefaultMaxAttempts).
func NewRetrier(log *slog.Logger, sleep func(ctx context.Context, d time.Duration) error, maxAttempts int) Retrier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if sleep == nil {
		sleep = rotation.SystemClock{}.Sleep
	}
	if maxAttempts < 1 {
		maxAttempts = DefaultMaxAttempts
	}
	return Retrier{log: log, sleep: sleep, maxAttempts: maxAttempts}
}

// MaxAttempts returns the bound on attempts per call.
func (r Retrier) MaxAttempts() int { return r.maxAttempts }

// RequestOptions returns the per-request options every Graph call must
// carry: the retry handler switched off for that request, whatever the
// middleware chain holds.
func RequestOptions() []abs.RequestOption {
	return []abs.RequestOption{NoRetryOption()}
}

// Do runs send until it succeeds, fails in a way that must not be
// repeated, or has been tried MaxAttempts times. send makes exactly one SDK
// call with the context it is given, which carries the Exchange the
// recorder fills; translate turns its error into a Failure. When ctx is
// done before an attempt, Do returns translate(ctx.Err(), an unsent
// Exchange). The error Do returns is the last Failure, possibly wrapped
// with the reason the wait before a retry stopped.
func (r Retrier) Do(ctx context.Context, op Op, send func(context.Context) error, translate func(error, *Exchange) Failure) error {
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return translate(err, &Exchange{})
		}
		actx, x := WithExchange(ctx)
		err := send(actx)
		if x.Sends > 1 && !op.Idempotent {
			// The SDK resent a write (CAE claims challenge or 415 from the
			// compression handler: both answers mean "not processed").
			r.log.LogAttrs(ctx, slog.LevelWarn, "graph write was sent more than once in one attempt",
				op.attrs(slog.Int("sends", x.Sends))...)
		}
		if err == nil {
			return nil
		}
		f := translate(err, x)
		delay, ok := retryDelay(f, op, attempt)
		if !ok || attempt >= r.maxAttempts {
			f.SetAttempts(attempt)
			return f
		}
		attrs := op.attrs(slog.Int("attempt", attempt))
		attrs = append(attrs, f.LogAttrs()...)
		attrs = append(attrs, slog.Duration("delay", delay))
		r.log.LogAttrs(ctx, slog.LevelInfo, "graph request refused; retrying", attrs...)
		if err := r.sleep(ctx, delay); err != nil {
			return fmt.Errorf("%w (stopped waiting to retry: %w)", f, err)
		}
	}
}

// attrs returns a new slice: op, then op.Attrs, then more.
func (op Op) attrs(more ...slog.Attr) []slog.Attr {
	out := make([]slog.Attr, 0, 1+len(op.Attrs)+len(more)+6)
	out = append(out, slog.String("op", op.Name))
	out = append(out, op.Attrs...)
	return append(out, more...)
}

// retryDelay says whether f may be retried and after how long.
func retryDelay(f Failure, op Op, attempt int) (time.Duration, bool) {
	after, hasAfter := f.RetryAfter()
	switch f.RetryClass() {
	case RetryThrottled:
		if hasAfter {
			return after, true
		}
		return Backoff(attempt), true
	case RetryContention:
		return Backoff(attempt), true
	case RetryUnavailable:
		if !op.Idempotent {
			return 0, false
		}
		if hasAfter {
			return after, true
		}
		return Backoff(attempt), true
	default:
		return 0, false
	}
}

// Backoff returns the wait before retry number attempt (1-based): 1s, 2s,
// 4s, ... capped at 30s.
func Backoff(attempt int) time.Duration {
	d := backoffBase
	for i := 1; i < attempt && d < backoffMax; i++ {
		d *= 2
	}
	return min(d, backoffMax)
}
