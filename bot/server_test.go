package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/bot/botauthtest"
	"github.com/keyturn/keyturn/rotation"
)

var actionRE = regexp.MustCompile(`"requestId":"([^"]+)","digest":"([0-9a-f]{64})"`)

// invoke sends an Action.Execute click on a card as oid and returns the
// invoke response.
func (h *harness) invoke(t *testing.T, oid, id, verb, requestID, digest string, extra map[string]any) (int, map[string]any) {
	t.Helper()
	data := map[string]any{"requestId": requestID, "digest": digest}
	for k, v := range extra {
		data[k] = v
	}
	act := as(t, fixture(t, "activity/channel_mention.json"), oid)
	act = withField(t, act, "type", "invoke")
	act = withField(t, act, "id", id)
	act = withField(t, act, "name", "adaptiveCard/action")
	act = withField(t, act, "text", "")
	act = withField(t, act, "value", map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"})
	if h.replyTo != "" {
		act = withField(t, act, "replyToId", h.replyTo)
	}
	code, body := h.sendSigned(act)
	var r map[string]any
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("invoke %s answered %d with %q", verb, code, body)
	}
	return code, r
}

func TestApprovalFlowInThread(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	code, body := h.sendSigned(as(t, fixture(t, "activity/channel_mention.json"), devOID))
	if code != http.StatusOK || body != "" {
		t.Fatalf("webhook answered %d %q", code, body)
	}
	waitFor(t, "the approval card", func() bool { return len(h.conn.all()) >= 1 })
	card := h.conn.all()[0]
	wantPath := "/amer/<tenant-id>/v3/conversations/19:<channel>@thread.tacv2;messageid=1771290107407/activities/1771290107407"
	if card.Method != http.MethodPost || card.Path != wantPath || card.Auth != "Bearer connector-token" {
		t.Fatalf("card: %s %s %q", card.Method, card.Path, card.Auth)
	}
	if !strings.Contains(card.Raw, `"userIds":["29:admin","29:<user-mri>"]`) || strings.Contains(card.Raw, `"title":"Approve"`) {
		t.Fatalf("the shared card must refresh for the approver and the requester only and carry no buttons: %s", card.Raw)
	}
	m := actionRE.FindStringSubmatch(card.Raw)
	if m == nil {
		t.Fatalf("no request in the card: %s", card.Raw)
	}
	reqID, digest := m[1], m[2]

	// The approver's client refreshes: the approver gets the buttons.
	_, resp := h.invoke(t, adminOID, "inv-1", "refresh", reqID, digest, nil)
	if resp["statusCode"] != float64(200) || resp["type"] != InvokeTypeCard || !strings.Contains(fmt.Sprint(resp["value"]), "Approve") {
		t.Fatalf("refresh for the approver: %v", resp)
	}
	// The requester cannot approve their own request.
	_, resp = h.invoke(t, devOID, "inv-2", "approve", reqID, digest, nil)
	if resp["statusCode"] != float64(403) || !strings.Contains(fmt.Sprint(resp["value"]), "someone else must approve") {
		t.Fatalf("self-approval: %v", resp)
	}
	// A tampered digest is refused.
	_, resp = h.invoke(t, adminOID, "inv-3", "approve", reqID, strings.Repeat("0", 64), nil)
	if resp["statusCode"] != float64(403) {
		t.Fatalf("tampered digest: %v", resp)
	}
	if h.rotations() != 0 {
		t.Fatal("a refused decision started a rotation")
	}
	// The approver approves: the answer is the card, and the rotation runs.
	_, resp = h.invoke(t, adminOID, "inv-4", "approve", reqID, digest, nil)
	if resp["statusCode"] != float64(200) || resp["type"] != InvokeTypeCard {
		t.Fatalf("approve: %v", resp)
	}
	// A re-delivered invoke decides nothing twice.
	if _, resp = h.invoke(t, adminOID, "inv-4", "approve", reqID, digest, nil); resp["statusCode"] != float64(200) {
		t.Fatalf("re-delivered approve: %v", resp)
	}
	waitFor(t, "the done card", func() bool {
		all := h.conn.all()
		last := all[len(all)-1]
		return last.Method == http.MethodPut && strings.Contains(last.Raw, testVault+"secrets/payments-api-client-secret/")
	})
	if h.rotations() != 1 {
		t.Fatalf("%d rotations", h.rotations())
	}
	for _, p := range h.conn.all()[1:] {
		if p.Method != http.MethodPut || !strings.HasSuffix(p.Path, "/activities/act-1") {
			t.Fatalf("updates must replace the approval card in place: %s %s", p.Method, p.Path)
		}
	}
	types := fmt.Sprint(h.audit.Types())
	for _, want := range []rotation.EventType{rotation.EventRequested, rotation.EventDenied, rotation.EventApproved, rotation.EventStarted, rotation.EventCompleted} {
		if !strings.Contains(types, string(want)) {
			t.Errorf("audit lacks %s: %s", want, types)
		}
	}
	h.noSecrets(t)
}

