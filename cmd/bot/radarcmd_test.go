package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/store/boltkv"
	"github.com/keyturn/keyturn/store/kvstore"
)

// ownedOf lists, as the apps Keyturn owns, the fake tenant's apps ids.
type ownedOf struct {
	dir interface {
		GetApp(ctx context.Context, clientID string) (rotation.App, error)
	}
	ids []string
}

func (o ownedOf) OwnedApps(ctx context.Context, fn func([]rotation.App) error) error {
	var page []rotation.App
	for _, id := range o.ids {
		a, err := o.dir.GetApp(ctx, id)
		if err != nil {
			return err
		}
		page = append(page, a)
	}
	return fn(page)
}

func TestRadarCommand(t *testing.T) {
	f := newFakeAzure() // Payments API has a portal secret ending in 30 days, stored in kv-payments
	f.owned = ownedOf{f.dir, []string{testClient}}
	env := testEnv(t)
	env["KEYTURN_ALLOWED_VAULTS"] = "kv-payments"

	r := f.run(t, env, "radar", "--within", "10d")
	if r.code != exitOK || !strings.Contains(r.stdout, "no client secret of the 1 apps Keyturn owns ends within 10d") {
		t.Fatalf("nothing inside 10 days: %+v", r)
	}
	r = f.run(t, env, "radar", "--within", "31d")
	if r.code != exitExpiring {
		t.Fatalf("exit %d, want %d when a secret ends inside the window: %+v", r.code, exitExpiring, r)
	}
	for _, want := range []string{"Payments API", testClient, "30d", "not in any Keyturn vault"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}

	r = f.run(t, env, "radar", "--within", "31d", "--json")
	var doc radarJSON
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != exitExpiring {
		t.Fatalf("%v %+v", err, r)
	}
	if len(doc.Apps) != 1 || doc.Apps[0].ClientID != testClient || len(doc.Apps[0].Credentials) != 1 || doc.Apps[0].Credentials[0].DaysLeft != 30 {
		t.Fatalf("json: %+v", doc)
	}

	// Without --within the command looks as far ahead as the bot's radar:
	// the policy's radar.warn_before (10d here: the 30-day secret is not
	// listed), else 30 days.
	policyPath := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policyPath, []byte("vaults: [kv-payments]\ndefaults: {approvals: 0}\nradar: {warn_before: 10d, thresholds: [10d]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := f.run(t, env, "radar"); r.code != exitExpiring {
		t.Fatalf("no policy: exit %d, want %d (the 30-day default): %+v", r.code, exitExpiring, r)
	}
	env["KEYTURN_POLICY"] = policyPath
	if r := f.run(t, env, "radar"); r.code != exitOK || !strings.Contains(r.stdout, "ends within 10d") {
		t.Fatalf("warn_before 10d: %+v", r)
	}
	delete(env, "KEYTURN_POLICY")

	for _, bad := range [][]string{{"radar", "--within", "soon"}, {"radar", "--within", "-3d"}, {"radar", "extra"}} {
		if r := f.run(t, env, bad...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d", bad, r.code, exitUsage)
		}
	}
	f.noSecrets(t, env["KEYTURN_STATE_DIR"], r.stdout, r.stderr)
}

func TestRadarScanAsksTheBot(t *testing.T) {
	f := newFakeAzure()
	env := testEnv(t)
	r := f.run(t, env, "radar", "--scan")
	if r.code != exitOK || !strings.Contains(r.stdout, "scan requested") {
		t.Fatalf("%+v", r)
	}
	kvb, err := boltkv.Open(env["KEYTURN_STATE_DIR"]+"/keyturn.db", boltkv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer kvb.Close()
	var asked struct {
		At    time.Time `json:"at"`
		Asked bool      `json:"asked"`
	}
	st := kvstore.New(kvb, nil)
	if err := st.Setting(context.Background(), "radar-last-run", &asked); err != nil || !asked.Asked {
		t.Fatalf("the request is in the shared state: %+v %v", asked, err)
	}
}
