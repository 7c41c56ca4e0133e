package graphapps

import (
	"errors"
	"net/http"
	"time"

	khttp "github.com/microsoft/kiota-http-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
)

// noRetryOption returns kiota RetryHandler options that never retry.
//
// In kiota-http-go v1.5.4 a MaxRetries below 1 means "the default, 3", not
// "none", and a nil ShouldRetry panics once a 429/503/504 arrives, because
// the handler calls it unchecked. A ShouldRetry that always answers false is
// the one setting that switches retries off. Passed as a request option it
// overrides whatever handler the chain holds, for that request.
func noRetryOption() *khttp.RetryHandlerOptions {
	return &khttp.RetryHandlerOptions{
		ShouldRetry: func(time.Duration, int, *http.Request, *http.Response) bool { return false },
	}
}

// graphMiddlewares returns the Graph SDK's default middleware chain
// (telemetry, URL replacement, redirect, compression, parameter name
// decoding, user agent, headers inspection) with its retry handler replaced
// by one that never retries.
func graphMiddlewares() ([]khttp.Middleware, error) {
	mw := msgraphcore.GetDefaultMiddlewaresWithOptions(&msgraphcore.GraphClientOptions{GraphServiceLibraryVersion: sdkVersion})
	replaced := 0
	for i, m := range mw {
		switch m.(type) {
		case *khttp.RetryHandler, khttp.RetryHandler:
			mw[i] = khttp.NewRetryHandlerWithOptions(*noRetryOption())
			replaced++
		}
	}
	if replaced != 1 {
		return nil, errors.New("graph client: the sdk's middleware chain no longer holds exactly one retry handler")
	}
	return mw, nil
}

// exchangeKey is the context key of the *exchange of one SDK call.
type exchangeKey struct{}

// exchange is what the wire saw during one SDK call: how many times a
// request went out (a CAE claims challenge or a 415 makes the SDK resend)
// and the identifying headers of the last answer. Only the goroutine that
// makes the call touches it.
type exchange struct {
	sends           int
	status          int    // of the last response; 0 when the last send got none
	requestID       string // Graph's request-id header
	clientRequestID string // sent by the telemetry middleware, echoed by Graph
	retryAfter      string
}

// recorder is the innermost middleware: it fills the call's exchange.
type recorder struct{}

// Intercept implements khttp.Middleware.
func (recorder) Intercept(p khttp.Pipeline, i int, req *http.Request) (*http.Response, error) {
	x, _ := req.Context().Value(exchangeKey{}).(*exchange)
	if x == nil {
		return p.Next(req, i)
	}
	x.sends++
	x.status, x.requestID, x.retryAfter = 0, "", ""
	x.clientRequestID = req.Header.Get("client-request-id")
	resp, err := p.Next(req, i)
	if resp != nil {
		x.status = resp.StatusCode
		x.requestID = resp.Header.Get("request-id")
		if v := resp.Header.Get("client-request-id"); v != "" {
			x.clientRequestID = v
		}
		x.retryAfter = resp.Header.Get("Retry-After")
	}
	return resp, err
}
