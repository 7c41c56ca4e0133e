package graphcore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testKind is a Kind whose words and class the test chooses.
type testKind struct {
	words string
	class RetryClass
}

func (k testKind) Words() string          { return k.words }
func (k testKind) RetryClass() RetryClass { return k.class }

var _ Failure = (*Error[testKind])(nil)

var errTestSentinel = errors.New("test sentinel")

func TestErrorText(t *testing.T) {
	facts := Facts{Sent: true, Status: 403, Code: "Authorization_RequestDenied", RequestID: "r-1", ClientRequestID: "c-1"}
	tests := []struct {
		name string
		e    *Error[testKind]
		want string
	}{
		{
			name: "kind words only",
			e:    &Error[testKind]{Kind: testKind{words: "graph request not sent"}},
			want: "graph request not sent",
		},
		{
			name: "sentinel wins over the kind's words",
			e:    &Error[testKind]{Kind: testKind{words: "unused"}, Sentinel: errTestSentinel, Facts: facts},
			want: "test sentinel (graph 403 Authorization_RequestDenied, request-id r-1, client-request-id c-1)",
		},
		{
			name: "every part",
			e: &Error[testKind]{Kind: testKind{words: "graph permission missing"}, Facts: facts,
				Advice: "grant it", Cause: context.DeadlineExceeded, Attempts: 3},
			want: "graph permission missing (graph 403 Authorization_RequestDenied, request-id r-1, client-request-id c-1, " +
				"after 3 attempts): grant it: context deadline exceeded",
		},
		{
			name: "one attempt is not shown",
			e:    &Error[testKind]{Kind: testKind{words: "graph failed"}, Facts: Facts{Status: 500}, Attempts: 1},
			want: "graph failed (graph 500)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.e.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestErrorUnwrap(t *testing.T) {
	tests := []struct {
		name string
		e    *Error[testKind]
		want []error
	}{
		{"nothing", &Error[testKind]{}, nil},
		{"sentinel", &Error[testKind]{Sentinel: errTestSentinel}, []error{errTestSentinel}},
		{"cause", &Error[testKind]{Cause: context.Canceled}, []error{context.Canceled}},
		{"both, sentinel first", &Error[testKind]{Sentinel: errTestSentinel, Cause: context.Canceled}, []error{errTestSentinel, context.Canceled}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.e.Unwrap(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Unwrap() = %v, want %v", got, tc.want)
			}
			wrapped := fmt.Errorf("get app: %w", tc.e)
			for _, w := range tc.want {
				if !errors.Is(wrapped, w) {
					t.Errorf("errors.Is(%v, %v) = false", wrapped, w)
				}
			}
			var e *Error[testKind]
			if !errors.As(wrapped, &e) || e != tc.e {
				t.Errorf("errors.As did not find the Error in %v", wrapped)
			}
		})
	}
}

func TestErrorFailure(t *testing.T) {
	e := NewError[testKind](Facts{Status: 429, Code: "TooManyRequests", RequestID: "r-2", RetryAfter: 7 * time.Second, HasRetryAfter: true})
	e.Kind = testKind{class: RetryThrottled}
	if got := e.RetryClass(); got != RetryThrottled {
		t.Errorf("RetryClass() = %v, want the kind's %v", got, RetryThrottled)
	}
	if d, ok := e.RetryAfter(); d != 7*time.Second || !ok {
		t.Errorf("RetryAfter() = %v, %v; want 7s, true", d, ok)
	}
	want := []slog.Attr{slog.Int("status", 429), slog.String("code", "TooManyRequests"),
		slog.String("request_id", "r-2"), slog.String("client_request_id", "")}
	if got := e.LogAttrs(); !reflect.DeepEqual(got, want) {
		t.Errorf("LogAttrs() = %v, want %v", got, want)
	}
	e.SetAttempts(4)
	if e.Attempts != 4 || !strings.Contains(e.Error(), "after 4 attempts") {
		t.Errorf("after SetAttempts(4): Attempts = %d, text %q", e.Attempts, e.Error())
	}
}

// TestNewErrorDropsTheMessage: the OData message serves classification in
// translate and must not survive into the Error, whatever verb prints it.
func TestNewErrorDropsTheMessage(t *testing.T) {
	const canary = "CANARY-s3cr3t-~value"
	x := &Exchange{Sends: 1}
	f := Inspect(odataError(400, "Request_BadRequest", "concurrent requests "+canary, "r-3"), x)
	if !f.MessageContains(canary) {
		t.Fatal("Inspect kept no message: the test proves nothing")
	}
	e := NewError[testKind](f)
	e.Kind = testKind{words: "graph refused the request"}
	if e.Facts.MessageContains(canary) {
		t.Error("the Error's facts still hold the OData message")
	}
	if e.Facts.Status != 400 || e.Facts.Code != "Request_BadRequest" || e.Facts.RequestID != "r-3" || !e.Facts.Sent {
		t.Errorf("facts = %+v, want everything but the message kept", e.Facts)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(verb, e); strings.Contains(out, canary) {
			t.Errorf("%s of the Error holds the message: %s", verb, out)
		}
	}
}
