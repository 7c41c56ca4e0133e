package tablekv

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/keyturn/keyturn/store/kv"
)

// responseError builds the error the SDK returns for a failed response.
func responseError(status int, headerCode, body string) error {
	req, _ := http.NewRequest(http.MethodGet, "https://acct.table.core.windows.net/keyturn()", nil)
	resp := &http.Response{
		StatusCode: status,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    req,
	}
	if headerCode != "" {
		resp.Header.Set("x-ms-error-code", headerCode)
	}
	return runtime.NewResponseError(resp)
}

func TestTranslate(t *testing.T) {
	odata := func(code string) string {
		return `{"odata.error":{"code":"` + code + `","message":{"lang":"en-US","value":"BODY-TEXT"}}}`
	}
	other := errors.New("dial tcp: connection refused")
	tests := []struct {
		name string
		err  error
		want error // nil: no sentinel, the error passes through
	}{
		{"nil", nil, nil},
		{"transport", other, other},
		{"table missing", responseError(404, "TableNotFound", odata("TableNotFound")), ErrTableNotFound},
		{"entity missing", responseError(404, "ResourceNotFound", odata("ResourceNotFound")), kv.ErrNotFound},
		{"code only in body", responseError(404, "", odata("TableNotFound")), ErrTableNotFound},
		{"exists", responseError(409, "EntityAlreadyExists", odata("EntityAlreadyExists")), kv.ErrExists},
		{"table exists", responseError(409, "TableAlreadyExists", ""), errTableExists},
		{"table being deleted", responseError(409, "TableBeingDeleted", ""), nil},
		{"precondition", responseError(412, "UpdateConditionNotSatisfied", ""), kv.ErrConflict},
		{"too large", responseError(400, "PropertyValueTooLarge", ""), kv.ErrInvalid},
		{"entity too large", responseError(400, "EntityTooLarge", ""), kv.ErrInvalid},
		{"invalid input", responseError(400, "InvalidInput", ""), kv.ErrInvalid},
		{"body too large", responseError(413, "RequestBodyTooLarge", ""), kv.ErrInvalid},
		{"other 400", responseError(400, "InvalidHeaderValue", ""), nil},
		{"forbidden", responseError(403, "AuthorizationPermissionMismatch", odata("AuthorizationPermissionMismatch")), nil},
		{"throttled", responseError(503, "ServerBusy", ""), nil},
	}
	sentinels := []error{kv.ErrNotFound, kv.ErrExists, kv.ErrConflict, kv.ErrInvalid, ErrTableNotFound, errTableExists}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := translate(tt.err)
			if tt.err == nil {
				if got != nil {
					t.Fatalf("translate(nil) = %v", got)
				}
				return
			}
			for _, s := range sentinels {
				if errors.Is(got, s) != (s == tt.want) {
					t.Errorf("translate(%s): errors.Is(%v) = %v", tt.name, s, !(s == tt.want))
				}
			}
			var re *azcore.ResponseError
			isResponse := errors.As(tt.err, &re)
			switch {
			case tt.want == nil && isResponse && !errors.As(got, &re):
				t.Errorf("unmapped %v lost its *azcore.ResponseError", got)
			case tt.want != nil && isResponse && strings.Contains(got.Error(), "BODY-TEXT"):
				t.Errorf("mapped error %q quotes the response body", got)
			case tt.want == other && !errors.Is(got, other):
				t.Errorf("transport error became %v", got)
			}
		})
	}
}
