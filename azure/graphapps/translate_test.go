package graphapps

import (
	"context"
	"errors"
	"testing"

	"github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/keyturn/keyturn/azure/internal/graphcore"
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
	sent := &graphcore.Exchange{Sends: 1}
	tests := []struct {
		name     string
		err      error
		x        *graphcore.Exchange
		wantKind kind
		want     error
	}{
		{"odata body without error object", odata(404, "", ""), sent, kindNotFound, rotation.ErrAppNotFound},
		{"api error without body", &abstractions.ApiError{ResponseStatusCode: 503}, sent, kindUnavailable, rotation.ErrAmbiguous},
		{"status from the wire only", errors.New("content type text/html does not have a factory"), &graphcore.Exchange{Sends: 1, Status: 502}, kindServer, rotation.ErrAmbiguous},
		{"401", odata(401, "InvalidAuthenticationToken", "expired"), sent, kindRejected, nil},
		{"403 other code", odata(403, "Forbidden", ""), sent, kindNotOwner, rotation.ErrNotOwner},
		{"400 Request_BadRequest, other message", odata(400, "Request_BadRequest", "Invalid keyId"), sent, kindRejected, nil},
		{"transport", errors.New("read: connection reset by peer"), sent, kindTransport, rotation.ErrAmbiguous},
		{"deadline after sending", context.DeadlineExceeded, sent, kindTransport, rotation.ErrAmbiguous},
		{"not sent", errors.New("token"), &graphcore.Exchange{}, kindNotSent, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := translate(tc.err, tc.x, call{name: "x", app: testObjectID}, "<sp>")
			if e.Kind != tc.wantKind {
				t.Errorf("kind = %v, want %v", e.Kind, tc.wantKind)
			}
			if tc.want != nil && !errors.Is(e, tc.want) {
				t.Errorf("%v is not %v", e, tc.want)
			}
			if tc.want == nil && e.Sentinel != nil {
				t.Errorf("sentinel = %v, want none", e.Sentinel)
			}
			_ = e.Error() // must not panic on sparse SDK errors
		})
	}
}
