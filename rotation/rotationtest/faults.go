package rotationtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// Kind is a kind of injected failure.
type Kind int

// The failures Faults can inject into a call.
const (
	// Fail returns a definite error; the call did nothing.
	Fail Kind = iota
	// TimeoutBefore returns rotation.ErrAmbiguous; the call did nothing.
	TimeoutBefore
	// TimeoutAfter performs the call, then returns rotation.ErrAmbiguous,
	// like a 504 after which the write exists anyway.
	TimeoutAfter
	// CrashBefore panics with Crash before the call: the process dies.
	CrashBefore
	// CrashAfter performs the call, then panics with Crash.
	CrashAfter

	// The "listing lags" class: the call is performed and its answer is
	// lost, and the directory's listings lag behind it. For the next
	// LagReads apps.GetApp calls, credentials that apps.AddPassword
	// created since the fault are missing from the listing, as when a
	// directory replica that has not seen the write answers the read.

	// LagTimeoutAfter is TimeoutAfter with lagging listings.
	LagTimeoutAfter
	// LagCrashAfter is CrashAfter with lagging listings.
	LagCrashAfter

	// The "undo fails too" class.

	// UndoFails returns a definite error, like Fail, and makes the next
	// apps.RemovePassword and the next vault.Set fail as well: the
	// outage that broke the step also breaks the step that undoes it.
	UndoFails
)

// LagReads is how many listings lag after a fault of the listing-lags
// class.
const LagReads = 3

func (k Kind) String() string {
	return [...]string{"fail", "timeout-before", "timeout-after", "crash-before", "crash-after",
		"lag-timeout-after", "lag-crash-after", "undo-fails"}[k]
}

// Kinds lists every Kind.
var Kinds = []Kind{Fail, TimeoutBefore, TimeoutAfter, CrashBefore, CrashAfter, LagTimeoutAfter, LagCrashAfter, UndoFails}

// Crash is the panic value of an injected crash.
type Crash struct {
	Op   string
	Call int
}

// ErrInjected is the cause of every injected Fail.
var ErrInjected = errors.New("injected failure")

// Faults injects failures into the calls it wraps and records the sequence
// of calls (op names such as "apps.AddPassword#1"), so a test can first
// trace a clean run and then fail each call of it in turn.
type Faults struct {
	mu    sync.Mutex
	calls map[string]int
	trace []Call
	rules map[Call]Kind
	errs  map[Call]error // what an injected failure returns instead of the kind's own error

	armed    map[string]bool // ops whose next call fails (UndoFails)
	lagReads int             // listings that still lag
	hidden   map[string]bool // key IDs lagging listings leave out
}

// Call names the n-th call (from 1) of an operation.
type Call struct {
	Op string
	N  int
}

func (c Call) String() string { return fmt.Sprintf("%s#%d", c.Op, c.N) }

// NewFaults returns a Faults that injects nothing yet.
func NewFaults() *Faults {
	return &Faults{calls: map[string]int{}, rules: map[Call]Kind{}, errs: map[Call]error{}, armed: map[string]bool{}, hidden: map[string]bool{}}
}

// Inject makes call c fail with kind k.
func (f *Faults) Inject(c Call, k Kind) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules[c] = k
}

// InjectError makes call c fail with kind k, returning err instead of the
// kind's own error. It plays a failure as an adapter reports it: a test
// passes the sentinel the adapter's translation gives (rotation.ErrThrottled
// for a 429 that outlasted the retries, rotation.ErrAmbiguous for a 5xx, a
// reset connection or an unreadable body), wrapped with words like the
// adapter's. Only Fail, UndoFails, TimeoutBefore and the timeout-after kinds
// return an error; crashes panic as with Inject.
func (f *Faults) InjectError(c Call, k Kind, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules[c], f.errs[c] = k, err
}

// Trace returns the calls made so far, in order.
func (f *Faults) Trace() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.trace...)
}

// Settle drops every injected failure that has not fired yet, including
// those UndoFails armed, as when the outage ends. Listings that lag go on
// lagging.
func (f *Faults) Settle() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules, f.errs, f.armed = map[Call]Kind{}, map[Call]error{}, map[string]bool{}
}

func (f *Faults) next(op string) (Call, Kind, error, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	c := Call{Op: op, N: f.calls[op]}
	f.trace = append(f.trace, c)
	if f.armed[op] {
		delete(f.armed, op)
		return c, Fail, nil, true
	}
	k, ok := f.rules[c]
	switch {
	case ok && (k == LagTimeoutAfter || k == LagCrashAfter):
		f.lagReads = LagReads
	case ok && k == UndoFails:
		f.armed["apps.RemovePassword"], f.armed["vault.Set"] = true, true
	}
	return c, k, f.errs[c], ok
}

// added notes a credential created while listings lag.
func (f *Faults) added(keyID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lagReads > 0 {
		f.hidden[strings.ToLower(keyID)] = true
	}
}

// listed returns app as a lagging listing shows it.
func (f *Faults) listed(app rotation.App) rotation.App {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lagReads == 0 {
		return app
	}
	f.lagReads--
	var keep []rotation.PasswordCredential
	for _, p := range app.Passwords {
		if !f.hidden[strings.ToLower(p.KeyID)] {
			keep = append(keep, p)
		}
	}
	app.Passwords = keep
	if f.lagReads == 0 {
		f.hidden = map[string]bool{}
	}
	return app
}

