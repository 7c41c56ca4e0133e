package bot

import (
	"context"
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
	h := newHarness(t, harnessOpts{})
	ctx := context.Background()
	now := h.clock.Now()
	h.dir.AddApp(rotation.App{ObjectID: paymentsObj, ClientID: payments, DisplayName: "Payments API", Passwords: []rotation.PasswordCredential{
		{KeyID: "00000000-0000-4000-8000-0000000000aa", DisplayName: "made in the portal", Hint: "abc", Start: now.Add(-100 * 24 * time.Hour), End: now.Add(10 * 24 * time.Hour)},
	}}, true)
	ref := activity.ConversationReference{ServiceURL: "https://smba.trafficmanager.net/amer/", ConversationID: "19:radar@thread.tacv2", TenantID: "<tenant-id>", BotID: "28:bot"}
	h.srv.cfg.ServiceURLs.Allow(ref.ServiceURL)
	if err := h.state.SetSetting(ctx, radarChannelSetting, radarChannel{Ref: ref}); err != nil {
		t.Fatal(err)
	}
	h.srv.cfg.Radar = &Radar{Scanner: &radar.Scanner{Apps: ownedFake{h.dir}, Vault: vaultLister{}, Journal: h.state, Vaults: []string{testVault}}, Marks: h.state}
	otherCfg := h.srv.cfg
	otherCfg.Holder = "replica-2"
	other := &Server{cfg: otherCfg, log: h.srv.log}

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

	if out := pass(h.srv); out.Posted != 1 || out.Apps != 1 {
		t.Fatalf("first pass: %+v", out)
	}
	if out := pass(other); out.Posted != 0 || out.Updated != 1 {
		t.Fatalf("the second replica updates the same card, never posts it again: %+v", out)
	}
	h.clock.Advance(24 * time.Hour)
	if out := pass(h.srv); out.Posted != 0 || out.Updated != 1 {
		t.Fatalf("next day, same threshold: %+v", out)
	}
	h.clock.Advance(3 * 24 * time.Hour) // 6 days left: the 7-day threshold
	if out := pass(h.srv); out.Posted != 1 {
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
	if out := pass(h.srv); out.Updated != 1 || out.Posted != 0 {
		t.Fatalf("after the rotation: %+v", out)
	}
	if _, _, last := posts(); !strings.Contains(last, "Rotated: Payments API") {
		t.Fatalf("the card follows the rotation: %s", last)
	}
	if out := pass(h.srv); out.Updated != 0 || out.Posted != 0 {
		t.Fatalf("a resolved card stays quiet: %+v", out)
	}
	for _, p := range h.conn.all() {
		if strings.Contains(p.Raw, "~") || strings.Contains(p.Raw, "REDACTED") {
			t.Fatalf("a post carries something secret-like: %s", p.Raw)
		}
	}
}
