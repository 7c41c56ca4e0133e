package bot

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// sendWith posts body to /api/messages with the given headers (Host is
// set on the request, not as a header) and returns the status.
func (h *harness) sendWith(body []byte, headers map[string]string) int {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.base+"/api/messages", bytes.NewReader(body))
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestEmulatorModeRefusesWhatABrowserCanSend sends, in emulator mode, the
// requests a web page the operator opens could make against the bot on
// 127.0.0.1: a "simple" text/plain post claiming an approver's object ID,
// the same as JSON from a page (Origin), and a DNS-rebinding Host. Each is
// refused and nothing acts: no reply, no audit record. The same body sent
// as the Bot Framework Emulator sends it is served.
func TestEmulatorModeRefusesWhatABrowserCanSend(t *testing.T) {
	h := newHarness(t, harnessOpts{emulator: true, direct: true})
	body := withField(t, as(t, fixture(t, "activity/channel_mention.json"), adminOID), "serviceUrl", "http://127.0.0.1:9/")
	body = withField(t, body, "text", "<at>Keyturn</at> audit here")
	for _, tc := range []struct {
		name    string
		headers map[string]string
	}{
		{"text/plain cross-site", map[string]string{"Content-Type": "text/plain", "Origin": "https://evil.example"}},
		{"text/plain without Origin", map[string]string{"Content-Type": "text/plain;charset=UTF-8"}},
		{"form post", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
		{"no content type", map[string]string{}},
		{"JSON from a page", map[string]string{"Content-Type": "application/json", "Origin": "http://127.0.0.1:8080"}},
		{"DNS rebinding", map[string]string{"Content-Type": "application/json", "Host": "rebind.evil.example:3978"}},
		{"rebinding to a LAN name", map[string]string{"Content-Type": "application/json", "Host": "10.0.0.5"}},
	} {
		if code := h.sendWith(body, tc.headers); code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", tc.name, code)
		}
	}
	if n := len(h.audit.Events()); n != 0 {
		t.Fatalf("refused requests were acted on: %d audit records", n)
	}
	if n := len(h.conn.all()); n != 0 {
		t.Fatalf("refused requests were answered in the chat: %d posts", n)
	}
	// The emulator's own request (JSON, loopback Host, no Origin) works.
	if code := h.sendWith(body, map[string]string{"Content-Type": "application/json; charset=utf-8", "Host": "localhost:3978"}); code != http.StatusOK {
		t.Fatalf("the emulator's request: status %d", code)
	}
	waitFor(t, "the emulator's request to act", func() bool { return len(h.conn.all()) == 1 })
}

// TestBotFrameworkEmulatorActivity: a message as the Bot Framework
// Emulator sends it (no tenant, no Entra object ID, its own user ID) is
// served in emulator mode when the configuration maps Emulator senders
// (the sandbox does: its demo tenant and a demo user), and refused by the
// tenant allow-list when it does not.
func TestBotFrameworkEmulatorActivity(t *testing.T) {
	body := fixture(t, "activity/emulator_message.json")
	headers := map[string]string{"Content-Type": "application/json"}

	h := newHarness(t, harnessOpts{emulator: true, tenants: []string{"sandbox-tenant"}, emulatorAs: devOID})
	if code := h.sendWith(body, headers); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the approval card", func() bool { return len(h.conn.all()) == 1 })
	p := h.conn.all()[0]
	if !strings.Contains(p.Raw, "Approval needed") || !strings.HasSuffix(p.Path, "/activities/8c6ebe80-b26f-11f1-9a2b-3f4e5d6c7b8a") {
		t.Fatalf("reply %s %s", p.Path, p.Raw)
	}
	open, _ := h.state.ListApprovals(context.Background())
	if len(open) != 1 || open[0].RequestedBy.ObjectID != devOID || open[0].TenantID != "sandbox-tenant" {
		t.Fatalf("request %+v", open)
	}

	plain := newHarness(t, harnessOpts{emulator: true, tenants: []string{"sandbox-tenant"}})
	if code := plain.sendWith(body, headers); code != http.StatusForbidden {
		t.Fatalf("without a mapping: status %d, want 403", code)
	}
}
