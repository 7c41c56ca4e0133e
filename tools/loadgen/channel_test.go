package main

import (
	"encoding/json"
	"testing"
)

// The replayed payloads are the repository's Teams samples turned into
// help commands for this run's tenant and connector, each with its own ID.
func TestPayloadsAreHelpMessagesWithUniqueIDs(t *testing.T) {
	ch, err := newChannel("../../bot/activity/testdata")
	if err != nil {
		t.Fatal(err)
	}
	defer ch.close()
	seen := map[string]bool{}
	for range 4 {
		var a struct {
			ID, Type, Text, ServiceURL string
			ChannelData                struct{ Tenant struct{ ID string } }
		}
		if err := json.Unmarshal(ch.body(), &a); err != nil {
			t.Fatal(err)
		}
		if a.Type != "message" || (a.Text != "help" && a.Text != "<at>Keyturn</at> help") {
			t.Errorf("payload %+v is not a help message", a)
		}
		if a.ServiceURL != ch.connURL || a.ChannelData.Tenant.ID != tenantID {
			t.Errorf("payload addressed to %s, tenant %s", a.ServiceURL, a.ChannelData.Tenant.ID)
		}
		if seen[a.ID] || a.ID == "" {
			t.Errorf("activity ID %q repeated or empty", a.ID)
		}
		seen[a.ID] = true
	}
}
