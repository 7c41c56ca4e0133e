package graphcore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

func odataError(status int, code, msg, reqID string) *odataerrors.ODataError {
	e := odataerrors.NewODataError()
	e.SetStatusCode(status)
	me := odataerrors.NewMainError()
	me.SetCode(&code)
	me.SetMessage(&msg)
	if reqID != "" {
		ie := odataerrors.NewInnerError()
		ie.SetRequestId(&reqID)
		cid := "inner-" + reqID
		ie.SetClientRequestId(&cid)
		me.SetInnerError(ie)
	}
	e.SetErrorEscaped(me)
	return e
}

func TestInspect(t *testing.T) {
	apiErr := &abs.ApiError{ResponseStatusCode: 503}
	apiErr.ResponseHeaders = abs.NewResponseHeaders()
	apiErr.ResponseHeaders.Add("Retry-After", "7")
	withHeader := odataError(429, "TooManyRequests", "slow down", "")
	withHeader.ResponseHeaders = abs.NewResponseHeaders()
	withHeader.ResponseHeaders.Add("Retry-After", "3")

	tests := []struct {
		name string
		err  error
		x    Exchange
		want Facts
	}{
		{
			name: "odata error, ids from the body",
			err:  fmt.Errorf("wrapped: %w", odataError(403, "Authorization_RequestDenied", "Insufficient privileges", "r-1")),
			x:    Exchange{Sends: 1},
			want: Facts{Sent: true, Status: 403, Code: "Authorization_RequestDenied", RequestID: "r-1", ClientRequestID: "inner-r-1"},
		},
		{
			name: "wire ids win over the body's",
			err:  odataError(404, "Request_ResourceNotFound", "gone", "r-body"),
			x:    Exchange{Sends: 1, Status: 404, RequestID: "r-wire", ClientRequestID: "c-wire"},
			want: Facts{Sent: true, Status: 404, Code: "Request_ResourceNotFound", RequestID: "r-wire", ClientRequestID: "c-wire"},
		},
		{
			name: "retry-after from the wire",
			err:  odataError(429, "TooManyRequests", "", ""),
			x:    Exchange{Sends: 1, Status: 429, RetryAfter: "12"},
			want: Facts{Sent: true, Status: 429, Code: "TooManyRequests", RetryAfter: 12 * time.Second, HasRetryAfter: true},
		},
		{
			name: "retry-after from the odata error's headers",
			err:  withHeader,
			x:    Exchange{Sends: 1},
			want: Facts{Sent: true, Status: 429, Code: "TooManyRequests", RetryAfter: 3 * time.Second, HasRetryAfter: true},
		},
		{
			name: "api error without body",
			err:  apiErr,
			x:    Exchange{Sends: 1},
			want: Facts{Sent: true, Status: 503, RetryAfter: 7 * time.Second, HasRetryAfter: true},
		},
		{
			name: "status from the wire only",
			err:  errors.New("content type text/html does not have a factory"),
			x:    Exchange{Sends: 1, Status: 502},
			want: Facts{Sent: true, Status: 502},
		},
		{
			name: "a code that is not an identifier is dropped",
			err:  odataError(400, "bad code\nwith newline", "", "req id with spaces"),
			x:    Exchange{Sends: 1},
			want: Facts{Sent: true, Status: 400},
		},
		{name: "not sent", err: context.Canceled, x: Exchange{}, want: Facts{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Inspect(tc.err, &tc.x)
			got.message = ""
			if got != tc.want {
				t.Errorf("Inspect =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestFactsMessageStaysInside(t *testing.T) {
	const secret = "CANARY-s3cr3t-~value"
	f := Inspect(odataError(400, "Request_BadRequest", "Error due to Concurrent Requests "+secret, "r-9"), &Exchange{Sends: 1})
	if !f.MessageContains("concurrent requests") || f.MessageContains("something else") || f.MessageContains("") {
		t.Error("MessageContains does not match the message case-insensitively")
	}
	outputs := []string{f.Details(3), fmt.Sprint(f.LogAttrs())}
	if got, want := outputs[0], "graph 400 Request_BadRequest, request-id r-9, client-request-id inner-r-9, after 3 attempts"; got != want {
		t.Errorf("Details = %q, want %q", got, want)
	}
	for _, out := range outputs {
		if strings.Contains(out, secret) || strings.Contains(out, "Concurrent") {
			t.Errorf("output quotes the message: %s", out)
		}
	}
	if got := (Facts{}).Details(1); got != "" {
		t.Errorf("empty Details = %q", got)
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false}, {"12", 12 * time.Second, true}, {"0", 0, true}, {"1.5", 1500 * time.Millisecond, true},
		{"-1", 0, false}, {"NaN", 0, false}, {"Wed, 21 Oct 2026 07:28:00 GMT", 0, false}, {"99999", MaxRetryAfter, true},
	}
	for _, tc := range tests {
		got, ok := ParseRetryAfter(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestIdentifier(t *testing.T) {
	for in, want := range map[string]string{
		"7f3e-aa":                  "7f3e-aa",
		"Request_ResourceNotFound": "Request_ResourceNotFound",
		"a b":                      "",
		"x\ny":                     "",
		strings.Repeat("a", 65):    "",
	} {
		if got := Identifier(in); got != want {
			t.Errorf("Identifier(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalGUID(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"6C1F2E3D-4B5A-4C7D-8E9F-0A1B2C3D4E5F", "6c1f2e3d-4b5a-4c7d-8e9f-0a1b2c3d4e5f", true},
		{"6c1f2e3d-4b5a-4c7d-8e9f-0a1b2c3d4e5f", "6c1f2e3d-4b5a-4c7d-8e9f-0a1b2c3d4e5f", true},
		{"{6c1f2e3d-4b5a-4c7d-8e9f-0a1b2c3d4e5f}", "", false},
		{"6c1f2e3d4b5a4c7d8e9f0a1b2c3d4e5f", "", false},
		{"6c1f2e3d-4b5a-4c7d-8e9f-0a1b2c3d4e5g", "", false},
		{"6c1f2e3d-4b5a-4c7d-8e9f-0a1b2c3d4e/f", "", false},
		{"../../../../../../../../../../../..", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, ok := CanonicalGUID(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("CanonicalGUID(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestContextError(t *testing.T) {
	if got := ContextError(fmt.Errorf("send: %w", context.DeadlineExceeded)); got != context.DeadlineExceeded {
		t.Errorf("ContextError(deadline) = %v", got)
	}
	if got := ContextError(errors.New("reset")); got != nil {
		t.Errorf("ContextError(reset) = %v", got)
	}
}
