package graphapps

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/keyturn/keyturn/azure/internal/graphcore"
	"github.com/keyturn/keyturn/azure/internal/graphcore/graphtest"
	"github.com/keyturn/keyturn/rotation"
)

func TestRetries(t *testing.T) {
	type step = graphtest.Fault
	tests := []struct {
		name      string
		op        string // get, add, remove
		faults    []step
		wantErr   error // nil: success
		wantHits  int
		wantWaits []time.Duration
	}{
		{
			name:      "add: 429 with Retry-After, then success",
			op:        "add",
			faults:    []step{{Method: "POST", Suffix: "/addPassword", Status: 429, Code: "TooManyRequests", Message: "throttled", Header: map[string]string{"Retry-After": "7"}}},
			wantHits:  2,
			wantWaits: []time.Duration{7 * time.Second},
		},
		{
			name:      "add: 429 with a huge Retry-After waits the cap",
			op:        "add",
			faults:    []step{{Method: "POST", Suffix: "/addPassword", Status: 429, Code: "TooManyRequests", Header: map[string]string{"Retry-After": "3600"}}},
			wantHits:  2,
			wantWaits: []time.Duration{graphcore.MaxRetryAfter},
		},
		{
			name:      "add: 429 without Retry-After backs off",
			op:        "add",
			faults:    []step{{Method: "POST", Suffix: "/addPassword", Status: 429, Code: "TooManyRequests", Times: 2}},
			wantHits:  3,
			wantWaits: []time.Duration{time.Second, 2 * time.Second},
		},
		{
			name:      "add: 429 every time is ErrThrottled after four attempts",
			op:        "add",
			faults:    []step{{Method: "POST", Suffix: "/addPassword", Status: 429, Code: "TooManyRequests", Times: -1, Header: map[string]string{"Retry-After": "2"}}},
			wantErr:   rotation.ErrThrottled,
			wantHits:  4,
			wantWaits: []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second},
		},
		{
			name: "add: 400 concurrent requests, then success",
			op:   "add",
			faults: []step{{Method: "POST", Suffix: "/addPassword", Status: 400, Code: "Request_BadRequest",
				Message: "Error due to concurrent requests being made to the tenant. Please wait briefly and retry."}},
			wantHits:  2,
			wantWaits: []time.Duration{time.Second},
		},
		{
			name:      "add: 409 Directory_ConcurrencyViolation, then success",
			op:        "add",
			faults:    []step{{Method: "POST", Suffix: "/addPassword", Status: 409, Code: "Directory_ConcurrencyViolation", Message: "Error due to concurrent requests being made to the tenant."}},
			wantHits:  2,
			wantWaits: []time.Duration{time.Second},
		},
		{
			name:     "add: another 400 Request_BadRequest is not retried",
			op:       "add",
			faults:   []step{{Method: "POST", Suffix: "/addPassword", Status: 400, Code: "Request_BadRequest", Message: "Invalid value specified for property 'endDateTime'."}},
			wantErr:  errRejected,
			wantHits: 1,
		},
		{
			name:     "add: 503 is ambiguous and sent once",
			op:       "add",
			faults:   []step{{Method: "POST", Suffix: "/addPassword", Status: 503, Code: "ServiceUnavailable", Header: map[string]string{"Retry-After": "0"}}},
			wantErr:  rotation.ErrAmbiguous,
			wantHits: 1,
		},
		{
			name:     "add: 500 is ambiguous and sent once",
			op:       "add",
			faults:   []step{{Method: "POST", Suffix: "/addPassword", Status: 500, Code: "InternalServerError"}},
			wantErr:  rotation.ErrAmbiguous,
			wantHits: 1,
		},
		{
			name:     "add: gateway 504 with an HTML body is ambiguous",
			op:       "add",
			faults:   []step{{Method: "POST", Suffix: "/addPassword", Status: 504, ContentType: "text/html", Body: "<html>Gateway Timeout</html>"}},
			wantErr:  rotation.ErrAmbiguous,
			wantHits: 1,
		},
		{
			name:     "add: dropped connection is ambiguous",
			op:       "add",
			faults:   []step{{Method: "POST", Suffix: "/addPassword", HangUp: true}},
			wantErr:  rotation.ErrAmbiguous,
			wantHits: 1,
		},
		{
			name:      "get: 503 twice, then success",
			op:        "get",
			faults:    []step{{Method: "GET", Suffix: "')", Status: 503, Code: "ServiceUnavailable", Times: 2}},
			wantHits:  3,
			wantWaits: []time.Duration{time.Second, 2 * time.Second},
		},
		{
			name:      "get: 504 honours Retry-After",
			op:        "get",
			faults:    []step{{Method: "GET", Suffix: "')", Status: 504, Code: "GatewayTimeout", Header: map[string]string{"Retry-After": "3"}}},
			wantHits:  2,
			wantWaits: []time.Duration{3 * time.Second},
		},
		{
			name:      "get: 503 every time is ambiguous",
			op:        "get",
			faults:    []step{{Method: "GET", Suffix: "')", Status: 503, Code: "ServiceUnavailable", Times: -1}},
			wantErr:   rotation.ErrAmbiguous,
			wantHits:  4,
			wantWaits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
		},
		{
			name:      "get: 429 with Retry-After, then success",
			op:        "get",
			faults:    []step{{Method: "GET", Suffix: "')", Status: 429, Code: "TooManyRequests", Header: map[string]string{"Retry-After": "4"}}},
			wantHits:  2,
			wantWaits: []time.Duration{4 * time.Second},
		},
		{
			name:     "get: 403 is ErrNotOwner and not retried",
			op:       "get",
			faults:   []step{{Method: "GET", Suffix: "')", Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges."}},
			wantErr:  rotation.ErrNotOwner,
			wantHits: 1,
		},
		{
			name:     "get: 500 is not retried",
			op:       "get",
			faults:   []step{{Method: "GET", Suffix: "')", Status: 500, Code: "InternalServerError"}},
			wantErr:  rotation.ErrAmbiguous,
			wantHits: 1,
		},
		{
			name:      "remove: 429 then success",
			op:        "remove",
			faults:    []step{{Method: "POST", Suffix: "/removePassword", Status: 429, Code: "TooManyRequests", Header: map[string]string{"Retry-After": "5"}}},
			wantHits:  2,
			wantWaits: []time.Duration{5 * time.Second},
		},
		{
			name:      "remove: 504 then success",
			op:        "remove",
			faults:    []step{{Method: "POST", Suffix: "/removePassword", Status: 504, Code: "GatewayTimeout"}},
			wantHits:  2,
			wantWaits: []time.Duration{time.Second},
		},
		{
			name:      "remove: concurrent requests then success",
			op:        "remove",
			faults:    []step{{Method: "POST", Suffix: "/removePassword", Status: 400, Code: "Request_BadRequest", Message: "Error due to concurrent requests being made to the tenant. Please wait briefly and retry."}},
			wantHits:  2,
			wantWaits: []time.Duration{time.Second},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			for _, f := range tc.faults {
				h.graph.Inject(f)
			}
			ctx := context.Background()
			var err error
			var suffix, method string
			switch tc.op {
			case "get":
				_, err = h.c.GetApp(ctx, testClientID)
				method, suffix = http.MethodGet, "')"
			case "add":
				_, err = h.c.AddPassword(ctx, testObjectID, "keyturn-r7", testEnd)
				method, suffix = http.MethodPost, "/addPassword"
			case "remove":
				err = h.c.RemovePassword(ctx, testObjectID, oldKeyID)
				method, suffix = http.MethodPost, "/removePassword"
			}
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("err = %v, want success", err)
			case tc.wantErr == errRejected:
				var ge *graphError
				if !errors.As(err, &ge) || ge.Kind != kindRejected {
					t.Fatalf("err = %v, want a rejection without sentinel", err)
				}
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got := h.graph.Count(method, suffix); got != tc.wantHits {
				t.Errorf("%s ...%s reached graph %d times, want %d", method, suffix, got, tc.wantHits)
			}
			if got := h.sleep.Waits(); !reflect.DeepEqual(got, tc.wantWaits) {
				t.Errorf("sleeps = %v, want %v", got, tc.wantWaits)
			}
		})
	}
}

// errRejected marks a want of "refused, no sentinel" in TestRetries.
var errRejected = errors.New("rejected")
