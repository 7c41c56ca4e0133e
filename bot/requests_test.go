package bot

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/rotation"
)

// openCard asks for a rotation of payments-api as oid and returns the
// approval card's request ID and digest once the card is attached.
func (h *harness) openCard(t *testing.T, oid string) (string, string) {
	t.Helper()
	before := len(h.conn.all())
	if code, _ := h.sendSigned(as(t, fixture(t, "activity/channel_mention.json"), oid)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the approval card, attached to its request", func() bool {
		open, _ := h.state.ListApprovals(context.Background())
		return len(h.conn.all()) > before && len(open) == 1 && len(open[0].Card) > 0
	})
	m := actionRE.FindStringSubmatch(h.conn.all()[before].Raw)
	if m == nil {
		t.Fatalf("no approval card: %s", h.conn.all()[before].Raw)
	}
	return m[1], m[2]
}

func TestASecondRequestPointsToTheFirstCard(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	id, _ := h.openCard(t, devOID)
	second := withField(t, as(t, fixture(t, "activity/channel_mention.json"), meganOID), "id", "second-ask")
	if code, _ := h.sendSigned(second); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the answer to the second request", func() bool { return len(h.conn.all()) == 2 })
	got := h.conn.all()[1].Body["text"]
	want := "A request to rotate Payments API is already open: Test User asked at 12:00 UTC; its card is above in this conversation (reference " + id + "). Approve or reject that one, or ask again after it expires at 12:30 UTC."
	if got != want {
		t.Fatalf("second request answered\n%q\nwant\n%q", got, want)
	}
	open, _ := h.state.ListApprovals(context.Background())
	if len(open) != 1 || open[0].ID != id {
		t.Fatalf("open requests: %+v", open)
	}
	if ev := h.audit.Events(); ev[len(ev)-1].Type != rotation.EventDenied || !strings.Contains(ev[len(ev)-1].Detail, id) {
		t.Fatalf("the refusal is not audited with the first request: %+v", ev[len(ev)-1])
	}
}

func TestAStaleRequestIsSupersededOnItsCard(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	id, digest := h.openCard(t, devOID)
	// The app is rotated meanwhile on the command line.
	if _, err := h.srv.cfg.Rotations.Rotate(context.Background(), rotation.Request{ClientID: payments, VaultURI: testVault, RequestedBy: "ops"}); err != nil {
		t.Fatal(err)
	}
	if _, resp := h.invoke(t, adminOID, "approve-stale", "approve", id, digest, nil); resp["statusCode"] != float64(200) {
		t.Fatalf("approve: %v", resp)
	}
	waitFor(t, "the superseded card", func() bool {
		all := h.conn.all()
		return strings.Contains(all[len(all)-1].Raw, "Superseded")
	})
	if h.rotations() != 1 {
		t.Fatalf("%d rotations started, want only the command line's", h.rotations())
	}
	_, resp := h.invoke(t, adminOID, "approve-again", "approve", id, digest, nil)
	if resp["statusCode"] != float64(403) || !strings.Contains(fmt.Sprint(resp["value"]), "can no longer be approved") {
		t.Fatalf("approving a superseded request: %v", resp)
	}
}

func TestTheClickersCardFollowsTheRequestToItsEnd(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	id, digest := h.openCard(t, devOID)
	_, resp := h.invoke(t, adminOID, "reject-1", "reject", id, digest, map[string]any{"reason": "not now"})
	if resp["statusCode"] != float64(200) {
		t.Fatalf("reject: %v", resp)
	}
	all := h.conn.all()
	last := all[len(all)-1]
	if last.Method != http.MethodPut || !strings.Contains(last.Raw, "Rejected") || !strings.Contains(last.Raw, `"userIds":["29:<user-mri>"]`) {
		t.Fatalf("the rejected card must refresh for the one who clicked: %s", last.Raw)
	}
	// Their client refreshes: they get the final card, like everyone else.
	_, resp = h.invoke(t, adminOID, "refresh-1", "refresh", id, digest, nil)
	if resp["statusCode"] != float64(200) || !strings.Contains(fmt.Sprint(resp["value"]), "Rejected") {
		t.Fatalf("refresh after the end: %v", resp)
	}
}

