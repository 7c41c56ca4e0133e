package graphroles

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/azure/internal/graphcore/graphtest"
	"github.com/keyturn/keyturn/rotation"
)

// testOp calls one of the three methods the way the Authorizer would.
type testOp struct {
	method, suffix string
	run            func(*Client) error
}

// ops returns the three methods as testOps, by name.
func ops() map[string]testOp {
	return map[string]testOp{
		"roles": {"GET", "/microsoft.graph.directoryRole", func(c *Client) error {
			_, err := c.DirectoryRoleTemplates(context.Background(), alice)
			return err
		}},
		"groups": {"POST", "/checkMemberGroups", func(c *Client) error {
			_, err := c.MemberGroups(context.Background(), alice, []string{groupApprovers})
			return err
		}},
		"app roles": {"GET", "/appRoleAssignedTo", func(c *Client) error {
			_, err := c.AppRoleAssignments(context.Background(), []string{appRoleRequest})
			return err
		}},
	}
}

// TestForbiddenNamesThePermission: a 403 says which Graph application
// permission Keyturn lacks, and never quotes Graph's message.
func TestForbiddenNamesThePermission(t *testing.T) {
	want := map[string][]string{
		"roles":     {"User.Read.All", "RoleManagement.Read.Directory"},
		"groups":    {"User.Read.All", "GroupMember.Read.All"},
		"app roles": {"Application.Read.All"},
	}
	for name, op := range ops() {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.graph.Inject(graphtest.Fault{Method: op.method, Suffix: op.suffix, Status: 403, Code: "Authorization_RequestDenied",
				Message: "Insufficient privileges to complete the operation."})
			err := op.run(h.c)
			var re *roleError
			if !errors.As(err, &re) || re.Kind != kindPermission {
				t.Fatalf("err = %v, want a permission error", err)
			}
			for _, s := range append(want[name], "graph 403 Authorization_RequestDenied", "request-id req-1", "admin-consented") {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "Insufficient privileges") {
				t.Errorf("error %q quotes graph's message", err)
			}
			if n := h.graph.Count(op.method, op.suffix); n != 1 || len(h.sleep.Waits()) != 0 {
				t.Errorf("a 403 was retried: %d requests, waits %v", n, h.sleep.Waits())
			}
		})
	}
}

