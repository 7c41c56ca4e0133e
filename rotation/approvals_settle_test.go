package rotation_test

import (
	"context"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/rotationtest"
)

// approved opens a request as alice and approves it as bob.
func (e *approvalEnv) approved(t *testing.T) rotation.ApprovalRequest {
	t.Helper()
	r, err := e.ask(alice)
	if err != nil {
		t.Fatal(err)
	}
	r, run, err := e.approve(bob, r)
	if err != nil || !run {
		t.Fatalf("approve: %v %v", run, err)
	}
	return r
}

// TestReconcileClaimedButNeverStarted: a runner claimed the request and
// died before the rotation was journaled. Until a runner's job could still
// be alive the request stays running; after that it fails, audited, and
// nothing was changed.
func TestReconcileClaimedButNeverStarted(t *testing.T) {
	e := newApprovalEnv(t)
	r := e.approved(t)
	cur, etag, _ := e.store.GetApproval(context.Background(), r.ID)
	cur.State, cur.UpdatedAt = rotation.ApprovalRunning, e.clock.Now()
	if _, err := e.store.UpdateApproval(context.Background(), cur, etag); err != nil {
		t.Fatal(err)
	}
	const stale = 16 * time.Minute
	if got, changed, err := e.ap.Reconcile(context.Background(), r.ID, stale); err != nil || changed || got.State != rotation.ApprovalRunning {
		t.Fatalf("within the runner's time: %q %v %v", got.State, changed, err)
	}
	e.clock.Advance(stale)
	got, changed, err := e.ap.Reconcile(context.Background(), r.ID, stale)
	if err != nil || !changed || got.State != rotation.ApprovalFailed || got.Result.State.Final() {
		t.Fatalf("after the runner's time: %q (result %q) %v %v", got.State, got.Result.State, changed, err)
	}
	if ev := e.lastEvent(); ev.Type != rotation.EventFailed || ev.RequestID != r.ID {
		t.Fatalf("not audited: %+v", ev)
	}
}

// TestReconcileFollowsTheJournal: a rotation crashes mid-way inside Run;
// the request stays running while its record is unfinished, and takes the
// record's outcome once recovery settled it: done when the secret reached
// the vault, failed when the rotation was undone.
func TestReconcileFollowsTheJournal(t *testing.T) {
	for _, tc := range []struct {
		crash rotationtest.Call
		kind  rotationtest.Kind
		want  rotation.ApprovalState
	}{
		{rotationtest.Call{Op: "vault.Set", N: 1}, rotationtest.CrashBefore, rotation.ApprovalFailed},
		{rotationtest.Call{Op: "vault.Set", N: 2}, rotationtest.CrashAfter, rotation.ApprovalDone},
	} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			e := newApprovalEnv(t)
			r := e.approved(t)
			e.ap.Rotator = e.rotator(true)
			e.faults.Inject(tc.crash, tc.kind)
			if _, crashed := runCrashable(func() error { _, err := e.ap.Run(context.Background(), r.ID); return err }); !crashed {
				t.Fatal("no crash")
			}
			if got, changed, err := e.ap.Reconcile(context.Background(), r.ID, time.Minute); err != nil || changed || got.State != rotation.ApprovalRunning {
				t.Fatalf("while the record is unfinished: %q %v %v", got.State, changed, err)
			}
			if _, err := e.rotator(false).Recover(context.Background()); err != nil {
				t.Fatal(err)
			}
			got, changed, err := e.ap.Reconcile(context.Background(), r.ID, time.Minute)
			if err != nil || !changed || got.State != tc.want || !got.Result.State.Final() {
				t.Fatalf("after recovery: %q (result %q) %v %v, want %q", got.State, got.Result.State, changed, err, tc.want)
			}
		})
	}
}
