package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/bot/activity"
	"github.com/keyturn/keyturn/radar"
	"github.com/keyturn/keyturn/rotation"
)

// ownedFake lists the harness directory's one app as Keyturn's own.
type ownedFake struct {
	dir interface {
		GetApp(ctx context.Context, clientID string) (rotation.App, error)
	}
}

func (o ownedFake) OwnedApps(ctx context.Context, fn func([]rotation.App) error) error {
	a, err := o.dir.GetApp(ctx, payments)
	if err != nil {
		return err
	}
	return fn([]rotation.App{a})
}

type vaultLister map[string][]rotation.StoredSecret

func (v vaultLister) List(_ context.Context, uri string) ([]rotation.StoredSecret, error) {
	return v[uri], nil
}

// TestRadarPostsOncePerThresholdAndFollowsTheRotation drives the radar's
// passes over days: the first pass posts a card, later passes update it in
// place until a threshold is crossed, a second replica on the same store
// posts nothing twice, and once the app is rotated the card says so.
func TestRadarPostsOncePerThresholdAndFollowsTheRotation(t *testing.T) {
	h := newHarness(t, harnessOpts{}) // the serving scheduler runs no radar: the passes below are the test's
	ctx := context.Background()
	radarSetup(t, h)
	cfg := h.srv.cfg
	cfg.Radar = &Radar{Scanner: &radar.Scanner{Apps: ownedFake{h.dir}, Vault: vaultLister{}, Journal: h.state, Vaults: []string{testVault}}, Marks: h.state}
	one := &Server{cfg: cfg, log: h.srv.log}
	cfg.Holder = "replica-2"
	other := &Server{cfg: cfg, log: h.srv.log}

	pass := func(s *Server) RadarOutcome {
		t.Helper()
		out, err := s.radarPass(ctx, h.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	posts := func() (post, put int, last string) {
		for _, p := range h.conn.all() {
			if !strings.Contains(p.Raw, "Payments API") {
				continue
			}
			switch p.Method {
			case "POST":
				post++
			case "PUT":
				put++
			}
			last = p.Raw
		}
		return
	}

	if out := pass(one); out.Posted != 1 || out.Apps != 1 {
		t.Fatalf("first pass: %+v", out)
	}
	if out := pass(other); out.Posted != 0 || out.Updated != 1 {
		t.Fatalf("the second replica updates the same card, never posts it again: %+v", out)
	}
	h.clock.Advance(24 * time.Hour)
	if out := pass(one); out.Posted != 0 || out.Updated != 1 {
		t.Fatalf("next day, same threshold: %+v", out)
	}
	h.clock.Advance(3 * 24 * time.Hour) // 6 days left: the 7-day threshold
	if out := pass(one); out.Posted != 1 {
		t.Fatalf("crossing 7 days posts again: %+v", out)
	}
	if post, _, last := posts(); post != 2 || !strings.Contains(last, "made in the portal") || !strings.Contains(last, "not in any Keyturn vault") {
		t.Fatalf("%d posts; last %s", post, last)
	}

	// Rotate: the portal secret is replaced and, once nothing is inside the
	// window, the card changes in place to say so.
	res, err := h.srv.cfg.Rotations.Rotate(ctx, rotation.Request{ClientID: payments, VaultURI: testVault, RequestedBy: "dev", ApprovedBy: "admin"})
	if err != nil || res.State != rotation.StateDone {
		t.Fatalf("rotate: %v %+v", err, res)
	}
	if out := pass(one); out.Updated != 1 || out.Posted != 0 {
		t.Fatalf("after the rotation: %+v", out)
	}
	if _, _, last := posts(); !strings.Contains(last, "Rotated: Payments API") {
		t.Fatalf("the card follows the rotation: %s", last)
	}
	if out := pass(one); out.Updated != 0 || out.Posted != 0 {
		t.Fatalf("a resolved card stays quiet: %+v", out)
	}
	for _, p := range h.conn.all() {
		if strings.Contains(p.Raw, "~") || strings.Contains(p.Raw, "REDACTED") {
			t.Fatalf("a post carries something secret-like: %s", p.Raw)
		}
	}
}

// TestRadarCommandsAndButton: "radar here" is for approvers in a channel
// and is audited; "expiring" lists what the radar sees for anyone who may
// request; a radar card's Request rotation button opens the normal request
// as the clicker, and refuses someone with no role.
func TestRadarCommandsAndButton(t *testing.T) {
	h := newHarness(t, harnessOpts{radar: true})
	ctx := context.Background()
	now := h.clock.Now()
	h.dir.AddApp(rotation.App{ObjectID: paymentsObj, ClientID: payments, DisplayName: "Payments API", Passwords: []rotation.PasswordCredential{
		{KeyID: "00000000-0000-4000-8000-0000000000aa", DisplayName: "made in the portal", Hint: "abc", Start: now.Add(-100 * 24 * time.Hour), End: now.Add(10 * 24 * time.Hour)},
	}}, true)
	say := func(oid, id, text string) string {
		t.Helper()
		before := len(h.conn.all())
		act := withField(t, withField(t, as(t, fixture(t, "activity/channel_mention.json"), oid), "text", "<at>Keyturn</at> "+text), "id", id)
		if code, _ := h.sendSigned(act); code != http.StatusOK {
			t.Fatalf("%q: status %d", text, code)
		}
		waitFor(t, "the reply to "+text, func() bool { return len(h.conn.all()) > before })
		return h.conn.all()[len(h.conn.all())-1].Raw
	}

	if got := say(devOID, "m1", "radar here"); !strings.Contains(got, "Making a conversation the radar channel needs a role that may approve rotations") {
		t.Fatalf("a requester may not choose the radar channel: %s", got)
	}
	if got := say(adminOID, "m2", "radar here"); !strings.Contains(got, "now Keyturn's radar channel") {
		t.Fatalf("an approver makes this the radar channel: %s", got)
	}
	var ch radarChannel
	if err := h.state.Setting(ctx, radarChannelSetting, &ch); err != nil || ch.Ref.ConversationID != "19:<channel>@thread.tacv2" {
		t.Fatalf("the channel (not the thread) is stored: %+v %v", ch, err)
	}
	var configured, denied bool
	for _, e := range h.audit.Events() {
		configured = configured || (e.Type == rotation.EventConfigChanged && strings.Contains(e.Detail, "radar channel set to"))
		denied = denied || (e.Type == rotation.EventDenied && strings.Contains(e.Detail, "radar here"))
	}
	if !configured || !denied {
		t.Fatalf("both decisions are audited: configured %v, denied %v", configured, denied)
	}

	if got := say(nobodyID, "m3", "expiring"); !strings.Contains(got, "Listing expiring secrets needs a role that may ask for rotations or approve rotations") {
		t.Fatalf("no role, no list: %s", got)
	}
	if got := say(devOID, "m4", "expiring within 14d"); !strings.Contains(got, "Client secrets expiring within 14 days") || !strings.Contains(got, "Payments API") {
		t.Fatalf("the inventory card: %s", got)
	}

	click := func(oid, id string) map[string]any {
		t.Helper()
		act := as(t, fixture(t, "activity/channel_mention.json"), oid)
		act = withField(t, act, "type", "invoke")
		act = withField(t, act, "id", id)
		act = withField(t, act, "name", "adaptiveCard/action")
		act = withField(t, act, "text", "")
		act = withField(t, act, "value", map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "radar-request",
			"data": map[string]any{"clientId": payments}}, "trigger": "manual"})
		_, body := h.sendSigned(act)
		var r map[string]any
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("invoke answered %q", body)
		}
		return r
	}
	if r := click(nobodyID, "i1"); r["statusCode"] != float64(http.StatusForbidden) {
		t.Fatalf("no role, no request: %v", r)
	}
	before := len(h.conn.all())
	if r := click(devOID, "i2"); r["statusCode"] != float64(http.StatusOK) || !strings.Contains(r["value"].(string), "Asking for approval") {
		t.Fatalf("the button opens a request: %v", r)
	}
	waitFor(t, "the approval card", func() bool {
		for _, p := range h.conn.all()[before:] {
			if strings.Contains(p.Raw, "Approval needed") {
				return true
			}
		}
		return false
	})
	if r := click(devOID, "i2"); !strings.Contains(fmt.Sprint(r["value"]), "Asked already") {
		t.Fatalf("a re-delivered click opens nothing twice: %v", r)
	}
}

