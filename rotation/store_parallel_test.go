package rotation_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/rotationtest"
)

// pairedVault makes each Set wait until a second Set has arrived (so two
// writes that ran one after the other would deadlock the bubble), and
// fails the write of the named secret.
type pairedVault struct {
	rotation.Vault
	failName string

	mu      sync.Mutex
	arrived int
	both    chan struct{}
}

func (v *pairedVault) Set(ctx context.Context, ref rotation.SecretRef, value rotation.Secret, p rotation.SecretProps) (rotation.StoredSecret, error) {
	v.mu.Lock()
	v.arrived++
	n := v.arrived
	if n == 2 {
		close(v.both)
	}
	v.mu.Unlock()
	if n <= 2 { // the rotation's two writes; a restore later goes straight through
		<-v.both
	}
	if ref.Name == v.failName {
		return rotation.StoredSecret{}, errors.New("injected: vault refused " + ref.Name)
	}
	return v.Vault.Set(ctx, ref, value, p)
}

// The client ID and the secret are written at the same time, and a
// failure of either one is undone: the vault keeps (or gets back) the
// previous secret and the new credential is removed.
func TestVaultWritesRunInParallelAndEitherFailureIsUndone(t *testing.T) {
	for _, tc := range []struct {
		name, fail, want string
	}{
		{"both succeed", "", "rotated"},
		{"client ID refused", "payments-api-client-id", "unchanged"},
		{"secret refused", "payments-api-client-secret", "unchanged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t)
				r := w.rotator(false)
				r.ParallelVaultCalls = true
				pv := &pairedVault{Vault: w.vault, failName: tc.fail, both: make(chan struct{})}
				r.Vault = pv
				req := request()
				req.SecretName, req.ClientIDName = "payments-api-client-secret", "payments-api-client-id"
				_, err := r.Rotate(context.Background(), req)
				if pv.arrived < 2 {
					t.Fatalf("%d vault writes, want both", pv.arrived)
				}
				if tc.fail == "" && err != nil {
					t.Fatalf("Rotate: %v", err)
				}
				if tc.fail != "" && !errors.Is(err, rotation.ErrCompensated) {
					t.Fatalf("Rotate with %s refused: %v, want ErrCompensated", tc.fail, err)
				}
				if got := w.settled(t); got != tc.want {
					t.Fatalf("settled %s, want %s", got, tc.want)
				}
			})
		})
	}
}

// A crash during the parallel writes may leave either, both or neither
// written; recovery settles each: the vault ends on a working credential
// and nothing is orphaned.
func TestCrashDuringParallelVaultWritesIsRecovered(t *testing.T) {
	for _, n := range []int{1, 2} {
		for _, kind := range []rotationtest.Kind{rotationtest.CrashBefore, rotationtest.CrashAfter} {
			t.Run(fmt.Sprintf("vault.Set#%d/%s", n, kind), func(t *testing.T) {
				w := newWorld(t)
				r := w.rotator(true)
				r.ParallelVaultCalls = true
				w.faults.Inject(rotationtest.Call{Op: "vault.Set", N: n}, kind)
				if _, crashed := runCrashable(func() error { _, err := r.Rotate(context.Background(), request()); return err }); !crashed {
					t.Fatal("no crash")
				}
				if _, err := w.rotator(false).Recover(context.Background()); err != nil {
					t.Fatalf("recover: %v", err)
				}
				w.settled(t)
			})
		}
	}
}

// pairedReads makes each of the first two Gets wait until the second has
// arrived (two reads made one after the other would deadlock the bubble),
// and fails or panics in the read of the named secret.
type pairedReads struct {
	rotation.Vault
	failName, panicName string

	mu      sync.Mutex
	arrived int
	both    chan struct{}
}

func (v *pairedReads) Get(ctx context.Context, ref rotation.SecretRef) (rotation.StoredSecret, error) {
	v.mu.Lock()
	v.arrived++
	n := v.arrived
	if n == 2 {
		close(v.both)
	}
	v.mu.Unlock()
	if n <= 2 {
		<-v.both
	}
	switch ref.Name {
	case v.failName:
		return rotation.StoredSecret{}, errors.New("injected: vault unavailable for " + ref.Name)
	case v.panicName:
		panic("injected panic reading " + ref.Name)
	}
	return v.Vault.Get(ctx, ref)
}

// Before a rotation the vault's two current secrets are read at the same
// time; a failure of either read refuses the rotation before anything is
// changed, and a panic in either is raised in the caller, not in a
// goroutine of its own (which would end the process).
func TestPreflightReadsRunInParallel(t *testing.T) {
	for _, tc := range []struct{ name, fail, panics string }{
		{"both read", "", ""},
		{"client ID unreadable", "payments-api-client-id", ""},
		{"secret unreadable", "payments-api-client-secret", ""},
		{"client ID read panics", "", "payments-api-client-id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t)
				r := w.rotator(false)
				r.ParallelVaultCalls = true
				pr := &pairedReads{Vault: w.vault, failName: tc.fail, panicName: tc.panics, both: make(chan struct{})}
				r.Vault = pr
				req := request()
				req.SecretName, req.ClientIDName = "payments-api-client-secret", "payments-api-client-id"
				minted := len(w.dir.Minted())
				var recovered any
				err := func() (err error) {
					defer func() { recovered = recover() }()
					_, err = r.Rotate(context.Background(), req)
					return err
				}()
				if pr.arrived < 2 {
					t.Fatalf("%d vault reads, want both", pr.arrived)
				}
				switch {
				case tc.panics != "":
					if recovered == nil {
						t.Fatalf("the read's panic was not raised in the caller (err %v)", err)
					}
				case tc.fail != "":
					if err == nil {
						t.Fatal("Rotate succeeded with an unreadable vault secret")
					}
				case err != nil:
					t.Fatalf("Rotate: %v", err)
				}
				want := "rotated"
				if tc.fail != "" || tc.panics != "" {
					want = "unchanged"
					if n := len(w.dir.Minted()) - minted; n != 0 {
						t.Errorf("%d passwords added by a refused rotation, want none", n)
					}
				}
				if got := w.settled(t); got != want {
					t.Fatalf("settled %s, want %s", got, want)
				}
			})
		})
	}
}
