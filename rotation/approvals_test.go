package rotation_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/memory"
)

// Identities of the authorization matrix, and where their roles come from.
const (
	tenant      = "aaaaaaaa-0000-4000-8000-000000000001"
	conv        = "19:room@thread.tacv2;messageid=1"
	gRequesters = "00000000-0000-4000-8000-0000000000a1"
	gApprovers  = "00000000-0000-4000-8000-0000000000a2"
	gNested     = "00000000-0000-4000-8000-0000000000a3"
	gAppRole    = "00000000-0000-4000-8000-0000000000a4"
	gPayments   = "00000000-0000-4000-8000-0000000000a5"
	tAppAdmin   = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3" // Application Administrator's template ID
	arRequest   = "00000000-0000-4000-8000-0000000000b1"
	arApprove   = "00000000-0000-4000-8000-0000000000b2"
)

var (
	alice   = rotation.Principal{ObjectID: "00000000-0000-4000-8000-00000000000a", Name: "Alice (request)"}
	bob     = rotation.Principal{ObjectID: "00000000-0000-4000-8000-00000000000b", Name: "Bob (directory role)"}
	carol   = rotation.Principal{ObjectID: "00000000-0000-4000-8000-00000000000c", Name: "Carol (nested group)"}
	dave    = rotation.Principal{ObjectID: "00000000-0000-4000-8000-00000000000d", Name: "Dave (app role via group)"}
	erin    = rotation.Principal{ObjectID: "00000000-0000-4000-8000-00000000000e", Name: "Erin (both)"}
	frank   = rotation.Principal{ObjectID: "00000000-0000-4000-8000-00000000000f", Name: "Frank (app role)"}
	mallory = rotation.Principal{ObjectID: "00000000-0000-4000-8000-000000000011", Name: "Mallory (none)"}
	pat     = rotation.Principal{ObjectID: "00000000-0000-4000-8000-000000000012", Name: "Pat (payments approver)"}
)

type approvalEnv struct {
	*world
	roles *memory.Roles
	store *memory.ApprovalStore
	ap    *rotation.Approvals
	rules map[string]rotation.AppRule
}

func newApprovalEnv(t *testing.T) *approvalEnv {
	w := newWorld(t)
	e := &approvalEnv{world: w, roles: memory.NewRoles(), store: memory.NewApprovalStore(), rules: map[string]rotation.AppRule{}}
	e.roles.AddMember(gRequesters, alice.ObjectID)
	e.roles.AddMember(gRequesters, erin.ObjectID)
	e.roles.GrantDirectoryRole(bob.ObjectID, tAppAdmin)
	e.roles.GrantDirectoryRole(erin.ObjectID, tAppAdmin)
	e.roles.AddMember(gApprovers, gNested)
	e.roles.AddMember(gNested, carol.ObjectID)
	e.roles.AddMember(gAppRole, dave.ObjectID)
	e.roles.AssignAppRole(arApprove, gAppRole, "Group")
	e.roles.AssignAppRole(arRequest, frank.ObjectID, "User")
	e.roles.AddMember(gPayments, pat.ObjectID)
	pol := policy.Builtin()
	pol.Roles = policy.Roles{
		Request: []rotation.RoleSource{{Kind: rotation.SourceGroup, ID: gRequesters}, {Kind: rotation.SourceAppRole, ID: arRequest}},
		Approve: []rotation.RoleSource{{Kind: rotation.SourceDirectoryRole, ID: tAppAdmin, Name: "Application Administrator"},
			{Kind: rotation.SourceGroup, ID: gApprovers}, {Kind: rotation.SourceAppRole, ID: arApprove}},
	}
	pol.Rules = e.rules // the cases change it before they act
	authz := &policy.Authorizer{Policy: &pol, Dir: e.roles, Audit: w.audit, Clock: w.clock, CacheFor: time.Minute}
	rot := w.rotator(false)
	n := 0
	rot.NewID = func() string { n++; return fmt.Sprintf("req-%d", n) }
	e.ap = &rotation.Approvals{Store: e.store, Authz: authz, Rotator: rot, Audit: w.audit, Clock: w.clock, Rule: pol.Rule}
	return e
}

