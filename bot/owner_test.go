package bot

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// TestNotOwnedAppGetsTheFixAndNoCard: an app Keyturn may read but does not
// own is refused at the request, with the command that makes Keyturn an
// owner; no approval card is posted, no request is stored, and the
// refusal is audited.
func TestNotOwnedAppGetsTheFixAndNoCard(t *testing.T) {
	const hr, hrObj = "66666666-6666-4666-8666-666666666666", "55555555-5555-4555-8555-555555555555"
	h := newHarness(t, harnessOpts{})
	h.dir.AddApp(rotation.App{ObjectID: hrObj, ClientID: hr, DisplayName: "HR Legacy"}, false)
	act := withField(t, as(t, fixture(t, "activity/channel_mention.json"), devOID), "text", "<at>Keyturn</at> rotate "+hr)
	if code, _ := h.sendSigned(act); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "a reply", func() bool { return len(h.conn.all()) >= 1 })
	if err := h.shutdown(); err != nil { // finishes in-flight work: nothing more is posted after this
		t.Fatal(err)
	}
	all := h.conn.all()
	if len(all) != 1 {
		t.Fatalf("%d posts, want the one refusal", len(all))
	}
	reply := all[0].Raw
	if !strings.Contains(reply, "not an owner") || !strings.Contains(reply, "az ad app owner add --id "+hr+" --owner-object-id ") {
		t.Fatalf("reply does not say how to fix it: %s", reply)
	}
	if strings.Contains(reply, "AdaptiveCard") || strings.Contains(reply, "application/vnd.microsoft.card") {
		t.Fatalf("an approval card was posted for an app Keyturn does not own: %s", reply)
	}
	if open, err := h.state.ListApprovals(t.Context()); err != nil || len(open) != 0 {
		t.Fatalf("a request was stored: %+v %v", open, err)
	}
	denied := false
	for _, e := range h.audit.Events() {
		if e.Type == rotation.EventDenied && e.ClientID == hr {
			denied = true
		}
	}
	if !denied || h.rotations() != 0 {
		t.Fatalf("audit %v, %d rotations", h.audit.Types(), h.rotations())
	}
}

// TestSchedulerSweepsOrphans (issue 8, finding 5): a rotation that ended
// failed while a lagging listing hid its credential left that credential
// live, its secret in no vault. The next scheduler tick removes it,
// audited.
func TestSchedulerSweepsOrphans(t *testing.T) {
	h := newHarness(t, harnessOpts{noServe: true}) // this test drives the only ticks: a startup tick could sweep first
	ctx := t.Context()
	rec := rotation.Record{ID: "req-lagged", State: rotation.StateFailed, ClientID: payments, AppObjectID: paymentsObj,
		DisplayName: "keyturn req-lagged", SecretRef: rotation.SecretRef{VaultURI: testVault, Name: "payments-api-client-secret"}}
	if err := h.state.Begin(ctx, rec); err != nil {
		t.Fatal(err)
	}
	orphan, _ := h.dir.AddExisting(payments, "keyturn req-lagged", h.clock.Now().Add(time.Hour))
	h.srv.tick(ctx)
	if _, ok := h.dir.SecretOf(payments, orphan.KeyID); ok {
		t.Fatal("the scheduler left the orphaned credential")
	}
	audited := false
	for _, e := range h.audit.Events() {
		audited = audited || e.Type == rotation.EventOrphanRemoving && e.KeyID == orphan.KeyID
	}
	if !audited {
		t.Fatalf("removal not audited: %v", h.audit.Types())
	}
}
