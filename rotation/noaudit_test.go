package rotation_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/rotationtest"
)

// writes are the calls that change the directory, a vault or the journal's
// per-app lock: the actions the audit trail announces.
var writes = map[string]bool{"apps.AddPassword": true, "apps.RemovePassword": true, "vault.Set": true, "vault.Recover": true, "store.Begin": true}

// auditFlow is one thing the Rotator does, traced through w.faults.
type auditFlow struct {
	name string
	// setup prepares w without going through w.faults.
	setup func(t *testing.T, w *world)
	run   func(ctx context.Context, r *rotation.Rotator) error
	// settles says whether, after recovery, w must be settled as after a
	// rotation (rule 2).
	settles bool
}

func rotateFlow(ctx context.Context, r *rotation.Rotator) error {
	_, err := r.Rotate(ctx, request())
	return err
}

var auditFlows = []auditFlow{
	{name: "rotate", run: rotateFlow, settles: true},
	{name: "rotate, verification fails and is undone", setup: func(_ *testing.T, w *world) { w.dir.DisableTokens(clientID) }, run: rotateFlow, settles: true},
	{name: "rotate, an addPassword answer is lost", setup: func(_ *testing.T, w *world) {
		w.faults.Inject(rotationtest.Call{Op: "apps.AddPassword", N: 1}, rotationtest.TimeoutAfter)
	}, run: rotateFlow, settles: true},
	{name: "recover after a crash", setup: func(t *testing.T, w *world) {
		f := rotationtest.NewFaults()
		r := w.rotator(false)
		r.Vault = f.Vault(r.Vault)
		f.Inject(rotationtest.Call{Op: "vault.Set", N: 2}, rotationtest.CrashBefore)
		if _, crashed := runCrashable(func() error { return rotateFlow(context.Background(), r) }); !crashed {
			t.Fatal("no crash")
		}
	}, run: func(ctx context.Context, r *rotation.Rotator) error { _, err := r.Recover(ctx); return err }, settles: true},
	{name: "retire", setup: func(t *testing.T, w *world) {
		if err := rotateFlow(context.Background(), w.rotator(false)); err != nil {
			t.Fatal(err)
		}
	}, run: func(ctx context.Context, r *rotation.Rotator) error {
		_, err := r.Retire(ctx, rotation.RetireOptions{Early: true})
		return err
	}},
	{name: "sweep", setup: func(_ *testing.T, w *world) {
		w.dir.AddExisting(clientID, "keyturn lost-request", t0.Add(time.Hour))
	}, run: func(ctx context.Context, r *rotation.Rotator) error {
		r.KnownApps = []string{clientID}
		_, err := r.Sweep(ctx)
		return err
	}},
}

// TestNoAuditNoActionAtEveryAuditedStep traces each flow, then fails each
// of its audit writes in turn: after a failed audit write, no write to the
// directory, a vault or the journal's lock may follow until another audit
// write has succeeded. Undo steps included. Flows that rotate must then be
// settled by recovery once the trail works again.
func TestNoAuditNoActionAtEveryAuditedStep(t *testing.T) {
	for _, flow := range auditFlows {
		clean := newWorld(t)
		if flow.setup != nil {
			flow.setup(t, clean)
		}
		before := len(clean.audit.Events())
		_ = flow.run(context.Background(), clean.rotator(true))
		events := clean.audit.Events()[before:]
		if len(events) == 0 {
			t.Fatalf("%s: nothing audited", flow.name)
		}
		for k, ev := range events {
			failed := rotationtest.Call{Op: "audit.Record", N: k + 1}
			t.Run(fmt.Sprintf("%s/%s#%d", flow.name, ev.Type, k+1), func(t *testing.T) {
				w := newWorld(t)
				if flow.setup != nil {
					flow.setup(t, w)
				}
				w.faults.Inject(failed, rotationtest.Fail)
				_ = flow.run(context.Background(), w.rotator(true))
				unaudited := false
				for _, c := range w.faults.Trace() {
					switch {
					case c.Op == "audit.Record":
						unaudited = c == failed
					case unaudited && writes[c.Op]:
						t.Fatalf("%s ran after the audit record %s (%s) failed", c, failed, ev.Type)
					}
				}
				if flow.settles {
					w.faults.Settle()
					if _, err := w.rotator(false).Recover(context.Background()); err != nil {
						t.Fatalf("recovery once the trail works: %v", err)
					}
					w.settled(t)
				}
			})
		}
	}
}