func (e *approvalEnv) ask(who rotation.Principal) (rotation.ApprovalRequest, error) {
	return e.ap.Open(context.Background(), rotation.Ask{Caller: who, TenantID: tenant, Conversation: conv,
		Request: rotation.Request{ClientID: clientID, VaultURI: vaultURI}})
}

func (e *approvalEnv) approve(who rotation.Principal, r rotation.ApprovalRequest) (rotation.ApprovalRequest, bool, error) {
	return e.ap.Approve(context.Background(), rotation.Vote{Caller: who, TenantID: tenant, RequestID: r.ID, Digest: r.Digest, Conversation: conv})
}

func (e *approvalEnv) lastEvent() rotation.Event {
	ev := e.audit.Events()
	return ev[len(ev)-1]
}

// TestAuthorizationMatrix runs each case from a fresh tenant and checks
// the outcome and the audit record it left.
func TestAuthorizationMatrix(t *testing.T) {
	cases := []struct {
		name      string
		run       func(e *approvalEnv) (rotation.ApprovalRequest, error)
		wantErr   error
		wantState rotation.ApprovalState
		wantEvent rotation.EventType
	}{
		{"no role asks", func(e *approvalEnv) (rotation.ApprovalRequest, error) { return e.ask(mallory) },
			rotation.ErrDenied, "", rotation.EventDenied},
		{"request-only asks", func(e *approvalEnv) (rotation.ApprovalRequest, error) { return e.ask(alice) },
			nil, rotation.ApprovalPending, rotation.EventRequested},
		{"approve-only asks", func(e *approvalEnv) (rotation.ApprovalRequest, error) { return e.ask(bob) },
			rotation.ErrDenied, "", rotation.EventDenied},
		{"request through a directly assigned app role", func(e *approvalEnv) (rotation.ApprovalRequest, error) { return e.ask(frank) },
			nil, rotation.ApprovalPending, rotation.EventRequested},
		{"approver through a nested group", func(e *approvalEnv) (rotation.ApprovalRequest, error) {
			r, _ := e.ask(alice)
			r, _, err := e.approve(carol, r)
			return r, err
		}, nil, rotation.ApprovalApproved, rotation.EventApproved},
		{"approver through an app role assigned to a group", func(e *approvalEnv) (rotation.ApprovalRequest, error) {
			r, _ := e.ask(alice)
			r, _, err := e.approve(dave, r)
			return r, err
		}, nil, rotation.ApprovalApproved, rotation.EventApproved},
		{"self-approval with both roles", func(e *approvalEnv) (rotation.ApprovalRequest, error) {
			r, _ := e.ask(erin)
			r, _, err := e.approve(erin, r)
			return r, err
		}, rotation.ErrSelfApproval, rotation.ApprovalPending, rotation.EventDenied},
		{"self-approval by a requester", func(e *approvalEnv) (rotation.ApprovalRequest, error) {
			r, _ := e.ask(alice)
			r, _, err := e.approve(alice, r)
			return r, err
		}, rotation.ErrSelfApproval, rotation.ApprovalPending, rotation.EventDenied},
		{"no role approves", func(e *approvalEnv) (rotation.ApprovalRequest, error) {
			r, _ := e.ask(alice)
			r, _, err := e.approve(mallory, r)
			return r, err
		}, rotation.ErrDenied, rotation.ApprovalPending, rotation.EventDenied},
		{"approver loses the role between request and click", func(e *approvalEnv) (rotation.ApprovalRequest, error) {
			r, _ := e.ask(alice)
			e.roles.RevokeDirectoryRoles(bob.ObjectID)
			e.clock.Advance(61 * time.Second) // past the role cache
			r, _, err := e.approve(bob, r)
			return r, err
		}, rotation.ErrDenied, rotation.ApprovalPending, rotation.EventDenied},
		{"expired request", func(e *approvalEnv) (rotation.ApprovalRequest, error) {
			r, _ := e.ask(alice)
			e.clock.Advance(31 * time.Minute)
			r, _, err := e.approve(bob, r)
			return r, err
		}, rotation.ErrExpiredRequest, rotation.ApprovalExpired, rotation.EventDenied},
		{"replayed approval", func(e *approvalEnv) (rotation.ApprovalRequest, error) {
			r, _ := e.ask(alice)
			if _, _, err := e.approve(bob, r); err != nil {
				return r, err
			}
			r, _, err := e.approve(bob, r)
			return r, err
		}, rotation.ErrNotPending, rotation.ApprovalApproved, rotation.EventDenied},
		{"tampered digest", func(e *approvalEnv) (rotation.ApprovalRequest, error) {
			r, _ := e.ask(alice)
			r.Digest = strings.Repeat("0", 64)
			r, _, err := e.approve(bob, r)
			return r, err
		}, rotation.ErrTampered, rotation.ApprovalPending, rotation.EventDenied},
		{"card from another conversation", func(e *approvalEnv) (rotation.ApprovalRequest, error) {
			r, _ := e.ask(alice)
			r, _, err := e.ap.Approve(context.Background(), rotation.Vote{Caller: bob, TenantID: tenant, RequestID: r.ID, Digest: r.Digest, Conversation: "19:other@thread.tacv2"})
			return r, err
		}, rotation.ErrWrongConversation, rotation.ApprovalPending, rotation.EventDenied},
		{"approver from another tenant", func(e *approvalEnv) (rotation.ApprovalRequest, error) {
			r, _ := e.ask(alice)
			r, _, err := e.ap.Approve(context.Background(), rotation.Vote{Caller: bob, TenantID: "bbbbbbbb-0000-4000-8000-000000000002", RequestID: r.ID, Digest: r.Digest, Conversation: conv})
			return r, err
		}, rotation.ErrDenied, rotation.ApprovalPending, rotation.EventDenied},
		{"reject then approve", func(e *approvalEnv) (rotation.ApprovalRequest, error) {
			r, _ := e.ask(alice)
			if _, err := e.ap.Reject(context.Background(), rotation.Vote{Caller: carol, TenantID: tenant, RequestID: r.ID, Digest: r.Digest, Conversation: conv, Reason: "not during the freeze"}); err != nil {
				return r, err
			}
			r, _, err := e.approve(bob, r)
			return r, err
		}, rotation.ErrNotPending, rotation.ApprovalRejected, rotation.EventDenied},
		{"role lookup fails at the click", func(e *approvalEnv) (rotation.ApprovalRequest, error) {
			r, _ := e.ask(alice)
			e.roles.Fail(errors.New("graph down"))
			e.clock.Advance(61 * time.Second)
			r, _, err := e.approve(bob, r)
			return r, err
		}, rotation.ErrDenied, rotation.ApprovalPending, rotation.EventDenied},
		{"policy of 0 approvals: an approver runs directly", func(e *approvalEnv) (rotation.ApprovalRequest, error) {
			e.rules[clientID] = rotation.AppRule{Required: 0}
			return e.ask(erin)
		}, nil, rotation.ApprovalApproved, rotation.EventRequested},
		{"policy of 0 approvals: a requester still needs one", func(e *approvalEnv) (rotation.ApprovalRequest, error) {
			e.rules[clientID] = rotation.AppRule{Required: 0}
			return e.ask(alice)
		}, nil, rotation.ApprovalPending, rotation.EventRequested},
		{"policy of 2 approvals: one is not enough", func(e *approvalEnv) (rotation.ApprovalRequest, error) {
			e.rules[clientID] = rotation.AppRule{Required: 2}
			r, _ := e.ask(alice)
			r, run, err := e.approve(bob, r)
			if run {
				return r, errors.New("ran after one of two approvals")
			}
			return r, err
		}, nil, rotation.ApprovalPending, rotation.EventApproved},
		{"per-app approver approves their app", func(e *approvalEnv) (rotation.ApprovalRequest, error) {
			e.rules[clientID] = rotation.AppRule{Required: 1, Approvers: []rotation.RoleSource{{Kind: rotation.SourceGroup, ID: gPayments}}}
			r, _ := e.ask(alice)
			r, _, err := e.approve(pat, r)
			return r, err
		}, nil, rotation.ApprovalApproved, rotation.EventApproved},
		{"per-app approver has no say elsewhere", func(e *approvalEnv) (rotation.ApprovalRequest, error) {
			r, _ := e.ask(alice) // global rule: pat is nobody here
			r, _, err := e.approve(pat, r)
			return r, err
		}, rotation.ErrDenied, rotation.ApprovalPending, rotation.EventDenied},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newApprovalEnv(t)
			r, err := c.run(e)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if c.wantState != "" {
				got, _, gerr := e.store.GetApproval(context.Background(), r.ID)
				if gerr != nil || got.State != c.wantState {
					t.Fatalf("state %q (%v), want %q", got.State, gerr, c.wantState)
				}
			}
			if ev := e.lastEvent(); ev.Type != c.wantEvent || ev.Actor == "" {
				t.Fatalf("last audit event %+v, want %s", ev, c.wantEvent)
			}
			if len(e.vault.Versions(e.secretRef)) != 1 {
				t.Fatal("a decision alone changed the vault")
			}
		})
	}
}