// TestRadarOpensTheRequestThePolicyAsksFor: with auto_request_before, the
// radar opens the rotation request itself when the app's secret comes that
// close to its end, audited as allowed by that rule and requested by the
// radar; under approvals: 0 it rotates with no one asked, and it opens no
// second request for the same credential.
func TestRadarOpensTheRequestThePolicyAsksFor(t *testing.T) {
	h := newHarness(t, harnessOpts{direct: true})
	ctx := context.Background()
	radarSetup(t, h)
	cfg := h.srv.cfg
	cfg.Radar = &Radar{Scanner: &radar.Scanner{Apps: ownedFake{h.dir}, Vault: vaultLister{}, Journal: h.state, Vaults: []string{testVault}},
		Marks: h.state, AutoRequestBefore: func(id string) time.Duration {
			if id == payments {
				return 14 * 24 * time.Hour
			}
			return 0
		}}
	s := &Server{cfg: cfg, log: h.srv.log}

	out, err := s.radarPass(ctx, h.clock.Now())
	if err != nil || out.AutoRequests != 1 || out.Posted != 1 {
		t.Fatalf("first pass: %+v %v", out, err)
	}
	var allowed, requested, rotated bool
	for _, e := range h.audit.Events() {
		allowed = allowed || (e.Type == rotation.EventAllowed && strings.Contains(e.Detail, "auto_request_before") && strings.Contains(e.Actor, "expiry radar"))
		requested = requested || (e.Type == rotation.EventRequested && strings.Contains(e.Actor, "expiry radar"))
		rotated = rotated || e.Type == rotation.EventCompleted
	}
	if !allowed || !requested || !rotated {
		t.Fatalf("allowed %v, requested by the radar %v, rotated %v: %v", allowed, requested, rotated, h.audit.Types())
	}
	out, err = s.radarPass(ctx, h.clock.Now())
	if err != nil || out.AutoRequests != 0 {
		t.Fatalf("a second pass opens nothing again: %+v %v", out, err)
	}
}

