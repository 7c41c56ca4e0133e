package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyturn/keyturn/bot/activity"
	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/rotationtest"
)

// onlyRequest returns the only request that is not final (zero if none).
func (h *harness) onlyRequest(t *testing.T) rotation.ApprovalRequest {
	t.Helper()
	all, err := h.state.ListApprovals(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		return rotation.ApprovalRequest{}
	}
	return all[0]
}

// TestRestartSettlesInterruptedRotationAndItsCard crashes a rotation
// mid-way (the process dies inside the saga), then starts a new bot on the
// same store, as after SIGKILL. The new process has received no activity,
// yet its scheduler finishes or undoes the rotation, brings the card to
// its final state (done when the secret reached the vault, failed when it
// was undone) and posts the audit trail: the service URL learnt from an
// authenticated activity before the crash is in the store. While Teams is
// down nothing is lost: the next tick delivers both.
func TestRestartSettlesInterruptedRotationAndItsCard(t *testing.T) {
	for _, tc := range []struct {
		name  string
		crash rotationtest.Call
		kind  rotationtest.Kind
		want  string // on the final card
		state rotation.ApprovalState
	}{
		{"crash before the vault write: undone", rotationtest.Call{Op: "vault.Set", N: 1}, rotationtest.CrashBefore, "failed", rotation.ApprovalFailed},
		{"crash after the vault writes: finished", rotationtest.Call{Op: "vault.Set", N: 2}, rotationtest.CrashAfter, testVault + "secrets/payments-api-client-secret/", rotation.ApprovalDone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			faults := rotationtest.NewFaults()
			h := newHarness(t, harnessOpts{direct: true, faults: faults})
			here := withField(t, as(t, fixture(t, "activity/channel_mention.json"), adminOID), "text", "<at>Keyturn</at> audit here")
			if code, _ := h.sendSigned(here); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			waitFor(t, "the confirmation", func() bool { return len(h.conn.all()) == 1 })
			faults.Inject(tc.crash, tc.kind)
			rotate := withField(t, as(t, fixture(t, "activity/channel_mention.json"), adminOID), "id", "second-message")
			if code, _ := h.sendSigned(rotate); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			waitFor(t, "the crash", func() bool { return strings.Contains(h.logs.String(), "job panicked") })
			if err := h.shutdown(); err != nil {
				t.Fatal(err)
			}
			if r := h.onlyRequest(t); r.State != rotation.ApprovalRunning {
				t.Fatalf("after the crash the request is %q, want running", r.State)
			}
			card := h.conn.all()[1]
			if card.Method != http.MethodPost || !strings.Contains(card.Raw, "Payments API") {
				t.Fatalf("approval card: %s %s", card.Method, card.Raw)
			}

			next := newHarness(t, harnessOpts{direct: true, from: h, noServe: true}) // the restart: this test drives its scheduler
			h.clock.Advance(next.srv.schedulerLease())                               // the dead process's scheduler lease runs out
			posts := len(h.conn.all())
			h.conn.setBroken(true)
			next.srv.tick(context.Background())
			if sent := h.conn.all()[posts:]; len(sent) != 0 {
				t.Fatalf("posted while Teams was down: %d", len(sent))
			}
			h.conn.setBroken(false)
			next.srv.tick(context.Background())
			var cardPut, auditPost bool
			for _, p := range h.conn.all()[posts:] {
				switch {
				case p.Method == http.MethodPut && strings.HasSuffix(p.Path, "/activities/act-2"):
					cardPut = strings.Contains(strings.ToLower(p.Raw), tc.want)
				case p.Method == http.MethodPost && strings.HasSuffix(p.Path, "/v3/conversations/19:<channel>@thread.tacv2/activities"):
					auditPost = auditPost || strings.Contains(p.Raw, string(rotation.EventRecovering))
				}
			}
			if !cardPut || !auditPost {
				t.Fatalf("after the restart: final card update %v, audit post %v; logs:\n%s", cardPut, auditPost, next.logs.String())
			}
			if strings.Contains(next.logs.String(), "not allowed") {
				t.Fatalf("the restarted bot refused a service URL:\n%s", next.logs.String())
			}
			if r := h.onlyRequest(t); r.ID != "" {
				t.Fatalf("request still %q after the restart", r.State)
			}
			// Nothing is left in the outbox, so nothing is sent again.
			before := len(h.conn.all())
			next.srv.tick(context.Background())
			if n := len(h.conn.all()) - before; n != 0 {
				t.Fatalf("%d posts after a tick with nothing new", n)
			}
			next.noSecrets(t)
		})
	}
}

