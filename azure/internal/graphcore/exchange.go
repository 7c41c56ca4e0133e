package graphcore

import (
	"context"
	"net/http"

	khttp "github.com/microsoft/kiota-http-go"
)

// exchangeKey is the context key of the *Exchange of one SDK call.
type exchangeKey struct{}

// Exchange is what the wire saw during one SDK call: how many times a
// request went out (a CAE claims challenge or a 415 makes the SDK resend)
// and the identifying headers of the last answer. Only the goroutine that
// makes the call touches it.
type Exchange struct {
	Sends           int
	Status          int    // of the last response; 0 when the last send got none
	RequestID       string // Graph's request-id header
	ClientRequestID string // sent by the telemetry middleware, echoed by Graph
	RetryAfter      string
}

// WithExchange returns a context whose SDK call the recorder reports into
// the returned Exchange.
func WithExchange(ctx context.Context) (context.Context, *Exchange) {
	x := &Exchange{}
	return context.WithValue(ctx, exchangeKey{}, x), x
}

// recorder is the innermost middleware: it fills the call's Exchange.
type recorder struct{}

// Intercept implements khttp.Middleware.
func (recorder) Intercept(p khttp.Pipeline, i int, req *http.Request) (*http.Response, error) {
	x, _ := req.Context().Value(exchangeKey{}).(*Exchange)
	if x == nil {
		return p.Next(req, i)
	}
	x.Sends++
	x.Status, x.RequestID, x.RetryAfter = 0, "", ""
	x.ClientRequestID = req.Header.Get("client-request-id")
	resp, err := p.Next(req, i)
	if resp != nil {
		x.Status = resp.StatusCode
		x.RequestID = resp.Header.Get("request-id")
		if v := resp.Header.Get("client-request-id"); v != "" {
			x.ClientRequestID = v
		}
		x.RetryAfter = resp.Header.Get("Retry-After")
	}
	return resp, err
}
