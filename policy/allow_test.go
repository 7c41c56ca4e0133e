package policy

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/memory"
	"github.com/keyturn/keyturn/rotation/rotationtest"
)

// The tenant of the decision table: where each role comes from.
const (
	gRequesters = "00000000-0000-4000-8000-0000000000a1"
	gApprovers  = "00000000-0000-4000-8000-0000000000a2"
	gNested     = "00000000-0000-4000-8000-0000000000a3" // inside gApprovers
	gPayOwners  = "00000000-0000-4000-8000-0000000000a4" // per-app approvers of payments-api
	tAppAdmin   = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	arApprove   = "00000000-0000-4000-8000-0000000000b2"
	arRequest   = "00000000-0000-4000-8000-0000000000b1"
	gAppRole    = "00000000-0000-4000-8000-0000000000a5" // holds arApprove

	appPay    = "00000000-0000-4000-8000-00000000c001" // payments-api: 1 approval, per-app approvers
	appDirect = "00000000-0000-4000-8000-00000000c002" // quick-api: 0 approvals
	appOther  = "00000000-0000-4000-8000-00000000c003" // not listed: the defaults
)

type user struct {
	name string
	oid  string
}

var (
	requester = user{"requester (group)", "00000000-0000-4000-8000-00000000000a"}
	admin     = user{"approver (directory role)", "00000000-0000-4000-8000-00000000000b"}
	nested    = user{"approver (nested group)", "00000000-0000-4000-8000-00000000000c"}
	viaGroup  = user{"approver (app role through a group)", "00000000-0000-4000-8000-00000000000d"}
	both      = user{"requester and approver", "00000000-0000-4000-8000-00000000000e"}
	payOwner  = user{"per-app approver of payments-api", "00000000-0000-4000-8000-00000000000f"}
	appRoleU  = user{"requester (app role assigned to the user)", "00000000-0000-4000-8000-000000000012"}
	nobody    = user{"no role", "00000000-0000-4000-8000-000000000011"}
)

func tablePolicy() *Policy {
	p := Builtin()
	p.Roles = Roles{
		Request: []rotation.RoleSource{{Kind: rotation.SourceGroup, ID: gRequesters, Name: "sg-requesters"}, {Kind: rotation.SourceAppRole, ID: arRequest, Name: "Keyturn.Request"}},
		Approve: []rotation.RoleSource{{Kind: rotation.SourceDirectoryRole, ID: tAppAdmin, Name: "Application Administrator"},
			{Kind: rotation.SourceGroup, ID: gApprovers, Name: "sg-approvers"}, {Kind: rotation.SourceAppRole, ID: arApprove, Name: "Keyturn.Approve"}},
	}
	p.Apps["payments-api"] = App{Alias: "payments-api", ClientID: appPay}
	p.Apps["quick-api"] = App{Alias: "quick-api", ClientID: appDirect}
	p.Rules[appPay] = rotation.AppRule{Required: 1, Approvers: []rotation.RoleSource{{Kind: rotation.SourceGroup, ID: gPayOwners, Name: "sg-payments-owners"}}}
	p.Rules[appDirect] = rotation.AppRule{Required: 0}
	return &p
}

func tableDirectory() *memory.Roles {
	d := memory.NewRoles()
	d.AddMember(gRequesters, requester.oid)
	d.GrantDirectoryRole(admin.oid, tAppAdmin)
	d.AddMember(gApprovers, gNested)
	d.AddMember(gNested, nested.oid)
	d.AddMember(gAppRole, viaGroup.oid)
	d.AssignAppRole(arApprove, gAppRole, "Group")
	d.AddMember(gRequesters, both.oid)
	d.GrantDirectoryRole(both.oid, tAppAdmin)
	d.AddMember(gPayOwners, payOwner.oid)
	d.AssignAppRole(arRequest, appRoleU.oid, "User")
	return d
}

