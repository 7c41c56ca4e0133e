package bot

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyturn/keyturn/bot/activity"
	"github.com/keyturn/keyturn/bot/botauthtest"
	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/rotationtest"
)

// auditConversation is the channel (not the thread) the fault runs use as
// the audit channel.
const auditConversation = "19:<channel>@thread.tacv2"

// secretRef is where the harness's catalog stores payments-api's secret.
var secretRef = rotation.SecretRef{VaultURI: testVault, Name: "payments-api-client-secret"}

// faultRun is one request → approve → rotation through the webhook, with
// one fault injected, followed by the scheduler's rounds that recover,
// sweep and retire. It keeps what the user and the operator were shown.
type faultRun struct {
	t       *testing.T
	h       *harness
	f       *rotationtest.Faults
	orig    rotation.PasswordCredential
	origV   string
	mu      sync.Mutex
	texts   []string // HTTP responses and every body sent to the connector, delivered or not (under mu)
	reqID   string
	answers []string // the invoke answers: the clicker's own view
	posted  bool     // the approval card reached Teams
	clicked int      // rotations the approver's click queued (0 or 1)
	// beforeClick, when set, runs just before the approver's click.
	beforeClick func()
}

// newFaultRun builds the harness with payments-api holding a secret made in
// the portal, stored by hand in the vault, and the faults f in front of
// every Azure call and the journal.
func newFaultRun(t *testing.T, iss *botauthtest.Issuer, f *rotationtest.Faults) *faultRun {
	h := newHarness(t, harnessOpts{matrix: f, iss: iss})
	fr := &faultRun{t: t, h: h, f: f}
	fr.orig, fr.origV = h.dir.AddExisting(payments, "made in the portal", h.clock.Now().Add(90*24*time.Hour))
	if _, err := h.vault.Set(context.Background(), secretRef, rotation.NewSecret(fr.origV), rotation.SecretProps{}); err != nil {
		t.Fatal(err)
	}
	// The channel is the audit channel: the scheduler's rounds post the
	// trail there, and the canary must be in none of those posts either.
	if err := h.state.SetSetting(context.Background(), auditChannelSetting, auditChannel{Ref: activity.ConversationReference{
		ServiceURL: "https://smba.trafficmanager.net/amer/<tenant-id>/", ChannelID: "msteams", ConversationID: auditConversation,
		ConversationType: "channel", TenantID: "<tenant-id>", BotID: "28:<bot-app-id>", BotName: "Keyturn"}}); err != nil {
		t.Fatal(err)
	}
	return fr
}

// keep adds s to the texts the canary must not be in.
func (fr *faultRun) keep(s string) {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	fr.texts = append(fr.texts, s)
}

// kept returns the texts the canary must not be in.
func (fr *faultRun) kept() []string {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return append([]string(nil), fr.texts...)
}

// jobsDone counts the pool's finished jobs named name in logs.
func jobsDone(logs, name string) int {
	return strings.Count(logs, `"msg":"job done","job":"`+name+`"`)
}

