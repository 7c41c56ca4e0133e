package bot

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/bot/botauthtest"
	"github.com/keyturn/keyturn/rotation"
)

func TestChannelMentionRotatesAndRepliesInThread(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	code, body := h.sendSigned(fixture(t, "activity/channel_mention.json"))
	if code != http.StatusOK || body != "" {
		t.Fatalf("webhook answered %d %q", code, body)
	}
	waitFor(t, "the result card", func() bool { return len(h.conn.all()) >= 2 })
	reqs := h.conn.all()
	ack, result := reqs[0], reqs[1]
	wantPath := "/amer/<tenant-id>/v3/conversations/19:<channel>@thread.tacv2;messageid=1771290107407/activities/1771290107407"
	if ack.Method != http.MethodPost || ack.Path != wantPath || ack.Auth != "Bearer connector-token" {
		t.Fatalf("ack: %s %s %q", ack.Method, ack.Path, ack.Auth)
	}
	if result.Method != http.MethodPut || !strings.HasSuffix(result.Path, "/activities/act-1") {
		t.Fatalf("result should update the acknowledgement in place: %s %s", result.Method, result.Path)
	}
	if !strings.Contains(result.Raw, testVault+"secrets/payments-api-client-secret/") {
		t.Fatalf("result card lacks the versioned vault URI: %s", result.Raw)
	}
	if h.rots.count() != 1 {
		t.Fatalf("%d rotations", h.rots.count())
	}
	h.noSecrets(t)
}

// noSecrets asserts no secret the fake tenant minted reached Teams, the
// logs or the audit trail.
func (h *harness) noSecrets(t *testing.T) {
	t.Helper()
	texts := []string{h.logs.String()}
	for _, p := range h.conn.all() {
		texts = append(texts, p.Raw)
	}
	for _, e := range h.audit.Events() {
		b, _ := json.Marshal(e)
		texts = append(texts, string(b))
	}
	for _, s := range h.dir.Minted() {
		for _, x := range texts {
			if strings.Contains(x, s) || strings.Contains(x, "~CANARY~") {
				t.Fatalf("secret value leaked: %s", x)
			}
		}
	}
}

func TestWebhookAnswersBeforeASlowRotationAndOnlyOnce(t *testing.T) {
	gate := make(chan struct{})
	h := newHarness(t, harnessOpts{gate: gate})
	body := fixture(t, "activity/channel_mention.json")
	start := time.Now()
	if code, _ := h.sendSigned(body); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	answered := time.Since(start)
	waitFor(t, "the rotation to start", func() bool { return h.rots.count() == 1 })
	// Teams re-delivers the same activity while the rotation runs.
	for range 3 {
		if code, _ := h.sendSigned(body); code != http.StatusOK {
			t.Fatalf("re-delivery status %d", code)
		}
	}
	if len(h.conn.all()) != 1 {
		t.Fatalf("only the acknowledgement may be posted before the rotation ends, got %d posts", len(h.conn.all()))
	}
	close(gate)
	waitFor(t, "the result", func() bool { return len(h.conn.all()) == 2 })
	if h.rots.count() != 1 {
		t.Fatalf("re-delivery started %d rotations", h.rots.count())
	}
	t.Logf("webhook answered in %s while the rotation was held", answered)
}

func TestFixturesAsPublished(t *testing.T) {
	cases := []struct {
		file     string
		wantPost bool   // a reply or welcome is posted
		contains string // in the posted body
		saved    string // conversation reference stored for this ID
	}{
		{"b_personal_message.msdocs.json", true, "AdaptiveCard", ""}, // unknown command: the help card
		{"e_conversationUpdate_bot_added_to_team.msdocs.json", true, "AdaptiveCard", "19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2"},
		{"e_conversationUpdate_bot_added_personal.msdocs.json", true, "AdaptiveCard", "***"},
		{"f_installationUpdate_add.msdocs.json", true, "AdaptiveCard", "19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			h := newHarness(t, harnessOpts{})
			code, _ := h.sendSigned(fixture(t, c.file))
			if code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			if c.wantPost {
				waitFor(t, "a post", func() bool { return len(h.conn.all()) == 1 })
				if p := h.conn.all()[0]; !strings.Contains(p.Raw, c.contains) {
					t.Fatalf("posted %s", p.Raw)
				}
			}
			if c.saved != "" {
				if _, ok := h.refs.Reference(c.saved); !ok {
					t.Fatalf("conversation reference %s not stored", c.saved)
				}
			}
		})
	}
}

func TestInvokeIsAnsweredInTheSameResponse(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	base := fixture(t, "activity/channel_mention.json")
	for verb, wantStatus := range map[string]float64{"help": 200, "approve-unknown": 400} {
		act := withField(t, base, "type", "invoke")
		act = withField(t, act, "name", "adaptiveCard/action")
		act = withField(t, act, "text", "")
		act = withField(t, act, "value", map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb, "data": map[string]any{}}, "trigger": "manual"})
		code, body := h.sendSigned(act)
		var r map[string]any
		if err := json.Unmarshal([]byte(body), &r); err != nil || code != http.StatusOK {
			t.Fatalf("%s: %d %q", verb, code, body)
		}
		if r["statusCode"] != wantStatus || r["type"] == "" || r["value"] == nil {
			t.Fatalf("%s: invoke body %v", verb, r)
		}
	}
	// A non-object value and another invoke name still get a body.
	act := withField(t, withField(t, base, "type", "invoke"), "name", "composeExtension/query")
	if code, body := h.sendSigned(act); code != http.StatusOK || !strings.Contains(body, `"statusCode":501`) {
		t.Fatalf("other invoke: %d %s", code, body)
	}
}