func TestUnknownUser(t *testing.T) {
	h := newHarness(t)
	for name, call := range map[string]func() error{
		"roles": func() error { _, err := h.c.DirectoryRoleTemplates(context.Background(), unknown); return err },
		"groups": func() error {
			_, err := h.c.MemberGroups(context.Background(), unknown, []string{groupApprovers})
			return err
		},
	} {
		err := call()
		var re *roleError
		if !errors.As(err, &re) || re.Kind != kindUnknownUser {
			t.Errorf("%s: err = %v, want an unknown-user error", name, err)
			continue
		}
		if !strings.Contains(err.Error(), "user "+unknown+" is unknown to the directory") ||
			!strings.Contains(err.Error(), "graph 404 Request_ResourceNotFound") {
			t.Errorf("%s: error %q does not say the user is unknown", name, err)
		}
		if strings.Contains(err.Error(), "does not exist or one of its queried") {
			t.Errorf("%s: error %q quotes graph's message", name, err)
		}
	}
	if w := h.sleep.Waits(); len(w) != 0 {
		t.Errorf("404 retried: waits %v", w)
	}

	// The service principal's 404 is a configuration error.
	opts := h.options()
	opts.ServicePrincipalID = unknown
	_, err := h.newClient(t, opts).AppRoleAssignments(context.Background(), []string{appRoleRequest})
	var re *roleError
	if !errors.As(err, &re) || re.Kind != kindUnknownSP || !strings.Contains(err.Error(), "not its client ID") {
		t.Errorf("unknown service principal: err = %v", err)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name      string
		op        string
		faults    []graphtest.Fault
		wantErr   error // nil: success; errFinal: some error
		wantHits  int
		wantWaits []time.Duration
	}{
		{name: "429 with Retry-After, then success", op: "roles",
			faults:   []graphtest.Fault{{Status: 429, Code: "TooManyRequests", Header: map[string]string{"Retry-After": "7"}}},
			wantHits: 2, wantWaits: []time.Duration{7 * time.Second}},
		{name: "429 without Retry-After backs off", op: "app roles",
			faults:   []graphtest.Fault{{Status: 429, Code: "TooManyRequests", Times: 2}},
			wantHits: 3, wantWaits: []time.Duration{time.Second, 2 * time.Second}},
		{name: "503 on checkMemberGroups (a safe POST) is retried", op: "groups",
			faults:   []graphtest.Fault{{Status: 503, Code: "ServiceUnavailable", Times: 2}},
			wantHits: 3, wantWaits: []time.Duration{time.Second, 2 * time.Second}},
		{name: "504 honours Retry-After", op: "app roles",
			faults:   []graphtest.Fault{{Status: 504, Code: "GatewayTimeout", Header: map[string]string{"Retry-After": "3"}}},
			wantHits: 2, wantWaits: []time.Duration{3 * time.Second}},
		{name: "429 every time is ErrThrottled after four attempts", op: "groups",
			faults:   []graphtest.Fault{{Status: 429, Code: "TooManyRequests", Times: -1, Header: map[string]string{"Retry-After": "2"}}},
			wantErr:  rotation.ErrThrottled,
			wantHits: 4, wantWaits: []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}},
		{name: "500 is not retried", op: "roles",
			faults:  []graphtest.Fault{{Status: 500, Code: "InternalServerError"}},
			wantErr: errFinal, wantHits: 1},
		{name: "dropped connection is not retried", op: "groups",
			faults:  []graphtest.Fault{{HangUp: true}},
			wantErr: errFinal, wantHits: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			op := ops()[tc.op]
			for _, f := range tc.faults {
				f.Method, f.Suffix = op.method, op.suffix
				h.graph.Inject(f)
			}
			err := op.run(h.c)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("err = %v, want success", err)
			case tc.wantErr == errFinal && err == nil:
				t.Fatal("succeeded, want an error")
			case tc.wantErr != nil && tc.wantErr != errFinal && !errors.Is(err, tc.wantErr):
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if n := h.graph.Count(op.method, op.suffix); n != tc.wantHits {
				t.Errorf("requests = %d, want %d", n, tc.wantHits)
			}
			if got := h.sleep.Waits(); !reflect.DeepEqual(got, tc.wantWaits) {
				t.Errorf("waits = %v, want %v", got, tc.wantWaits)
			}
		})
	}
}

// errFinal marks a want of "fails, no particular sentinel" in TestRetries.
var errFinal = errors.New("final")

func TestNotSent(t *testing.T) {
	h := newHarness(t)
	h.cred.SetErr(errors.New("AADSTS700016: application not found in the directory"))
	err := ops()["roles"].run(h.c)
	var re *roleError
	if !errors.As(err, &re) || re.Kind != kindNotSent || !strings.Contains(err.Error(), "AADSTS700016") {
		t.Fatalf("err = %v, want not sent, with the token error", err)
	}
	if n := len(h.graph.Seen()); n != 0 {
		t.Errorf("%d requests reached graph", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h.cred.SetErr(nil)
	if _, err := h.c.MemberGroups(ctx, alice, []string{groupApprovers}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v", err)
	}
}

// TestLogsHoldIDsOnly: retry notices carry the IDs, status and code, never
// the body, the token or the headers.
func TestLogsHoldIDsOnly(t *testing.T) {
	h := newHarness(t)
	const canary = "CANARY-s3cr3t-~value"
	h.graph.Inject(graphtest.Fault{Method: "POST", Suffix: "/checkMemberGroups", Status: 429, Code: "TooManyRequests", Message: canary})
	if _, err := h.c.MemberGroups(context.Background(), alice, []string{groupRequest}); err != nil {
		t.Fatalf("MemberGroups: %v", err)
	}
	logs := h.logs.String()
	for _, s := range []string{"graph request refused; retrying", `"user_oid":"` + alice + `"`, `"status":429`, `"code":"TooManyRequests"`} {
		if !strings.Contains(logs, s) {
			t.Errorf("logs lack %s:\n%s", s, logs)
		}
	}
	for _, s := range []string{canary, graphtest.Token, "Bearer"} {
		if strings.Contains(logs, s) {
			t.Errorf("logs hold %q:\n%s", s, logs)
		}
	}
}
