package bot

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/bot/botauthtest"
)

// TestForgedTokensAreRefusedAndNothingIsProcessed sends the channel mention
// fixture with every kind of bad Authorization header through HTTP. Each
// forged request must be refused with 401 (403 for a key not endorsed for
// msteams) and leave no trace: no post, no rotation, no stored reference.
func TestForgedTokensAreRefusedAndNothingIsProcessed(t *testing.T) {
	h := newHarness(t, harnessOpts{direct: true})
	body := as(t, fixture(t, "activity/channel_mention.json"), adminOID)
	svc := "https://smba.trafficmanager.net/amer/<tenant-id>/"
	now := time.Now()
	tok := func(o botauthtest.TokenOptions) string {
		if o.ServiceURL == "" {
			o.ServiceURL = svc
		}
		return h.iss.Token(o)
	}
	good := tok(botauthtest.TokenOptions{})
	parts := strings.Split(good, ".")
	cases := []struct {
		name string
		auth string
		want int
	}{
		{"missing header", "", 401},
		{"basic scheme", "Basic " + good, 401},
		{"no scheme", good, 401},
		{"two spaces", "Bearer  " + good, 401},
		{"empty token", "Bearer ", 401},
		{"alg none", "Bearer " + tok(botauthtest.TokenOptions{Alg: "none"}), 401},
		{"HS256 with the public key as secret", "Bearer " + tok(botauthtest.TokenOptions{Alg: "HS256"}), 401},
		{"unknown kid", "Bearer " + tok(botauthtest.TokenOptions{UnknownKey: true}), 401},
		{"known kid, foreign key", "Bearer " + tok(botauthtest.TokenOptions{UnknownKey: true, Kid: botauthtest.MainKeyID}), 401},
		{"missing kid", "Bearer " + tok(botauthtest.TokenOptions{Header: map[string]any{"kid": nil}}), 401},
		{"wrong issuer", "Bearer " + tok(botauthtest.TokenOptions{Issuer: "https://sts.windows.net/evil/"}), 401},
		{"wrong audience", "Bearer " + tok(botauthtest.TokenOptions{AppID: "99999999-9999-4999-8999-999999999999"}), 401},
		{"expired beyond skew", "Bearer " + tok(botauthtest.TokenOptions{Now: now.Add(-2 * time.Hour), Expires: now.Add(-6 * time.Minute)}), 401},
		{"nbf beyond skew", "Bearer " + tok(botauthtest.TokenOptions{NotBefore: now.Add(6 * time.Minute)}), 401},
		{"missing exp", "Bearer " + tok(botauthtest.TokenOptions{Claims: map[string]any{"exp": nil}}), 401},
		{"missing serviceurl", "Bearer " + tok(botauthtest.TokenOptions{Claims: map[string]any{"serviceurl": nil}}), 401},
		{"serviceurl mismatch", "Bearer " + tok(botauthtest.TokenOptions{ServiceURL: "https://attacker.example/"}), 401},
		{"key not endorsed for msteams", "Bearer " + tok(botauthtest.TokenOptions{UnendorsedKey: true}), 403},
		{"tampered payload", "Bearer " + parts[0] + "." + strings.TrimRight(parts[1], "A") + "B." + parts[2], 401},
		{"truncated token", "Bearer " + good[:len(good)-10], 401},
		{"signature dropped", "Bearer " + parts[0] + "." + parts[1] + ".", 401},
		{"huge header", "Bearer " + good + strings.Repeat("A", 20000), 401},
		{"PS256", "Bearer " + tok(botauthtest.TokenOptions{Alg: "PS256"}), 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, respBody := h.send(body, c.auth)
			if code != c.want || respBody != "" {
				t.Fatalf("status %d body %q, want %d and no body", code, respBody, c.want)
			}
		})
	}
	// The legitimate ones are accepted: exactly as minted, within the skew.
	legit := []string{
		good,
		tok(botauthtest.TokenOptions{Now: now.Add(-2 * time.Hour), Expires: now.Add(-4 * time.Minute)}),
		tok(botauthtest.TokenOptions{NotBefore: now.Add(4 * time.Minute)}),
		tok(botauthtest.TokenOptions{ServiceURL: strings.TrimSuffix(svc, "/")}),
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(h.conn.all()); n != 0 || h.rotations() != 0 {
		t.Fatalf("forged requests were processed: %d posts, %d rotations", n, h.rotations())
	}
	for i, l := range legit {
		b := withField(t, body, "id", "legit-"+string(rune('a'+i)))
		if code, _ := h.send(b, "bearer "+l); code != http.StatusOK {
			t.Fatalf("legitimate token %d refused: %d", i, code)
		}
	}
	waitFor(t, "the legitimate requests", func() bool { return len(h.conn.all()) >= len(legit) })
	if strings.Contains(h.logs.String(), parts[2]) {
		t.Fatal("a token signature reached the logs")
	}
}

func TestEmulatorModeIsLoopbackOnly(t *testing.T) {
	h := newHarness(t, harnessOpts{emulator: true})
	// Unauthenticated, but only for loopback service URLs.
	act := withField(t, fixture(t, "activity/channel_mention.json"), "serviceUrl", "https://smba.trafficmanager.net/amer/")
	if code, _ := h.send(act, ""); code != http.StatusForbidden {
		t.Fatalf("emulator mode served a non-loopback serviceUrl: %d", code)
	}
	srv, err := New(h.srv.cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skip("cannot listen on a non-loopback address here")
	}
	defer ln.Close()
	err = srv.Serve(context.Background(), ln)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("emulator mode accepted %s: %v", ln.Addr(), err)
	}
}

// TestShutdownFinishesWorkAndLeavesNoGoroutine holds a rotation, shuts the
// server down while it runs, releases it, and checks that the rotation's
// result was still posted and that no goroutine of the server remains.
func TestShutdownFinishesWorkAndLeavesNoGoroutine(t *testing.T) {
	gate := make(chan struct{})
	h := newHarness(t, harnessOpts{gate: gate, direct: true})
	if code, _ := h.sendSigned(as(t, fixture(t, "activity/channel_mention.json"), adminOID)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the rotation to start", func() bool { return h.rotations() == 1 })
	done := make(chan error, 1)
	go func() { done <- h.shutdown() }()
	time.Sleep(20 * time.Millisecond)
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	all := h.conn.all()
	if !strings.Contains(all[len(all)-1].Raw, testVault+"secrets/payments-api-client-secret/") {
		t.Fatalf("the in-flight rotation's result was not posted before shutdown ended: %d posts", len(all))
	}
	h.conn.srv.Close()
	h.iss.Close()
	waitFor(t, "server goroutines to end", func() bool { return len(botGoroutines()) == 0 })
}