// TestDecisionTable is the whole authorization matrix: every user, through
// every kind of role source, against every action and every kind of app.
// A letter per action, in the order of Actions(): R request, D request
// that runs directly, A approve, S status, T retire, H audit here, X radar
// here, E expiring, W whoami; '-' refused.
func TestDecisionTable(t *testing.T) {
	actions := Actions()
	want := map[user]map[string]string{ // user → app → decisions
		requester: {appPay: "R-S---EW", appDirect: "R-S---EW", appOther: "R-S---EW"},
		admin:     {appPay: "-ASTHXEW", appDirect: "DASTHXEW", appOther: "-ASTHXEW"},
		nested:    {appPay: "-ASTHXEW", appDirect: "DASTHXEW", appOther: "-ASTHXEW"},
		viaGroup:  {appPay: "-ASTHXEW", appDirect: "DASTHXEW", appOther: "-ASTHXEW"},
		both:      {appPay: "RASTHXEW", appDirect: "DASTHXEW", appOther: "RASTHXEW"},
		payOwner:  {appPay: "-AST---W", appDirect: "-------W", appOther: "-------W"},
		appRoleU:  {appPay: "R-S---EW", appDirect: "R-S---EW", appOther: "R-S---EW"},
		nobody:    {appPay: "-------W", appDirect: "-------W", appOther: "-------W"},
	}
	letters := map[rotation.Action]string{rotation.ActionRequest: "R", rotation.ActionApprove: "A", ActionStatus: "S",
		ActionRetire: "T", ActionAuditHere: "H", ActionRadarHere: "X", ActionExpiring: "E", ActionWhoAmI: "W"}
	clock := rotationtest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	audit := &memory.AuditLog{}
	a := &Authorizer{Policy: tablePolicy(), Dir: tableDirectory(), Audit: audit, Clock: clock, CacheFor: time.Minute}
	ctx := context.Background()
	for u, apps := range want {
		for app, row := range apps {
			t.Run(fmt.Sprintf("%s/%s", u.name, app), func(t *testing.T) {
				got := ""
				for _, act := range actions {
					before := len(audit.Events())
					d, err := a.Authorize(ctx, rotation.Attempt{Who: rotation.Principal{ObjectID: u.oid, Name: u.name}, Action: act, ClientID: app})
					switch {
					case d.Allowed && d.Direct:
						got += "D"
					case d.Allowed:
						got += letters[act]
					default:
						got += "-"
					}
					if d.Allowed != (err == nil) {
						t.Errorf("%s: allowed %v with error %v", act, d.Allowed, err)
					}
					if !d.Allowed && !errors.Is(err, rotation.ErrDenied) {
						t.Errorf("%s: refusal %v does not wrap ErrDenied", act, err)
					}
					if d.Rule == "" {
						t.Errorf("%s: the decision names no rule", act)
					}
					ev := audit.Events()
					if len(ev) != before+1 {
						t.Fatalf("%s: %d audit records, want exactly one per decision", act, len(ev)-before)
					}
					wantType := rotation.EventDenied
					if d.Allowed {
						wantType = rotation.EventAllowed
					}
					if e := ev[len(ev)-1]; e.Type != wantType || e.Actor == "" || e.ClientID != app || e.Time.IsZero() {
						t.Errorf("%s: audit record %+v", act, e)
					}
				}
				if got != row {
					t.Errorf("decisions %s, want %s", got, row)
				}
			})
		}
	}
}

// TestDecisionSaysWhy: a refusal names the rules and role sources that
// would allow it and what the caller holds, for the bot's words.
func TestDecisionSaysWhy(t *testing.T) {
	p := tablePolicy()
	payOwners := p.Rules[appPay].Approvers[0]
	d, err := p.Allow(Grants{Held: []rotation.RoleSource{payOwners}}, rotation.Attempt{Action: ActionAuditHere})
	if err != nil || d.Allowed || d.Rule != "roles.approve" || len(d.Needs) != 3 {
		t.Errorf("audit here by a per-app approver: %+v, %v", d, err)
	}
	if len(d.Held) != 1 || d.Held[0].Name != "sg-payments-owners" {
		t.Errorf("held %+v", d.Held)
	}
	d, _ = p.Allow(Grants{}, rotation.Attempt{Action: ActionStatus, ClientID: appPay})
	if want := "roles.request or roles.approve or apps.payments-api.approvers"; d.Rule != want || len(d.Needs) != 6 {
		t.Errorf("status refused: rule %q needs %d, want %q and 6", d.Rule, len(d.Needs), want)
	}
	d, _ = p.Allow(Grants{Held: []rotation.RoleSource{payOwners}}, rotation.Attempt{Action: ActionRetire, ClientID: appPay})
	if !d.Allowed || d.Rule != "apps.payments-api.approvers" {
		t.Errorf("retire by the per-app approver: %+v", d)
	}
	if _, err := p.Allow(Grants{}, rotation.Attempt{Action: "rotate everything"}); err == nil {
		t.Error("an action outside the table was decided")
	}
}