// TestSchedulerStartsApprovedRequestsExactlyOnce stores an approval
// without running it (the process stopped in between, or the queue was
// full), restarts as two replicas whose schedulers both find the approved
// request: the rotation runs exactly once and the card reaches "done".
func TestSchedulerStartsApprovedRequestsExactlyOnce(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	r := h.requestWithCard(t)
	_, run, err := h.srv.cfg.Approvals.Approve(context.Background(), rotation.Vote{
		Caller: rotation.Principal{ObjectID: adminOID}, TenantID: r.TenantID, RequestID: r.ID, Digest: r.Digest, Conversation: r.Conversation})
	if err != nil || !run {
		t.Fatalf("approve: run %v, %v", run, err)
	}
	if err := h.shutdown(); err != nil { // stopped before running it
		t.Fatal(err)
	}
	a, b := newHarness(t, harnessOpts{from: h}), newHarness(t, harnessOpts{from: h})
	open, err := h.state.ListApprovals(context.Background())
	if err != nil || len(open) != 1 || open[0].State != rotation.ApprovalApproved {
		t.Fatalf("open requests %v %v", open, err)
	}
	var wg sync.WaitGroup
	for _, x := range []*harness{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); x.srv.startApproved(context.Background(), open) }()
	}
	wg.Wait()
	waitFor(t, "the done card", func() bool {
		all := h.conn.all()
		last := all[len(all)-1]
		return last.Method == http.MethodPut && strings.Contains(last.Raw, testVault+"secrets/payments-api-client-secret/")
	})
	if err := errorsOf(a.shutdown(), b.shutdown()); err != nil {
		t.Fatal(err)
	}
	if n := h.rotations(); n != 1 {
		t.Fatalf("%d rotations of one approved request", n)
	}
	if r := h.onlyRequest(t); r.ID != "" {
		t.Fatalf("request still %q", r.State)
	}
}

