package rotation_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/memory"
	"github.com/keyturn/keyturn/rotation/rotationtest"
)

const (
	clientID = "11111111-1111-4111-8111-111111111111"
	objectID = "22222222-2222-4222-8222-222222222222"
	ownID    = "33333333-3333-4333-8333-333333333333"
	vaultURI = "https://kv-payments.vault.azure.net/"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// world is a tenant, a vault and a journal, as a rotation finds them: one
// app with a secret made in the portal, stored by hand in the vault.
type world struct {
	clock  *rotationtest.Clock
	dir    *memory.Directory
	vault  *memory.Vault
	store  *memory.Store
	audit  *memory.AuditLog
	faults *rotationtest.Faults
	logs   *bytes.Buffer

	origKey    string
	origSecret string
	secretRef  rotation.SecretRef
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{
		clock: rotationtest.NewClock(t0), vault: memory.NewVault(), store: memory.NewStore(),
		audit: &memory.AuditLog{}, faults: rotationtest.NewFaults(), logs: &bytes.Buffer{},
		secretRef: rotation.SecretRef{VaultURI: vaultURI, Name: "payments-api-client-secret"},
	}
	w.dir = memory.NewDirectory(w.clock)
	w.dir.AddApp(rotation.App{ObjectID: objectID, ClientID: clientID, DisplayName: "Payments API", SignInAudience: "AzureADMyOrg"}, true)
	p, v := w.dir.AddExisting(clientID, "made in the portal", t0.Add(90*24*time.Hour))
	w.origKey, w.origSecret = p.KeyID, v
	if _, err := w.vault.Set(context.Background(), w.secretRef, rotation.NewSecret(v), rotation.SecretProps{}); err != nil {
		t.Fatal(err)
	}
	return w
}

// rotator returns a Rotator on w; faulty routes every call through w.faults.
func (w *world) rotator(faulty bool) *rotation.Rotator {
	p := rotation.DefaultPolicy()
	p.OwnClientID = ownID
	p.AllowedVaults = []string{vaultURI}
	r := &rotation.Rotator{
		Apps: w.dir, Vault: w.vault, Verifier: w.dir.Verifier(), Store: w.store, Audit: w.audit,
		Clock: w.clock, Policy: p, Log: slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		NewID: func() string { return "req-1" }, PrincipalID: memory.KeyturnPrincipalID,
	}
	if faulty {
		r.Apps, r.Vault, r.Verifier = w.faults.Apps(r.Apps), w.faults.Vault(r.Vault), w.faults.Verifier(r.Verifier)
		r.Store, r.Audit = w.faults.Store(r.Store), w.faults.Auditor(r.Audit)
	}
	return r
}

func request() rotation.Request {
	return rotation.Request{ClientID: clientID, VaultURI: vaultURI, RequestedBy: "dev@contoso.example", ApprovedBy: "admin@contoso.example"}
}

// runCrashable runs fn and turns an injected crash into crashed=true, as if
// the process had died there.
func runCrashable(fn func() error) (err error, crashed bool) {
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(rotationtest.Crash); !ok {
				panic(p)
			}
			crashed = true
		}
	}()
	return fn(), false
}