// TestConcurrentApprovalsRunOnce races two approvers (and a replay) on a
// one-approval request, then two runners: exactly one rotation happens.
func TestConcurrentApprovalsRunOnce(t *testing.T) {
	e := newApprovalEnv(t)
	r, err := e.ask(alice)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	runs, refusals := 0, 0
	for _, who := range []rotation.Principal{bob, carol, dave, bob} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, run, err := e.approve(who, r)
			mu.Lock()
			defer mu.Unlock()
			if run {
				runs++
			}
			if errors.Is(err, rotation.ErrNotPending) || errors.Is(err, rotation.ErrAlreadyApproved) {
				refusals++
			}
		}()
	}
	wg.Wait()
	if runs != 1 || refusals != 3 {
		t.Fatalf("%d approvals completed the request and %d were refused; want 1 and 3", runs, refusals)
	}
	results := make(chan error, 2)
	for range 2 {
		go func() { _, err := e.ap.Run(context.Background(), r.ID); results <- err }()
	}
	var ran, notPending int
	for range 2 {
		err := <-results
		switch {
		case err == nil:
			ran++
		case errors.Is(err, rotation.ErrNotPending):
			notPending++
		default:
			t.Fatalf("run: %v", err)
		}
	}
	if ran != 1 || notPending != 1 {
		t.Fatalf("ran %d, refused %d", ran, notPending)
	}
	got, _, _ := e.store.GetApproval(context.Background(), r.ID)
	if got.State != rotation.ApprovalDone || got.Result.SecretURI == "" || !strings.Contains(got.ApprovedBy(), "(") {
		t.Fatalf("request after run: %+v", got)
	}
	if e.settled(t) != "rotated" {
		t.Fatal("not rotated")
	}
	latest, _ := e.vault.Get(context.Background(), e.secretRef)
	if latest.Tags[rotation.TagApprovedBy] == "" || !strings.Contains(latest.Tags[rotation.TagRequestedBy], alice.ObjectID) {
		t.Fatalf("vault tags do not say who asked and approved: %v", latest.Tags)
	}
	e.noCanary(t, fmt.Sprintf("%+v", got))
}

