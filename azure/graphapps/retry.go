package graphapps

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Backoff for retries without a usable Retry-After: 1s, 2s, 4s, ... capped.
const (
	backoffBase = time.Second
	backoffMax  = 30 * time.Second
)

// do runs send until it succeeds, fails in a way that must not be retried,
// or has been tried c.maxAttempts times. send makes exactly one SDK call
// with the context it is given, which carries the exchange the recorder
// fills.
func (c *Client) do(ctx context.Context, op call, send func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return &graphError{kind: kindNotSent, cause: err}
		}
		x := &exchange{}
		err := send(context.WithValue(ctx, exchangeKey{}, x))
		if x.sends > 1 && !op.idempotent {
			// The SDK resent a write (CAE claims challenge or 415 from the
			// compression handler: both answers mean "not processed").
			c.log.LogAttrs(ctx, slog.LevelWarn, "graph write was sent more than once in one attempt",
				slog.String("op", op.name), slog.String(op.appKey, op.app), slog.Int("sends", x.sends))
		}
		if err == nil {
			return nil
		}
		e := translate(err, x, op, c.ownerID)
		delay, ok := retryDelay(e, op, attempt)
		if !ok || attempt >= c.maxAttempts {
			e.attempts = attempt
			return e
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "graph request refused; retrying",
			slog.String("op", op.name), slog.String(op.appKey, op.app),
			slog.Int("attempt", attempt), slog.Int("status", e.status), slog.String("code", e.code),
			slog.String("request_id", e.requestID), slog.String("client_request_id", e.clientRequestID),
			slog.Duration("delay", delay))
		if err := c.sleep(ctx, delay); err != nil {
			return fmt.Errorf("%w (stopped waiting to retry: %w)", e, err)
		}
	}
}

// retryDelay says whether e may be retried and after how long. Only
// answers that prove the request was not processed are retried for every
// call; 503 and 504 are retried for idempotent calls only.
func retryDelay(e *graphError, op call, attempt int) (time.Duration, bool) {
	switch e.kind {
	case kindThrottled:
		if e.hasRetryAfter {
			return e.retryAfter, true
		}
		return backoff(attempt), true
	case kindConcurrent:
		return backoff(attempt), true
	case kindUnavailable:
		if !op.idempotent {
			return 0, false
		}
		if e.hasRetryAfter {
			return e.retryAfter, true
		}
		return backoff(attempt), true
	default:
		return 0, false
	}
}

// backoff returns the wait before retry number attempt (1-based).
func backoff(attempt int) time.Duration {
	d := backoffBase
	for i := 1; i < attempt && d < backoffMax; i++ {
		d *= 2
	}
	return min(d, backoffMax)
}