func TestActionSubmitIsRoutedLikeExecute(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	act := withField(t, fixture(t, "activity/action_submit.json"), "value", map[string]any{"verb": "approve-unknown"})
	if code, _ := h.sendSigned(act); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the refusal", func() bool { return len(h.conn.all()) == 1 })
	if p := h.conn.all()[0]; !strings.Contains(p.Raw, "not known to Keyturn") || !strings.HasSuffix(p.Path, "/activities/1771290200001") {
		t.Fatalf("posted %s %s", p.Path, p.Raw)
	}
}

func TestCommandsAndRefusals(t *testing.T) {
	base := fixture(t, "activity/channel_mention.json")
	cases := []struct {
		name, text string
		authz      Authorizer
		want       string
		denied     bool
	}{
		{"help", "<at>Keyturn</at> help", nil, "AdaptiveCard", false},
		{"whoami", "<at>Keyturn</at> whoami", nil, "user-object-id", false},
		{"status", "<at>Keyturn</at> status payments-api", nil, "Payments API", false},
		{"retire nothing", "<at>Keyturn</at> retire payments-api", nil, "No retirement is scheduled", false},
		{"parse error", "<at>Keyturn</at> rotate", nil, "rotate needs an app", false},
		{"unknown alias", "<at>Keyturn</at> rotate hr-portal", nil, "I could not", false},
		{"not an operator", "<at>Keyturn</at> rotate payments-api", &AllowList{}, "You may not rotate", true},
		{"role lookup fails", "<at>Keyturn</at> rotate payments-api", failingAuthz{}, "could not check your roles", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{authz: c.authz})
			act := withField(t, base, "text", c.text)
			if code, _ := h.sendSigned(act); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			waitFor(t, "a reply", func() bool { return len(h.conn.all()) >= 1 })
			if p := h.conn.all()[0]; !strings.Contains(p.Raw, c.want) && !(c.name == "unknown alias" && strings.Contains(p.Raw, "not valid")) {
				t.Fatalf("reply %s, want %q", p.Raw, c.want)
			}
			denied := false
			for _, e := range h.audit.Events() {
				if e.Type == rotation.EventDenied && strings.Contains(e.Actor, operatorOID) {
					denied = true
				}
			}
			if denied != c.denied {
				t.Fatalf("denial audited: %v, want %v (%v)", denied, c.denied, h.audit.Types())
			}
			if h.rots.count() != 0 {
				t.Fatal("a refused or read-only command rotated")
			}
		})
	}
}

func TestOtherTenantsAreRefusedAndAudited(t *testing.T) {
	h := newHarness(t, harnessOpts{tenants: []string{"b28fdbfd-2b78-4f93-b0f8-8881793f0f8f"}})
	code, _ := h.sendSigned(fixture(t, "activity/channel_mention.json"))
	if code != http.StatusForbidden {
		t.Fatalf("status %d", code)
	}
	ev := h.audit.Events()
	if len(ev) != 1 || ev[0].Type != rotation.EventDenied || !strings.Contains(ev[0].Detail, "<tenant-id>") {
		t.Fatalf("audit %+v", ev)
	}
	time.Sleep(50 * time.Millisecond) // nothing is queued; give a wrong implementation the chance to post
	if len(h.conn.all()) != 0 || h.rots.count() != 0 {
		t.Fatal("a refused tenant's activity was processed")
	}
}

func TestBadRequestsChangeNothing(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	big := make([]byte, DefaultMaxBodyBytes+10)
	for i := range big {
		big[i] = ' '
	}
	cases := map[string]struct {
		body []byte
		want int
	}{
		"not JSON":       {[]byte("rotate payments-api"), http.StatusBadRequest},
		"JSON array":     {[]byte(`[{"type":"message"}]`), http.StatusBadRequest},
		"too large":      {big, http.StatusRequestEntityTooLarge},
		"no type at all": {[]byte(`{"text":"hi"}`), http.StatusBadRequest},
	}
	for name, c := range cases {
		if code, _ := h.send(c.body, "Bearer "+h.iss.Token(botauthtest.TokenOptions{})); code != c.want {
			t.Errorf("%s: status %d, want %d", name, code, c.want)
		}
	}
	if len(h.conn.all()) != 0 || len(h.audit.Events()) != 0 {
		t.Fatal("a bad request was processed")
	}
}

func TestHealthAndReadiness(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/api/messages": 405, "/nope": 404} {
		resp, err := h.client.Get(h.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no request ID", path)
		}
	}
}

type failingAuthz struct{}

func (failingAuthz) Authorize(context.Context, Caller, Action, string) (Decision, error) {
	return Decision{}, errors.New("graph unavailable")
}