// TestOneReferencePerInteraction: the reference a refusal quotes is the
// request_id of its log lines and the reference of its audit record.
func TestOneReferencePerInteraction(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	if code, _ := h.sendSigned(as(t, fixture(t, "activity/channel_mention.json"), nobodyID)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the refusal", func() bool { return len(h.conn.all()) == 1 })
	m := refRE.FindStringSubmatch(fmt.Sprint(h.conn.all()[0].Body["text"]))
	if m == nil {
		t.Fatalf("no reference in %v", h.conn.all()[0].Body["text"])
	}
	ref := m[1]
	found := false
	for _, e := range h.audit.Events() {
		found = found || e.Type == rotation.EventDenied && e.Ref == ref
	}
	if !found {
		t.Fatalf("no denial with reference %s: %+v", ref, h.audit.Events())
	}
	if !strings.Contains(h.logs.String(), `"request_id":"`+ref+`"`) {
		t.Fatalf("no log line with request_id %s", ref)
	}
}

var refRE = regexp.MustCompile(`\(reference ([0-9a-f]+)\)`)

// TestAnUnknownClientIDIsExplained: a client ID that is not listed and
// that the directory does not know gets words, not "not found".
func TestAnUnknownClientIDIsExplained(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	unknown := "99999999-9999-4999-8999-999999999999"
	act := withField(t, as(t, fixture(t, "activity/channel_mention.json"), devOID), "text", "<at>Keyturn</at> rotate "+unknown)
	if code, _ := h.sendSigned(act); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the answer", func() bool { return len(h.conn.all()) == 1 })
	got := fmt.Sprint(h.conn.all()[0].Body["text"])
	for _, want := range []string{"I don't know an app with client ID `" + unknown + "`", "not one of the listed apps", "can still be rotated by client ID into an allowed vault"} {
		if !strings.Contains(got, want) {
			t.Errorf("answer %q lacks %q", got, want)
		}
	}
}

// TestTheRequesterIsToldSomeoneElseMustApprove: the requester's client
// refreshes the card too, and their own version says why they see no
// buttons: they asked (even when they may approve).
func TestTheRequesterIsToldSomeoneElseMustApprove(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	id, digest := h.openCard(t, devOID)
	if raw := h.conn.all()[0].Raw; !strings.Contains(raw, `"userIds":["29:admin","29:<user-mri>"]`) {
		t.Fatalf("the card must refresh for the approver and the requester: %s", raw)
	}
	_, resp := h.invoke(t, devOID, "refresh-requester", "refresh", id, digest, nil)
	if resp["statusCode"] != float64(200) || !strings.Contains(fmt.Sprint(resp["value"]), "You asked for this rotation, so someone else must approve it.") {
		t.Fatalf("the requester's version: %v", resp)
	}
}

// TestAFailedCardSaysWhyWithTheFix: Keyturn stops being an owner of the
// app between the request and the approval; the card ends failed with the
// cause in words and the command that fixes it, never the error's text.
func TestAFailedCardSaysWhyWithTheFix(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	id, digest := h.openCard(t, devOID)
	h.dir.AddApp(rotation.App{ObjectID: paymentsObj, ClientID: payments, DisplayName: "Payments API"}, false)
	if _, resp := h.invoke(t, adminOID, "approve-1", "approve", id, digest, nil); resp["statusCode"] != float64(200) {
		t.Fatalf("approve: %v", resp)
	}
	waitFor(t, "the failed card", func() bool {
		all := h.conn.all()
		return strings.Contains(all[len(all)-1].Raw, "Rotation failed")
	})
	all := h.conn.all()
	raw := all[len(all)-1].Raw
	if !strings.Contains(raw, "An owner of the app can add me: az ad app owner add --id "+payments+" --owner-object-id ") {
		t.Fatalf("the failed card lacks the fix: %s", raw)
	}
	if strings.Contains(raw, "does not list Keyturn") || strings.Contains(raw, "keyturn is not an owner") {
		t.Fatalf("the failed card shows the error's text: %s", raw)
	}
}