// TestRadarWaitsForARequestAlreadyOpen: while someone's request for the
// app is open, the radar's automatic request is not made (so it is not
// refused, and audited as refused, at every scan); once that request has
// ended, the next scan opens it.
func TestRadarWaitsForARequestAlreadyOpen(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ctx := context.Background()
	radarSetup(t, h)
	id, digest := h.openCard(t, devOID)
	cfg := h.srv.cfg
	cfg.Radar = &Radar{Scanner: &radar.Scanner{Apps: ownedFake{h.dir}, Vault: vaultLister{}, Journal: h.state, Vaults: []string{testVault}},
		Marks: h.state, AutoRequestBefore: func(string) time.Duration { return 14 * 24 * time.Hour }}
	s := &Server{cfg: cfg, log: h.srv.log}

	for range 2 {
		out, err := s.radarPass(ctx, h.clock.Now())
		if err != nil || out.AutoRequests != 0 || out.Failed != 0 {
			t.Fatalf("a pass while a request is open: %+v %v", out, err)
		}
	}
	for _, e := range h.audit.Events() {
		if e.Type == rotation.EventDenied {
			t.Fatalf("the radar's waiting was audited as a refusal: %+v", e)
		}
	}
	if _, resp := h.invoke(t, adminOID, "reject-open", "reject", id, digest, map[string]any{"reason": "not this one"}); resp["statusCode"] != float64(200) {
		t.Fatalf("reject: %v", resp)
	}
	out, err := s.radarPass(ctx, h.clock.Now())
	if err != nil || out.AutoRequests != 1 {
		t.Fatalf("the pass after the request ended: %+v %v", out, err)
	}
	open, ok, err := h.srv.cfg.Approvals.OpenFor(ctx, "<tenant-id>", payments)
	if err != nil || !ok || open.RequestedBy != radarPrincipal {
		t.Fatalf("the open request is not the radar's: %+v %v %v", open, ok, err)
	}
}

// radarSetup gives the harness's Payments API a portal-made secret that
// ends in 10 days and makes a channel the radar channel.
func radarSetup(t *testing.T, h *harness) {
	t.Helper()
	now := h.clock.Now()
	h.dir.AddApp(rotation.App{ObjectID: paymentsObj, ClientID: payments, DisplayName: "Payments API", Passwords: []rotation.PasswordCredential{
		{KeyID: "00000000-0000-4000-8000-0000000000aa", DisplayName: "made in the portal", Hint: "abc", Start: now.Add(-100 * 24 * time.Hour), End: now.Add(10 * 24 * time.Hour)},
	}}, true)
	ref := activity.ConversationReference{ServiceURL: "https://smba.trafficmanager.net/amer/", ConversationID: "19:radar@thread.tacv2", TenantID: "<tenant-id>", BotID: "28:bot"}
	h.srv.cfg.ServiceURLs.Allow(ref.ServiceURL)
	if err := h.state.SetSetting(context.Background(), radarChannelSetting, radarChannel{Ref: ref}); err != nil {
		t.Fatal(err)
	}
}
