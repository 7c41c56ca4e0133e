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

// pair holds the first of two calls until the second has arrived: two
// calls made one after the other deadlock a synctest bubble. Later calls
// go straight through.
type pair struct {
	mu      sync.Mutex
	arrived int
	both    chan struct{}
}

func newPair() pair { return pair{both: make(chan struct{})} }

func (p *pair) arrive() {
	p.mu.Lock()
	p.arrived++
	n := p.arrived
	if n == 2 {
		close(p.both)
	}
	p.mu.Unlock()
	if n <= 2 {
		<-p.both
	}
}

// pairedVault pairs the rotation's two Sets (a restore later goes straight
// through) and fails the write of the named secret.
type pairedVault struct {
	rotation.Vault
	failName string
	pair
}

func (v *pairedVault) Set(ctx context.Context, ref rotation.SecretRef, value rotation.Secret, p rotation.SecretProps) (rotation.StoredSecret, error) {
	v.arrive()
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
				pv := &pairedVault{Vault: w.vault, failName: tc.fail, pair: newPair()}
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

// pairedReads pairs the first two Gets and fails or panics in the read of
// the named secret.
type pairedReads struct {
	rotation.Vault
	failName, panicName string
	pair
}

func (v *pairedReads) Get(ctx context.Context, ref rotation.SecretRef) (rotation.StoredSecret, error) {
	v.arrive()
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
				pr := &pairedReads{Vault: w.vault, failName: tc.fail, panicName: tc.panics, pair: newPair()}
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