func TestExpireDue(t *testing.T) {
	e := newApprovalEnv(t)
	r1, _ := e.ask(alice)
	e.clock.Advance(20 * time.Minute)
	// One open request per app: the younger one is for another app.
	e.dir.AddApp(rotation.App{ObjectID: hrObject, ClientID: hrClient, DisplayName: "HR Legacy"}, true)
	r2, err := e.ap.Open(context.Background(), rotation.Ask{Caller: frank, TenantID: tenant, Conversation: conv,
		Request: rotation.Request{ClientID: hrClient, VaultURI: vaultURI}})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(11 * time.Minute)
	got, err := e.ap.ExpireDue(context.Background())
	if err != nil || len(got) != 1 || got[0].ID != r1.ID || got[0].State != rotation.ApprovalExpired {
		t.Fatalf("%+v %v", got, err)
	}
	if cur, _, _ := e.store.GetApproval(context.Background(), r2.ID); cur.State != rotation.ApprovalPending {
		t.Fatalf("the younger request expired too: %s", cur.State)
	}
	if e.lastEvent().Type != rotation.EventExpired {
		t.Fatalf("not audited: %+v", e.lastEvent())
	}
}

// failingAuditor refuses every record after the first n.
type failingAuditor struct {
	n    int
	seen int
}