// settled asserts rule 2 of the brief on w and returns whether the vault now
// holds a new credential ("rotated") or the original one ("unchanged"):
// no unfinished journal record; the vault's latest secret belongs to a live
// credential and its key ID tag says which; every live credential Keyturn
// made is the one the vault holds; the credential set is the original one,
// or the original plus the new one.
func (w *world) settled(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	if open, _ := w.store.List(ctx, rotation.Filter{Unfinished: true}); len(open) != 0 {
		t.Fatalf("unfinished journal records left: %+v", open)
	}
	latest, err := w.vault.Get(ctx, w.secretRef)
	if err != nil {
		t.Fatalf("vault: %v", err)
	}
	key, ok := w.dir.KeyIDOf(clientID, latest.Value.Reveal())
	if !ok {
		t.Fatalf("the vault's latest secret %s belongs to no live credential", latest.ID)
	}
	if tag := latest.Tags[rotation.TagKeyID]; tag != "" && !strings.EqualFold(tag, key) {
		t.Fatalf("vault key ID tag %s, but the value belongs to %s", tag, key)
	}
	app, _ := w.dir.GetApp(ctx, clientID)
	for _, p := range app.Passwords {
		if strings.HasPrefix(p.DisplayName, "keyturn ") && !strings.EqualFold(p.KeyID, key) {
			t.Fatalf("orphaned credential %s (%s): its secret is not in the vault", p.KeyID, p.DisplayName)
		}
	}
	if strings.EqualFold(key, w.origKey) {
		if len(app.Passwords) != 1 {
			t.Fatalf("vault unchanged but the app has %d credentials", len(app.Passwords))
		}
		return "unchanged"
	}
	if len(app.Passwords) != 2 {
		t.Fatalf("rotated but the app has %d credentials, want the new one and the original", len(app.Passwords))
	}
	if _, ok := app.Password(w.origKey); !ok {
		t.Fatal("the original credential was removed before its overlap ended")
	}
	w.clock.Advance(time.Minute)
	if err := w.dir.Verifier().Verify(ctx, clientID, latest.Value); err != nil {
		t.Fatalf("the vault points at a credential that does not work: %v", err)
	}
	recs, _ := w.store.List(ctx, rotation.Filter{ClientID: clientID})
	last := recs[len(recs)-1]
	if last.State != rotation.StateDone || !strings.EqualFold(last.RetireKeyID, w.origKey) {
		t.Fatalf("rotated, but the journal says %s retiring %q", last.State, last.RetireKeyID)
	}
	return "rotated"
}

// noCanary asserts that no secret value the directory ever minted appears
// in any of texts or in the logs.
func (w *world) noCanary(t *testing.T, texts ...string) {
	t.Helper()
	texts = append(texts, w.logs.String())
	for _, e := range w.audit.Events() {
		texts = append(texts, fmt.Sprintf("%+v %#v", e, e))
	}
	for _, v := range w.dir.Minted() {
		for _, s := range texts {
			if strings.Contains(s, v) || strings.Contains(s, "~CANARY~") {
				t.Fatalf("a secret value leaked into output: %q", s)
			}
		}
	}
}

