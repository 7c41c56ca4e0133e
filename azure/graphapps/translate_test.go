package graphapps

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/keyturn/keyturn/rotation"
)

func TestTranslate(t *testing.T) {
	odata := func(status int, code, msg string) error {
		e := odataerrors.NewODataError()
		e.SetStatusCode(status)
		if code != "" || msg != "" {
			me := odataerrors.NewMainError()
			me.SetCode(&code)
			me.SetMessage(&msg)
			e.SetErrorEscaped(me)
		}
		return e
	}
	sent := &exchange{sends: 1}
	tests := []struct {
		name     string
		err      error
		x        *exchange
		wantKind kind
		want     error
	}{
		{"odata body without error object", odata(404, "", ""), sent, kindNotFound, rotation.ErrAppNotFound},
		{"api error without body", &abstractions.ApiError{ResponseStatusCode: 503}, sent, kindUnavailable, rotation.ErrAmbiguous},
		{"status from the wire only", errors.New("content type text/html does not have a factory"), &exchange{sends: 1, status: 502}, kindServer, rotation.ErrAmbiguous},
		{"401", odata(401, "InvalidAuthenticationToken", "expired"), sent, kindRejected, nil},
		{"403 other code", odata(403, "Forbidden", ""), sent, kindNotOwner, rotation.ErrNotOwner},
		{"400 Request_BadRequest, other message", odata(400, "Request_BadRequest", "Invalid keyId"), sent, kindRejected, nil},
		{"transport", errors.New("read: connection reset by peer"), sent, kindTransport, rotation.ErrAmbiguous},
		{"deadline after sending", context.DeadlineExceeded, sent, kindTransport, rotation.ErrAmbiguous},
		{"not sent", errors.New("token"), &exchange{}, kindNotSent, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := translate(tc.err, tc.x, call{name: "x", app: testObjectID}, "<sp>")
			if e.kind != tc.wantKind {
				t.Errorf("kind = %v, want %v", e.kind, tc.wantKind)
			}
			if tc.want != nil && !errors.Is(e, tc.want) {
				t.Errorf("%v is not %v", e, tc.want)
			}
			if tc.want == nil && e.sentinel != nil {
				t.Errorf("sentinel = %v, want none", e.sentinel)
			}
			_ = e.Error() // must not panic on sparse SDK errors
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false}, {"12", 12 * time.Second, true}, {"0", 0, true}, {"1.5", 1500 * time.Millisecond, true},
		{"-1", 0, false}, {"NaN", 0, false}, {"Wed, 21 Oct 2026 07:28:00 GMT", 0, false}, {"99999", maxRetryAfter, true},
	}
	for _, tc := range tests {
		got, ok := parseRetryAfter(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
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
		if got := identifier(in); got != want {
			t.Errorf("identifier(%q) = %q, want %q", in, got, want)
		}
	}
}