// noSecrets asserts no secret the fake tenant minted reached Teams, the
// logs, the audit events or the stored, hash-chained trail, nor any of
// extra (HTTP responses, bodies a connector fault swallowed).
func (h *harness) noSecrets(t *testing.T, extra ...string) {
	t.Helper()
	texts := append([]string{h.logs.String()}, extra...)
	for _, p := range h.conn.all() {
		texts = append(texts, p.Raw)
	}
	for _, e := range h.audit.Events() {
		b, _ := json.Marshal(e)
		texts = append(texts, string(b), fmt.Sprintf("%+v", e))
	}
	recs, err := h.state.Records(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		b, _ := json.Marshal(r)
		texts = append(texts, string(b))
	}
	for _, s := range h.dir.Minted() {
		for _, x := range texts {
			if strings.Contains(x, s) || strings.Contains(x, "~CANARY~") {
				t.Fatalf("secret value leaked: %.300s", x)
			}
		}
	}
}

func TestWebhookAnswersBeforeASlowRotationAndOnlyOnce(t *testing.T) {
	gate := make(chan struct{})
	h := newHarness(t, harnessOpts{gate: gate, direct: true})
	body := as(t, fixture(t, "activity/channel_mention.json"), adminOID) // an approver under a 0-approval policy runs directly
	start := time.Now()
	if code, _ := h.sendSigned(body); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	answered := time.Since(start)
	waitFor(t, "the rotation to start", func() bool { return h.rotations() == 1 })
	// Teams re-delivers the same activity while the rotation runs.
	for range 3 {
		if code, _ := h.sendSigned(body); code != http.StatusOK {
			t.Fatalf("re-delivery status %d", code)
		}
	}
	if len(h.conn.all()) != 1 {
		t.Fatalf("only the card may be posted before the rotation ends, got %d posts", len(h.conn.all()))
	}
	close(gate)
	waitFor(t, "the result", func() bool {
		all := h.conn.all()
		return strings.Contains(all[len(all)-1].Raw, testVault+"secrets/payments-api-client-secret/")
	})
	if h.rotations() != 1 {
		t.Fatalf("re-delivery started %d rotations", h.rotations())
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
				if _, err := h.state.Ref(context.Background(), c.saved); err != nil {
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
		name, text, oid string
		rolesDown       bool
		want            string
		denied          bool
	}{
		{"help", "<at>Keyturn</at> help", nobodyID, false, "AdaptiveCard", false},
		{"whoami", "<at>Keyturn</at> whoami", devOID, false, "requesters: may ask for rotations, check status, list expiring secrets", false},
		{"whoami of an approver", "<at>Keyturn</at> whoami", adminOID, false, "Application Administrator: may approve rotations, check status, retire previous secrets, set the audit channel, set the radar channel, list expiring secrets", false},
		{"whoami of an app's approver", "<at>Keyturn</at> whoami", payOwnerOID, false, "payments-owners: may approve, check and retire rotations of ", false},
		{"status", "<at>Keyturn</at> status payments-api", devOID, false, "Payments API", false},
		{"status without a role", "<at>Keyturn</at> status payments-api", nobodyID, false, "Checking status needs a role that may ask for rotations, approve rotations or approve rotations of", true},
		{"retire nothing", "<at>Keyturn</at> retire payments-api", adminOID, false, "No retirement is scheduled", false},
		{"retire needs approve", "<at>Keyturn</at> retire payments-api", devOID, false, "Retiring previous secrets needs a role that may approve rotations", true},
		{"parse error", "<at>Keyturn</at> rotate", devOID, false, "rotate needs an app", false},
		{"unknown alias", "<at>Keyturn</at> rotate hr-portal", devOID, false, "I don't know an app called `hr-portal`. Apps I know by name: `payments-api`", false},
		{"typo", "<at>Keyturn</at> status paymets-api into kv-payments", devOID, false, "too many words", false},
		{"typo in status", "<at>Keyturn</at> status paymets-api", devOID, false, "Did you mean `payments-api`?", false},
		{"typo in rotate", "<at>Keyturn</at> rotate paymets-api into kv-payments", devOID, false, "Did you mean `payments-api`?", false},
		{"no role asks", "<at>Keyturn</at> rotate payments-api", nobodyID, false, "Asking for a rotation needs a role that may ask for rotations (requesters); you have: none.", true},
		{"placeholder identity", "<at>Keyturn</at> rotate payments-api", "<user-object-id>", false, "your roles could not be checked just now", true},
		{"role lookup fails", "<at>Keyturn</at> rotate payments-api", devOID, true, "could not be checked", true},
		{"audit here needs approve", "<at>Keyturn</at> audit here", devOID, false, "Making a conversation the audit channel needs a role that may approve rotations (Application Administrator); you have: requesters.", true},
		{"status by a per-app approver", "<at>Keyturn</at> status payments-api", payOwnerOID, false, "Payments API", false},
		{"retire by a per-app approver", "<at>Keyturn</at> retire payments-api", payOwnerOID, false, "No retirement is scheduled", false},
		{"audit here is not per app", "<at>Keyturn</at> audit here", payOwnerOID, false, "Making a conversation the audit channel needs a role that may approve rotations (Application Administrator); you have: payments-owners.", true},
		{"whoami when roles cannot be read", "<at>Keyturn</at> whoami", devOID, true, "role lookup failed", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{rolesDown: c.rolesDown})
			act := withField(t, as(t, base, c.oid), "text", c.text)
			if code, _ := h.sendSigned(act); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			waitFor(t, "a reply", func() bool { return len(h.conn.all()) >= 1 })
			if p := h.conn.all()[0]; !strings.Contains(p.Raw, c.want) {
				t.Fatalf("reply %s, want %q", p.Raw, c.want)
			}
			h.conn.mu.Lock()
			typing := h.conn.typing
			h.conn.mu.Unlock()
			if c.name == "status" && typing == 0 {
				t.Fatal("no typing indicator while status read Azure")
			}
			denied := false
			for _, e := range h.audit.Events() {
				if e.Type == rotation.EventDenied && strings.Contains(e.Actor, c.oid) {
					denied = true
				}
			}
			if denied != c.denied {
				t.Fatalf("denial audited: %v, want %v (%v)", denied, c.denied, h.audit.Types())
			}
			if h.rotations() != 0 {
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
	if len(h.conn.all()) != 0 || h.rotations() != 0 {
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

// TestRefreshChecksConversationAndTenant: a card refresh shows the
// request's card (with buttons for an approver), so like approve and
// reject it is refused, and audited, from another conversation or tenant.
func TestRefreshChecksConversationAndTenant(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	if code, _ := h.sendSigned(as(t, fixture(t, "activity/channel_mention.json"), devOID)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the approval card", func() bool { return len(h.conn.all()) == 1 })
	m := actionRE.FindStringSubmatch(h.conn.all()[0].Raw)
	refresh := func(id string, edit func([]byte) []byte) map[string]any {
		act := as(t, fixture(t, "activity/channel_mention.json"), adminOID)
		act = withField(t, act, "type", "invoke")
		act = withField(t, act, "id", id)
		act = withField(t, act, "name", "adaptiveCard/action")
		act = withField(t, act, "text", "")
		act = withField(t, act, "value", map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "refresh",
			"data": map[string]any{"requestId": m[1], "digest": m[2]}}, "trigger": "automatic"})
		_, body := h.sendSigned(edit(act))
		var r map[string]any
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("refresh answered %q", body)
		}
		return r
	}
	other := "72f988bf-86f1-41af-91ab-2d7cd011db47"
	denied := len(h.audit.Events())
	for name, edit := range map[string]func([]byte) []byte{
		"another conversation": func(b []byte) []byte {
			return withField(t, b, "conversation", map[string]any{"isGroup": true, "conversationType": "channel", "tenantId": "<tenant-id>", "id": "19:other@thread.tacv2"})
		},
		"another tenant": func(b []byte) []byte {
			b = withField(t, b, "conversation", map[string]any{"isGroup": true, "conversationType": "channel", "tenantId": other,
				"id": "19:<channel>@thread.tacv2;messageid=1771290107407"})
			return withField(t, b, "channelData", map[string]any{"tenant": map[string]any{"id": other}})
		},
	} {
		r := refresh("refresh-"+strings.ReplaceAll(name, " ", "-"), edit)
		if r["statusCode"] == float64(200) || strings.Contains(fmt.Sprint(r["value"]), "Approve") {
			t.Errorf("refresh from %s: status %v, %.200v", name, r["statusCode"], fmt.Sprint(r["value"]))
		}
	}
	var deniedTypes []rotation.EventType
	for _, e := range h.audit.Events()[denied:] {
		deniedTypes = append(deniedTypes, e.Type)
	}
	if len(deniedTypes) != 2 || deniedTypes[0] != rotation.EventDenied || deniedTypes[1] != rotation.EventDenied {
		t.Errorf("refused refreshes audited as %v", deniedTypes)
	}
	// The approver in the request's own conversation still gets the buttons.
	if r := refresh("refresh-ok", func(b []byte) []byte { return b }); r["statusCode"] != float64(200) || !strings.Contains(fmt.Sprint(r["value"]), "Approve") {
		t.Fatalf("refresh in the request's conversation: %v", r)
	}
}