func TestRotateHappyPath(t *testing.T) {
	w := newWorld(t)
	res, err := w.rotator(false).Rotate(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	if got := w.settled(t); got != "rotated" {
		t.Fatalf("outcome %s", got)
	}
	if res.State != rotation.StateDone || res.PreviousKeyID != w.origKey || res.Hint == "" ||
		!strings.HasPrefix(res.SecretURI, vaultURI+"secrets/payments-api-client-secret/") ||
		!strings.HasPrefix(res.ClientIDURI, vaultURI+"secrets/payments-api-client-id/") {
		t.Fatalf("result %+v", res)
	}
	if !res.RetireAfter.Equal(w.clock.Now().Add(-time.Minute).Add(7 * 24 * time.Hour)) {
		t.Fatalf("retire after %s", res.RetireAfter)
	}
	latest, _ := w.vault.Get(context.Background(), w.secretRef)
	want := map[string]string{
		rotation.TagClientID: clientID, rotation.TagKeyID: res.KeyID, rotation.TagHint: res.Hint, rotation.TagRequestID: "req-1",
		rotation.TagRequestedBy: "dev@contoso.example", rotation.TagApprovedBy: "admin@contoso.example", rotation.TagPreviousKeyID: w.origKey,
	}
	for k, v := range want {
		if latest.Tags[k] != v {
			t.Errorf("tag %s = %q, want %q", k, latest.Tags[k], v)
		}
	}
	if latest.ContentType != rotation.ContentTypeClientSecret || !latest.NotBefore.Equal(res.Start) || !latest.Expires.Equal(res.End) {
		t.Errorf("attributes %+v, result %+v", latest.SecretProps, res)
	}
	id, _ := w.vault.Get(context.Background(), rotation.SecretRef{VaultURI: vaultURI, Name: "payments-api-client-id"})
	if id.Value.Reveal() != clientID || id.ContentType != rotation.ContentTypeClientID {
		t.Errorf("client ID secret holds the wrong value or content type %q", id.ContentType)
	}
	wantEvents := []rotation.EventType{rotation.EventStarted, rotation.EventAdding, rotation.EventAdded, rotation.EventStoring,
		rotation.EventStored, rotation.EventVerified, rotation.EventRetireSchedule, rotation.EventCompleted}
	if got := w.audit.Types(); fmt.Sprint(got) != fmt.Sprint(wantEvents) {
		t.Errorf("audit %v, want %v", got, wantEvents)
	}
	w.noCanary(t, fmt.Sprintf("%+v %#v %v", res, res, res))
}

// TestRotateFailureAtEveryStep traces a clean rotation, then for every call
// it made and every kind of failure, runs the rotation again with that one
// call failing, recovers with a fresh Rotator when the first one crashed or
// left the rotation incomplete, and checks that nothing is lost or left
// behind.
func TestRotateFailureAtEveryStep(t *testing.T) {
	clean := newWorld(t)
	if _, err := clean.rotator(true).Rotate(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	trace := clean.faults.Trace()
	if len(trace) < 20 {
		t.Fatalf("trace too short to be a rotation: %v", trace)
	}
	outcomes := map[string]int{}
	for _, call := range trace {
		for _, kind := range rotationtest.Kinds {
			t.Run(call.String()+"/"+kind.String(), func(t *testing.T) {
				w := newWorld(t)
				w.faults.Inject(call, kind)
				ctx := context.Background()
				var res rotation.Result
				err, crashed := runCrashable(func() error {
					var err error
					res, err = w.rotator(true).Rotate(ctx, request())
					return err
				})
				texts := []string{fmt.Sprintf("%+v %#v", res, res)}
				if err != nil {
					texts = append(texts, err.Error(), fmt.Sprintf("%+v", err))
				}
				switch {
				case crashed || errors.Is(err, rotation.ErrIncomplete):
					if !crashed && err.Error() == "" {
						t.Fatal("empty error")
					}
					// The outage ends; a lagging directory goes on lagging.
					w.faults.Settle()
					results, rerr := w.rotator(true).Recover(ctx)
					if rerr != nil {
						t.Fatalf("recovery failed: %v", rerr)
					}
					texts = append(texts, fmt.Sprintf("%+v", results))
					outcomes["recovered-"+w.settled(t)]++
				case err != nil:
					if got := w.settled(t); got != "unchanged" {
						t.Fatalf("rotation failed (%v) but the vault changed", err)
					}
					if kind == rotationtest.Fail && !strings.Contains(err.Error(), call.String()) {
						t.Fatalf("error does not say what failed: %v", err)
					}
					outcomes["failed-unchanged"]++
				default:
					if got := w.settled(t); got != "rotated" {
						t.Fatalf("rotation succeeded but the vault is %s", got)
					}
					outcomes["rotated"]++
				}
				w.noCanary(t, texts...)
			})
		}
	}
	// The tally pins the saga's behaviour as a whole: which faults end in
	// a rotation, a clean failure, or a recovery, and which way recovery
	// goes. A change here means some fault now ends differently: read the
	// subtests, and update the numbers only for a change you meant.
	want := map[string]int{"rotated": 55, "failed-unchanged": 52, "recovered-rotated": 47, "recovered-unchanged": 38}
	if fmt.Sprint(outcomes) != fmt.Sprint(want) {
		t.Errorf("%d calls × %d kinds: outcomes %v, want %v", len(trace), len(rotationtest.Kinds), outcomes, want)
	}
}
