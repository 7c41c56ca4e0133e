package graphapps

import (
	"context"
	"log/slog"

	"github.com/keyturn/keyturn/azure/internal/graphcore"
)

// do runs send with graphcore's retry loop: until it succeeds, fails in a
// way that must not be retried, or has been tried the configured number of
// times. send makes exactly one SDK call with the context it is given. The
// error is a *graphError, possibly wrapped.
func (c *Client) do(ctx context.Context, op call, send func(context.Context) error) error {
	gop := graphcore.Op{Name: op.name, Attrs: []slog.Attr{slog.String(op.appKey, op.app)}, Idempotent: op.idempotent}
	return c.retrier.Do(ctx, gop, send, func(err error, x *graphcore.Exchange) graphcore.Failure {
		return translate(err, x, op, c.ownerID)
	})
}