// TestLookupFailureRefuses: when the directory fails, every action that
// needs a role is refused, the failure is kept, and the refusal audited.
func TestLookupFailureRefuses(t *testing.T) {
	dir := tableDirectory()
	dir.Fail(errors.New("graph down"))
	audit := &memory.AuditLog{}
	a := &Authorizer{Policy: tablePolicy(), Dir: dir, Audit: audit, Clock: rotationtest.NewClock(time.Now())}
	d, err := a.Authorize(context.Background(), rotation.Attempt{Who: rotation.Principal{ObjectID: admin.oid}, Action: rotation.ActionApprove, ClientID: appPay})
	var denied *rotation.DeniedError
	if d.Allowed || !errors.As(err, &denied) || denied.Err == nil || !errors.Is(err, rotation.ErrDenied) {
		t.Fatalf("decision %+v, err %v", d, err)
	}
	if ev := audit.Events(); len(ev) != 1 || ev[0].Type != rotation.EventDenied {
		t.Errorf("audit %+v", ev)
	}
	// What everyone may do stays allowed; the decision says the roles
	// are unknown.
	d, err = a.Authorize(context.Background(), rotation.Attempt{Who: rotation.Principal{ObjectID: admin.oid}, Action: ActionWhoAmI})
	if err != nil || !d.Allowed || d.Why == "" || len(d.Held) != 0 {
		t.Errorf("whoami with the directory down: %+v, %v", d, err)
	}
}

// TestNoAuditNoAction: an allowed decision that cannot be recorded is
// refused.
func TestNoAuditNoAction(t *testing.T) {
	a := &Authorizer{Policy: tablePolicy(), Dir: tableDirectory(), Audit: failingAudit{}, Clock: rotationtest.NewClock(time.Now())}
	_, err := a.Authorize(context.Background(), rotation.Attempt{Who: rotation.Principal{ObjectID: admin.oid}, Action: ActionStatus, ClientID: appPay})
	if !errors.Is(err, rotation.ErrAuditFailed) {
		t.Errorf("err %v, want ErrAuditFailed", err)
	}
}

type failingAudit struct{}

func (failingAudit) Record(context.Context, rotation.Event) error { return errors.New("store down") }

// TestRoleCacheNeverOutlivesSixtySeconds: however long the cache is
// configured, a revoked role stops counting 60 s after it was looked up.
func TestRoleCacheNeverOutlivesSixtySeconds(t *testing.T) {
	ctx := context.Background()
	clock := rotationtest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	dir := tableDirectory()
	a := &Authorizer{Policy: tablePolicy(), Dir: dir, Audit: &memory.AuditLog{}, Clock: clock, CacheFor: 24 * time.Hour}
	approve := rotation.Attempt{Who: rotation.Principal{ObjectID: admin.oid}, Action: rotation.ActionApprove, ClientID: appOther}
	if d, err := a.Check(ctx, approve); err != nil || !d.Allowed {
		t.Fatalf("before the revocation: %+v %v", d, err)
	}
	dir.RevokeDirectoryRoles(admin.oid)
	clock.Advance(MaxRoleCache - time.Second)
	if d, _ := a.Check(ctx, approve); !d.Allowed {
		t.Fatal("the cache did not answer within its time: the test would prove nothing")
	}
	clock.Advance(time.Second)
	if d, err := a.Check(ctx, approve); err == nil || d.Allowed {
		t.Fatalf("a revoked role still counts %s after the lookup: %+v %v", MaxRoleCache, d, err)
	}
	if MaxRoleCache > 60*time.Second {
		t.Fatalf("MaxRoleCache is %s, more than the 60 s the README promises", MaxRoleCache)
	}
}