func errorsOf(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// TestSchedulerLeaseOutlivesALongTick holds a tick inside a long step (a
// recovery verifying a secret) past the lease's first term: the lease is
// renewed meanwhile, so another replica cannot take the scheduler over
// and run the same jobs at once.
func TestSchedulerLeaseOutlivesALongTick(t *testing.T) {
	h := newHarness(t, harnessOpts{noServe: true})
	entered, release := make(chan struct{}), make(chan struct{})
	cfg := h.srv.cfg
	cfg.Holder = "replica-a"
	cfg.Rotations = blockingRecover{Rotations: cfg.Rotations, entered: entered, release: release}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	renew := make(chan time.Time)
	srv.ticker = func(time.Duration) (<-chan time.Time, func()) { return renew, func() {} }
	done := make(chan struct{})
	go func() { defer close(done); srv.tick(context.Background()) }()
	<-entered
	ttl := srv.schedulerLease()
	for range 3 { // three renewal periods, each a third of the lease
		h.clock.Advance(ttl / 3)
		renew <- h.clock.Now() // taken: the previous renewal is done
		renew <- h.clock.Now()
	}
	h.clock.Advance(ttl / 3) // past the first term, within the renewed one
	if ok, err := h.state.Acquire(context.Background(), "scheduler", "replica-b", ttl); err != nil || ok {
		t.Fatalf("another replica took the scheduler lease during a long tick: %v %v", ok, err)
	}
	close(release)
	<-done
}

// blockingRecover holds Recover until release, as a verification does.
type blockingRecover struct {
	Rotations
	entered, release chan struct{}
}

func (b blockingRecover) Recover(ctx context.Context) ([]rotation.Result, error) {
	close(b.entered)
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return nil, nil
}

// TestShutdownReleasesTheSchedulerLease: after a graceful stop the next
// start, or another replica, takes the scheduler at once instead of
// waiting for the lease to run out.
func TestShutdownReleasesTheSchedulerLease(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.srv.tick(context.Background()) // holds the lease (the first tick of Serve may not have yet)
	if ok, _ := h.state.Acquire(context.Background(), "scheduler", "other-replica", time.Minute); ok {
		t.Fatal("the scheduler lease was free while serving")
	}
	if err := h.shutdown(); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.state.Acquire(context.Background(), "scheduler", "next-start", time.Minute); err != nil || !ok {
		t.Fatalf("the lease was kept after shutdown: %v %v", ok, err)
	}
}

// TestSingleProcessSettlesADeadRunnerAtOnce: the process died after
// claiming an approved request and before the rotation's journal record
// (so nothing changed). On a store no other process shares, the restart
// fails the request and finishes its card at its first tick, well within
// the runner's job timeout that a shared store must wait out (another
// replica may still be running it; rotation's Reconcile tests cover that).
func TestSingleProcessSettlesADeadRunnerAtOnce(t *testing.T) {
	faults := rotationtest.NewFaults()
	h := newHarness(t, harnessOpts{direct: true, faults: faults})
	faults.Inject(rotationtest.Call{Op: "store.Begin", N: 1}, rotationtest.CrashBefore)
	if code, _ := h.sendSigned(as(t, fixture(t, "activity/channel_mention.json"), adminOID)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the crash", func() bool { return strings.Contains(h.logs.String(), "job panicked") })
	if err := h.shutdown(); err != nil {
		t.Fatal(err)
	}
	if r := h.onlyRequest(t); r.State != rotation.ApprovalRunning {
		t.Fatalf("after the crash the request is %q, want running", r.State)
	}
	next := newHarness(t, harnessOpts{direct: true, from: h, noServe: true, single: true})
	h.clock.Advance(time.Minute) // far less than the runner's job timeout
	posts := len(h.conn.all())
	next.srv.tick(context.Background())
	failedCard := false
	for _, p := range h.conn.all()[posts:] {
		failedCard = failedCard || (p.Method == http.MethodPut && strings.Contains(strings.ToLower(p.Raw), "failed"))
	}
	r := h.onlyRequest(t)
	if r.ID != "" || !failedCard {
		t.Fatalf("single process: request %q, failed card %v; logs:\n%s", r.State, failedCard, next.logs.String())
	}
	if app, _ := h.dir.GetApp(context.Background(), payments); len(app.Passwords) != 0 {
		t.Fatalf("nothing may have changed in the directory: %+v", app.Passwords)
	}
}

// TestAClickRecoversALostCardReference: the process stopped after posting
// the approval card and before recording where it is. The approver's click
// names the card (replyToId), so the request adopts it and the card
// follows the request to the end.
func TestAClickRecoversALostCardReference(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	r := h.requestWithoutCard(t) // the lost write
	card := h.conn.all()[0]
	cardID := "act-1"
	if card.Method != http.MethodPost {
		t.Fatalf("approval card: %s", card.Method)
	}
	if code, _ := h.sendSigned(approveClick(t, r, cardID)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the shared card to follow the rotation", func() bool { return h.cardRotated(cardID) })
}

// approveClick is the administrator's click on Approve on the card cardID
// of request r.
func approveClick(t *testing.T, r rotation.ApprovalRequest, cardID string) []byte {
	act := as(t, fixture(t, "activity/channel_mention.json"), adminOID)
	act = withField(t, act, "type", "invoke")
	act = withField(t, act, "id", "click-"+cardID)
	act = withField(t, act, "replyToId", cardID)
	act = withField(t, act, "name", "adaptiveCard/action")
	act = withField(t, act, "text", "")
	return withField(t, act, "value", map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "approve",
		"data": map[string]any{"requestId": r.ID, "digest": r.Digest}}, "trigger": "manual"})
}

// cardRotated reports whether the card cardID was updated to say the
// secret was rotated.
func (h *harness) cardRotated(cardID string) bool {
	for _, p := range h.conn.all() {
		if p.Method == http.MethodPut && strings.HasSuffix(p.Path, "/activities/"+cardID) && strings.Contains(p.Raw, "Client secret rotated") {
			return true
		}
	}
	return false
}

// TestAskingAgainPostsAMissingCard: the process stopped after storing a
// request and before posting its card. Asking again in the channel is
// refused (one open request per app) and posts the open request's card,
// so someone can approve it.
func TestAskingAgainPostsAMissingCard(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.requestWithoutCard(t)
	h.askAgain(t)
}

// TestAClickOnAnUnrecordedCardBringsItAlong: the process stopped after
// posting the approval card and before recording where it is; the
// requester, seeing nothing happen, asked again, and Keyturn posted the
// request's card a second time. The approver clicks the first card, which
// the request does not know: the approval counts, and that card follows
// the request to the end as well as the recorded one, instead of asking
// for an approval forever.
func TestAClickOnAnUnrecordedCardBringsItAlong(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	r := h.requestWithoutCard(t)
	first := h.conn.all()[0].ID
	second := h.askAgain(t)
	if code, _ := h.sendSigned(approveClick(t, r, first)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "both cards to follow the rotation", func() bool { return h.cardRotated(first) && h.cardRotated(second) })
}

// requestWithCard has the developer ask for a rotation and returns the
// request once its approval card is posted and attached.
func (h *harness) requestWithCard(t *testing.T) rotation.ApprovalRequest {
	t.Helper()
	if code, _ := h.sendSigned(as(t, fixture(t, "activity/channel_mention.json"), devOID)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the approval card, attached", func() bool {
		return len(h.conn.all()) == 1 && len(h.onlyRequest(t).Card) > 0
	})
	return h.onlyRequest(t)
}