// flow runs the request, the approval and the rotation, then the
// scheduler's rounds: two with the fault still armed (recovery and sweep,
// then retirement after the overlap), then, the outage over, two more;
// then it stops the server, which drains the pool.
func (fr *faultRun) flow() {
	t, h := fr.t, fr.h
	code, body := h.sendSigned(as(t, fixture(t, "activity/channel_mention.json"), devOID))
	fr.keep(body)
	if code != http.StatusOK {
		t.Fatalf("rotate: webhook answered %d", code)
	}
	h.logs.await(t, "the request job", func(logs string) bool { return jobsDone(logs, "request") == 1 })
	open, err := h.state.ListApprovals(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(open) == 1 {
		r := open[0]
		fr.reqID = r.ID
		for _, p := range h.conn.all() {
			if p.Method == http.MethodPost && strings.Contains(p.Raw, `"requestId":"`+r.ID+`"`) {
				fr.posted, h.replyTo = true, p.ID // Teams names the clicked card in replyToId
			}
		}
		if fr.posted { // the approver can only click a card Teams shows
			if fr.beforeClick != nil {
				fr.beforeClick()
			}
			_, resp := h.invoke(t, adminOID, "inv-approve", "approve", r.ID, r.Digest, nil)
			b, _ := json.Marshal(resp)
			fr.keep(string(b))
			fr.answers = append(fr.answers, string(b))
			// A refused click queued nothing; an accepted one that
			// approved queued the rotation.
			if cur, _, err := h.state.GetApproval(context.Background(), r.ID); err == nil && resp["statusCode"] == float64(http.StatusOK) &&
				(cur.State == rotation.ApprovalApproved || cur.State == rotation.ApprovalRunning || cur.State.Final()) && cur.State != rotation.ApprovalRejected {
				fr.clicked = 1
				h.logs.await(t, "the rotation job", func(logs string) bool { return jobsDone(logs, "rotate") == 1 })
			}
		}
	}
	h.clock.Advance(25 * time.Hour) // past the test's scheduler lease and every rotation's lease
	fr.tick()
	h.clock.Advance(8 * 24 * time.Hour) // past the overlap: retirement
	fr.tick()
	fr.f.Settle()
	fr.tick()
	h.clock.Advance(time.Hour)
	fr.tick()
	if err := h.shutdown(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// tick runs one scheduler round and waits for the rotations it queued.
func (fr *faultRun) tick() {
	fr.h.srv.tick(context.Background())
	queued := strings.Count(fr.h.logs.String(), `"msg":"approved rotation queued by the scheduler"`)
	fr.h.logs.await(fr.t, "the rotations the scheduler queued", func(logs string) bool { return jobsDone(logs, "rotate") >= fr.clicked+queued })
}

// settled asserts rule 2 after the scheduler's rounds and returns
// "rotated" (the vault holds a new credential and the original retired)
// or "unchanged" (the original credential and secret, as before): no
// unfinished journal record; the vault's latest secret belongs to a live
// credential that works; no other credential Keyturn made is live.
func (fr *faultRun) settled() string {
	t, h := fr.t, fr.h
	ctx := context.Background()
	if open, err := h.state.List(ctx, rotation.Filter{Unfinished: true}); err != nil || len(open) != 0 {
		t.Fatalf("unfinished journal records left (%v): %+v", err, open)
	}
	latest, err := h.vault.Get(ctx, secretRef)
	if err != nil {
		t.Fatalf("vault: %v", err)
	}
	key, ok := h.dir.KeyIDOf(payments, latest.Value.Reveal())
	if !ok {
		t.Fatalf("secret lost: the vault's latest secret %s belongs to no live credential", latest.ID)
	}
	app, err := h.dir.GetApp(ctx, payments)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range app.Passwords {
		if !strings.EqualFold(p.KeyID, key) && !strings.EqualFold(p.KeyID, fr.orig.KeyID) {
			t.Fatalf("orphaned credential %s (%s): its secret is in no vault", p.KeyID, p.DisplayName)
		}
	}
	if err := h.dir.Verifier().Verify(ctx, payments, latest.Value); err != nil {
		t.Fatalf("the vault holds a secret that does not work: %v", err)
	}
	if strings.EqualFold(key, fr.orig.KeyID) {
		if len(app.Passwords) != 1 {
			t.Fatalf("vault unchanged but the app has %d credentials", len(app.Passwords))
		}
		return "unchanged"
	}
	if _, live := app.Password(fr.orig.KeyID); live || len(app.Passwords) != 1 {
		t.Fatalf("rotated, but after the overlap the app still has %d credentials (original live: %v)", len(app.Passwords), live)
	}
	return "rotated"
}

// cardStates names what the approval card says, by its title and reason.
var cardStates = []struct{ state, text string }{
	{"rotated", "Client secret rotated"},
	{"part-way", "stopped part-way"},
	{"rolled-back", "rolled back"},
	{"rolled-back", "put the previous one back"},
	{"failed", "Rotation failed"},
	{"expired", "Request expired"},
	{"rejected", "Rejected"},
	{"rotating", "rotating"},
	{"rotating", "Rotating"},
	{"pending", "Approval needed"},
}

// card returns the state the request's card shows in the conversation,
// from the last card post or update Teams accepted: "told" when no card
// reached Teams and the conversation was told in words, "none" when
// nothing reached it.
func (fr *faultRun) card() (string, string) {
	var last, words string
	audit := 0
	for _, p := range fr.h.conn.all() {
		switch {
		case fr.auditPost(p):
			audit++
		case strings.Contains(p.Raw, "AdaptiveCard") && (fr.reqID == "" || strings.Contains(p.Raw, fr.reqID)):
			last = p.Raw
		default:
			words = p.Raw
		}
	}
	if audit == 0 {
		fr.t.Error("nothing was posted to the audit channel")
	}
	if last == "" {
		if words != "" {
			return "told", words // words instead of a card
		}
		return "none", ""
	}
	for _, c := range cardStates {
		if strings.Contains(last, c.text) {
			return c.state, last
		}
	}
	return "unknown", last
}

// internalWords never reach a card or a reply: the fault's own text, the
// adapters' and the domain's error words.
var internalWords = []string{"Something went wrong", "injected", "#1", "outcome unknown", "status 4", "status 5", "HTTP 5", "connection reset",
	"deadline exceeded", "apps.", "vault.Set", "vault.Get", "store.", "token endpoint", "could not be read", "kv:"}

// auditPost reports whether p is a post to the audit channel.
func (fr *faultRun) auditPost(p posted) bool {
	return strings.HasSuffix(p.Path, "/conversations/"+auditConversation+"/activities")
}

// said checks what the conversation was told: no internal words; after
// a failure whose outcome the service left unknown, never that nothing
// was changed; and no promise of a journal when no rotation started.
func (fr *faultRun) said(ambiguous bool) {
	t := fr.t
	started := false
	for _, e := range fr.h.audit.Events() {
		started = started || e.Type == rotation.EventStarted
	}
	texts := fr.answers
	for _, p := range fr.h.conn.all() {
		if !fr.auditPost(p) { // the audit trail is for operators: its details are its point
			texts = append(texts, p.Raw)
		}
	}
	for _, raw := range texts {
		for _, w := range internalWords {
			if strings.Contains(raw, w) {
				t.Errorf("internal words %q reached Teams: %s", w, cardText(raw))
			}
		}
		if ambiguous && (strings.Contains(raw, "nothing was changed") || strings.Contains(raw, "before anything was changed")) {
			t.Errorf("an ambiguous failure told the user nothing was changed: %s", cardText(raw))
		}
		if !started && strings.Contains(raw, "journaled") {
			t.Errorf("no rotation started, but the user was told it is journaled: %s", cardText(raw))
		}
	}
}

// audited checks that the audit trail tells the story of the request:
// requested, and for a rotation that ran, started and how it ended.
func (fr *faultRun) audited(settled string) {
	t := fr.t
	if fr.reqID == "" {
		// No request was opened: the attempt is in the trail all the same,
		// as requested (its store write failed) or refused.
		for _, e := range fr.h.audit.Events() {
			if (e.Type == rotation.EventRequested || e.Type == rotation.EventDenied) && strings.Contains(e.Actor, devOID) {
				return
			}
		}
		t.Errorf("a request that was not opened is not in the audit trail: %v", fr.h.audit.Types())
		return
	}
	seen := map[rotation.EventType]bool{}
	for _, e := range fr.h.audit.Events() {
		if e.RequestID == fr.reqID {
			seen[e.Type] = true
		}
	}
	if !seen[rotation.EventRequested] {
		t.Errorf("the request is not in the audit trail: %v", fr.h.audit.Types())
	}
	if settled == "rotated" && !seen[rotation.EventCompleted] {
		t.Errorf("rotated, but the audit trail has no completion: %v", fr.h.audit.Types())
	}
	if seen[rotation.EventStarted] && !seen[rotation.EventCompleted] && !seen[rotation.EventFailed] && !seen[rotation.EventRolledBack] {
		t.Errorf("a rotation started and its end is not in the audit trail: %v", fr.h.audit.Types())
	}
	if settled == "rotated" && !seen[rotation.EventRetired] {
		t.Errorf("rotated, but the retirement is not in the audit trail: %v", fr.h.audit.Types())
	}
}

// cardText returns the words of a posted activity: its text, or its
// card's TextBlock and TextRun texts, for failure messages.
func cardText(raw string) string {
	var words []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x["text"].(string); ok {
				words = append(words, s)
			}
			for k, y := range x {
				if k != "text" {
					walk(y)
				}
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	var v any
	if json.Unmarshal([]byte(raw), &v) != nil {
		return raw
	}
	walk(v)
	return strings.Join(words, " | ")
}