func (f *failingAuditor) Record(context.Context, rotation.Event) error {
	f.seen++
	if f.seen > f.n {
		return errors.New("audit store unavailable")
	}
	return nil
}

// TestNoAuditNoAction: when the audit trail cannot be written, a request is
// not opened, a decision is not taken, and a rotation does not start.
func TestNoAuditNoAction(t *testing.T) {
	e := newApprovalEnv(t)
	e.ap.Audit = &failingAuditor{}
	if _, err := e.ask(alice); !errors.Is(err, rotation.ErrAuditFailed) {
		t.Fatalf("open: %v", err)
	}
	if open, _ := e.store.ListApprovals(context.Background()); len(open) != 0 {
		t.Fatal("a request was stored without its audit record")
	}

	e = newApprovalEnv(t)
	r, err := e.ask(alice)
	if err != nil {
		t.Fatal(err)
	}
	e.ap.Audit = &failingAuditor{}
	if _, _, err := e.approve(bob, r); !errors.Is(err, rotation.ErrAuditFailed) {
		t.Fatalf("approve: %v", err)
	}
	if got, _, _ := e.store.GetApproval(context.Background(), r.ID); got.State != rotation.ApprovalPending || len(got.Approvals) != 0 {
		t.Fatalf("a decision was taken without its audit record: %+v", got)
	}

	e.ap.Audit = e.audit
	if _, _, err := e.approve(bob, r); err != nil {
		t.Fatal(err)
	}
	e.ap.Rotator.Audit = &failingAuditor{}
	if _, err := e.ap.Run(context.Background(), r.ID); !errors.Is(err, rotation.ErrAuditFailed) {
		t.Fatalf("run: %v", err)
	}
	if len(e.vault.Versions(e.secretRef)) != 1 {
		t.Fatal("the vault changed without an audit record")
	}
	app, _ := e.dir.GetApp(context.Background(), clientID)
	if len(app.Passwords) != 1 {
		t.Fatal("a credential was added without an audit record")
	}
}

// TestEditCardKeepsAConcurrentEdit: an edit that loses the race to
// another (a second replica's, played here by an edit made while the first
// is between its read and its write) is made again on the newer card, so
// both land; an edit that changes nothing writes nothing.
func TestEditCardKeepsAConcurrentEdit(t *testing.T) {
	e := newApprovalEnv(t)
	ctx := context.Background()
	r, err := e.ask(alice)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	got, changed, err := e.ap.EditCard(ctx, r.ID, func(card []byte) ([]byte, bool) {
		calls++
		if calls == 1 {
			if _, ok, err := e.ap.EditCard(ctx, r.ID, func(card []byte) ([]byte, bool) { return append(card, "B"...), true }); err != nil || !ok {
				t.Fatalf("the other replica's edit: %v %v", ok, err)
			}
		}
		return append(card, "A"...), true
	})
	if err != nil || !changed || calls != 2 || string(got.Card) != "BA" {
		t.Fatalf("EditCard: card %q changed %v after %d calls, err %v; want \"BA\" after 2", got.Card, changed, calls, err)
	}
	stored, err := e.ap.Get(ctx, r.ID)
	if err != nil || string(stored.Card) != "BA" {
		t.Fatalf("stored card %q %v", stored.Card, err)
	}
	_, changed, err = e.ap.EditCard(ctx, r.ID, func(card []byte) ([]byte, bool) { return []byte("ignored"), false })
	if stored, _ = e.ap.Get(ctx, r.ID); err != nil || changed || string(stored.Card) != "BA" {
		t.Fatalf("an edit that changes nothing: changed %v, card %q, err %v", changed, stored.Card, err)
	}
}