// requestWithoutCard has the developer ask for a rotation and then loses
// the request's record of its card, as a process that stopped before
// writing it (or before posting the card) would have.
func (h *harness) requestWithoutCard(t *testing.T) rotation.ApprovalRequest {
	t.Helper()
	r := h.requestWithCard(t)
	if err := h.srv.cfg.Approvals.AttachCard(context.Background(), r.ID, nil); err != nil {
		t.Fatal(err)
	}
	return r
}

// askAgain has the developer ask for the same rotation again, waits for
// the open request's card to be posted and attached, and returns its
// activity ID.
func (h *harness) askAgain(t *testing.T) string {
	t.Helper()
	before := len(h.conn.all())
	again := withField(t, as(t, fixture(t, "activity/channel_mention.json"), devOID), "id", "asking-again")
	if code, _ := h.sendSigned(again); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	var id string
	waitFor(t, "the missing card, attached", func() bool {
		for _, p := range h.conn.all()[before:] {
			if p.Method == http.MethodPost && strings.Contains(p.Raw, "Approval needed") {
				id = p.ID
			}
		}
		return id != "" && len(h.onlyRequest(t).Card) > 0
	})
	return id
}

// Cards adopted from clicks are bounded: each is one more update per
// change of the request.
func TestAdoptedCardsAreBounded(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	r := h.requestWithoutCard(t)
	h.askAgain(t)
	r = h.onlyRequest(t)
	for i := range maxAlsoCards + 3 {
		in := &incoming{act: &activity.Activity{ReplyToID: fmt.Sprintf("1:clicked-%d", i)}, ref: activity.ConversationReference{ConversationID: "19:other"}}
		r = h.srv.adoptCard(context.Background(), in, r)
	}
	var d cardData
	if err := json.Unmarshal(h.onlyRequest(t).Card, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Also) != maxAlsoCards || d.ActivityID == "" || d.Ref.ConversationID == "19:other" {
		t.Fatalf("card data after %d adoptions: %+v", maxAlsoCards+3, d)
	}
}

// A card update that Teams refuses for good (404: the message was
// deleted; 403: the bot was removed) is not retried at every tick; one
// that failed for now (502) is.
func TestACardTeamsRefusesForGoodIsNotRetried(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.openCard(t, devOID)
	r := h.onlyRequest(t)
	for _, c := range []struct {
		status int
		done   bool
	}{{http.StatusNotFound, true}, {http.StatusForbidden, true}, {http.StatusBadGateway, false}} {
		h.conn.setFault(func(req *http.Request, _ []byte) (*http.Response, error) {
			if req.Method != http.MethodPut {
				return nil, nil
			}
			return &http.Response{StatusCode: c.status, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
		})
		if got := h.srv.pushCard(context.Background(), r); got != c.done {
			t.Errorf("update answered %d: pushCard done %v, want %v", c.status, got, c.done)
		}
	}
	h.conn.setFault(nil)
}
