package cards

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/radar"
	"github.com/keyturn/keyturn/rotation"
)

const day = 24 * time.Hour

func fxRadarApp() radar.App {
	return radar.App{
		ClientID: fxClientID, ObjectID: "c0ffee00-1111-4222-8333-444455556666", DisplayName: "Payroll API", Inside: true,
		Credentials: []radar.Credential{
			{KeyID: fxPrevKey, DisplayName: "created in the portal", Hint: "pQ1", End: t0.Add(5*day + time.Hour), Left: 5*day + time.Hour},
			{KeyID: fxKeyID, DisplayName: "keyturn 7f3a9c2e5b1d4e60", Hint: "Qx7", End: t0.Add(20 * day), Left: 20 * day,
				HeldBy: []rotation.SecretRef{{VaultURI: fxVault, Name: "payroll-api-client-secret"}}},
		},
		Last: &radar.Rotation{RequestID: "7f3a9c2e5b1d4e60", At: t0.Add(-160 * day), RequestedBy: "Megan Bowen", ApprovedBy: "Adele Vance"},
	}
}

func radarGoldens() map[string]Card {
	expired := fxRadarApp()
	expired.Credentials = []radar.Credential{{KeyID: fxKeyID, DisplayName: "keyturn 7f3a9c2e5b1d4e60", Hint: "Qx7", End: t0.Add(-2 * day), Left: -2 * day,
		HeldBy: []rotation.SecretRef{{VaultURI: fxVault, Name: "payroll-api-client-secret"}}}}
	expired.Last = nil
	expired.Unchecked = []string{"the last rotation could not be read (the service failed to answer)"}

	resolved := fxRadarApp()
	resolved.Inside = false
	resolved.Credentials = []radar.Credential{
		{KeyID: fxPrevKey, DisplayName: "created in the portal", Hint: "pQ1", End: t0.Add(5 * day), Left: 5 * day, Replaced: true},
		{KeyID: fxKeyID, DisplayName: "keyturn 7f3a9c2e5b1d4e60", Hint: "Qx7", End: t0.Add(180 * day), Left: 180 * day,
			HeldBy: []rotation.SecretRef{{VaultURI: fxVault, Name: "payroll-api-client-secret"}}},
	}

	other := fxRadarApp()
	other.ClientID, other.DisplayName = "5b41b2e9-a2e3-4299-8125-02c48ba6f493", "Orders Worker"
	other.Credentials = []radar.Credential{{KeyID: fxKeyID, Hint: "ab1", End: t0.Add(12 * day), Left: 12 * day,
		HeldBy: []rotation.SecretRef{{VaultURI: fxVault, Name: "orders-worker-client-secret"}}}}
	rep := radar.Report{Scanned: t0, Window: 30 * day, AppsSeen: 42, Complete: true, Apps: []radar.App{expired, fxRadarApp(), other, resolved},
		Unchecked: []string{"vault https://kv-down.vault.azure.net/ could not be listed (Keyturn has no role on the vault): a secret held there shows as not in any Keyturn vault"}}
	return map[string]Card{
		"radar_warning.json":         RadarWarning(fxRadarApp()),
		"radar_warning_expired.json": RadarWarning(expired),
		"radar_resolved.json":        RadarResolved(resolved),
		"expiring.json":              Expiring(rep),
		"expiring_empty.json":        Expiring(radar.Report{Window: 30 * day, AppsSeen: 42, Complete: true}),
	}
}

func TestRadarWarningSaysWhatPeopleNeed(t *testing.T) {
	_, raw := Attachment(RadarWarning(fxRadarApp()))
	text := string(raw)
	for _, want := range []string{
		"Client secret expires in 5 days: Payroll API",
		fxPrevKey, "pQ1", "not in any Keyturn vault", // the portal secret, made by hand
		fxVault + "secrets/payroll-api-client-secret", // the one Keyturn stored
		"Adele Vance", "Request rotation",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the warning card lacks %q", want)
		}
	}
	var doc struct {
		Actions []struct {
			Verb     string         `json:"verb"`
			Data     map[string]any `json:"data"`
			Fallback struct {
				Data map[string]any `json:"data"`
			} `json:"fallback"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Actions) != 1 || doc.Actions[0].Verb != VerbRadarRequest || doc.Actions[0].Data["clientId"] != fxClientID ||
		doc.Actions[0].Fallback.Data["verb"] != VerbRadarRequest || doc.Actions[0].Fallback.Data["clientId"] != fxClientID {
		t.Fatalf("the Request rotation button names the app, with a fallback for old clients: %+v", doc.Actions)
	}
	if _, ok := doc.Actions[0].Data["requestId"]; ok {
		t.Errorf("no empty request ID is sent with a radar action: %v", doc.Actions[0].Data)
	}

	_, raw = Attachment(radarGoldens()["radar_warning_expired.json"])
	for _, want := range []string{"Client secret expired: Payroll API", "The vault still points at this expired secret.", "Not checked: the last rotation could not be read"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the expired card lacks %q", want)
		}
	}
	_, raw = Attachment(radarGoldens()["radar_resolved.json"])
	if !strings.Contains(string(raw), "Rotated: Payroll API") || !strings.Contains(string(raw), "(in 180 days)") || strings.Contains(string(raw), VerbRadarRequest) {
		t.Errorf("the resolved card says rotated, names the next expiry and offers no button: %s", raw)
	}
}