func do[T any](f *Faults, op string, fn func() (T, error)) (T, error) {
	c, k, custom, ok := f.next(op)
	var zero T
	if !ok {
		return fn()
	}
	switch k {
	case Fail, UndoFails:
		if custom != nil {
			return zero, fmt.Errorf("%s: %w", c, custom)
		}
		return zero, fmt.Errorf("%s: %w", c, ErrInjected)
	case TimeoutBefore:
		if custom != nil {
			return zero, fmt.Errorf("%s: %w", c, custom)
		}
		return zero, fmt.Errorf("%s: %w: %w", c, rotation.ErrAmbiguous, context.DeadlineExceeded)
	case CrashBefore:
		panic(Crash{Op: op, Call: c.N})
	}
	v, err := fn()
	if err != nil {
		return v, err
	}
	if k == CrashAfter || k == LagCrashAfter {
		panic(Crash{Op: op, Call: c.N})
	}
	if custom != nil {
		return zero, fmt.Errorf("%s: %w", c, custom)
	}
	return zero, fmt.Errorf("%s: %w: %w", c, rotation.ErrAmbiguous, context.DeadlineExceeded)
}

func do0(f *Faults, op string, fn func() error) error {
	_, err := do(f, op, func() (struct{}, error) { return struct{}{}, fn() })
	return err
}

// Apps wraps a.
func (f *Faults) Apps(a rotation.Applications) rotation.Applications { return faultyApps{f, a} }

// Vault wraps v.
func (f *Faults) Vault(v rotation.Vault) rotation.Vault { return faultyVault{f, v} }

// Store wraps s.
func (f *Faults) Store(s rotation.Store) rotation.Store { return faultyStore{f, s} }

// Auditor wraps a.
func (f *Faults) Auditor(a rotation.Auditor) rotation.Auditor { return faultyAuditor{f, a} }

// Verifier wraps v.
func (f *Faults) Verifier(v rotation.Verifier) rotation.Verifier { return faultyVerifier{f, v} }

type faultyApps struct {
	f *Faults
	a rotation.Applications
}

func (x faultyApps) GetApp(ctx context.Context, clientID string) (rotation.App, error) {
	return do(x.f, "apps.GetApp", func() (rotation.App, error) {
		app, err := x.a.GetApp(ctx, clientID)
		return x.f.listed(app), err
	})
}

func (x faultyApps) AddPassword(ctx context.Context, objectID, name string, end time.Time) (rotation.NewPassword, error) {
	return do(x.f, "apps.AddPassword", func() (rotation.NewPassword, error) {
		np, err := x.a.AddPassword(ctx, objectID, name, end)
		if err == nil {
			x.f.added(np.KeyID)
		}
		return np, err
	})
}

func (x faultyApps) RemovePassword(ctx context.Context, objectID, keyID string) error {
	return do0(x.f, "apps.RemovePassword", func() error { return x.a.RemovePassword(ctx, objectID, keyID) })
}

type faultyVault struct {
	f *Faults
	v rotation.Vault
}

func (x faultyVault) Get(ctx context.Context, ref rotation.SecretRef) (rotation.StoredSecret, error) {
	return do(x.f, "vault.Get", func() (rotation.StoredSecret, error) { return x.v.Get(ctx, ref) })
}

func (x faultyVault) Set(ctx context.Context, ref rotation.SecretRef, value rotation.Secret, p rotation.SecretProps) (rotation.StoredSecret, error) {
	return do(x.f, "vault.Set", func() (rotation.StoredSecret, error) { return x.v.Set(ctx, ref, value, p) })
}

func (x faultyVault) Recover(ctx context.Context, ref rotation.SecretRef) error {
	return do0(x.f, "vault.Recover", func() error { return x.v.Recover(ctx, ref) })
}

func (x faultyVault) List(ctx context.Context, vaultURI string) ([]rotation.StoredSecret, error) {
	return do(x.f, "vault.List", func() ([]rotation.StoredSecret, error) { return x.v.List(ctx, vaultURI) })
}

type faultyStore struct {
	f *Faults
	s rotation.Store
}

func (x faultyStore) Begin(ctx context.Context, r rotation.Record) error {
	return do0(x.f, "store.Begin", func() error { return x.s.Begin(ctx, r) })
}

func (x faultyStore) Save(ctx context.Context, r rotation.Record) error {
	return do0(x.f, "store.Save", func() error { return x.s.Save(ctx, r) })
}

func (x faultyStore) Get(ctx context.Context, id string) (rotation.Record, error) {
	return do(x.f, "store.Get", func() (rotation.Record, error) { return x.s.Get(ctx, id) })
}

func (x faultyStore) List(ctx context.Context, flt rotation.Filter) ([]rotation.Record, error) {
	return do(x.f, "store.List", func() ([]rotation.Record, error) { return x.s.List(ctx, flt) })
}

type faultyAuditor struct {
	f *Faults
	a rotation.Auditor
}

func (x faultyAuditor) Record(ctx context.Context, e rotation.Event) error {
	return do0(x.f, "audit.Record", func() error { return x.a.Record(ctx, e) })
}

type faultyVerifier struct {
	f *Faults
	v rotation.Verifier
}

func (x faultyVerifier) Verify(ctx context.Context, clientID string, s rotation.Secret) error {
	return do0(x.f, "verify", func() error { return x.v.Verify(ctx, clientID, s) })
}
