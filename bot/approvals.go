package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/keyturn/keyturn/bot/activity"
	"github.com/keyturn/keyturn/bot/cards"
	"github.com/keyturn/keyturn/bot/command"
	"github.com/keyturn/keyturn/bot/connector"
	"github.com/keyturn/keyturn/rotation"
)

// cardData is what the bot keeps on an approval request about the card
// that shows it: where it is, and whose clients refresh it.
type cardData struct {
	Ref        activity.ConversationReference `json:"ref"`
	ActivityID string                         `json:"activityId"`
	Refresh    []string                       `json:"refresh,omitempty"`
	// Clicked are the Teams IDs of those whose own version of the card
	// differs from everyone's: the requester (told that someone else must
	// approve) and those who decided on it. Their clients refresh it in
	// every state (see cards.Viewer.FollowFor).
	Clicked []string `json:"clicked,omitempty"`
	// Also are further cards of the request in the same conversation, which
	// follow it like the first: a card the process posted and stopped
	// before recording, which a click named after another was posted in its
	// place (see adoptCard).
	Also []string `json:"also,omitempty"`
}

// take records the card fresh names on d: as d's card when d has none
// (fresh whole), else beside it in Also, up to maxAlsoCards. It reports
// whether d changed.
func (d *cardData) take(fresh cardData) bool {
	switch {
	case d.ActivityID == fresh.ActivityID || slices.Contains(d.Also, fresh.ActivityID):
		return false
	case d.ActivityID == "":
		*d = fresh
	case len(d.Also) >= maxAlsoCards:
		return false // every update already goes to this many cards
	default:
		d.Also = append(d.Also, fresh.ActivityID)
	}
	return true
}

// maxAlsoCards bounds cardData.Also: each is one more update per change of
// the request. A card is posted again only when a crash lost its record and
// someone asked again, so a handful is plenty.
const maxAlsoCards = 4

func principal(c Caller) rotation.Principal {
	return rotation.Principal{ObjectID: c.ObjectID, Name: c.Name}
}

// onRotate opens an approval request after the acknowledgement and posts
// its card; a request that needs no second person runs at once.
func (s *Server) onRotate(ctx context.Context, in *incoming, cmd command.Command) answer {
	t, err := s.cfg.Catalog.Resolve(cmd.App, cmd.Vault)
	if err != nil {
		return s.later(ctx, in, "reply", func(ctx context.Context) { s.replyText(ctx, in, userMessage(err, in.rid)) })
	}
	if t.VaultURI == "" {
		return s.later(ctx, in, "reply", func(ctx context.Context) {
			s.replyText(ctx, in, "Which vault? No default vault is configured: rotate "+t.Name+" into <vault>")
		})
	}
	return s.later(ctx, in, "request", func(ctx context.Context) { s.openRequest(ctx, in, t) })
}

// openRequest opens a rotation request for t as the caller of in (who must
// be allowed to request), posts its approval card in the activity's thread
// and, when policy needs no approval, runs it.
func (s *Server) openRequest(ctx context.Context, in *incoming, t Target) {
	s.typing(ctx, in) // the preflight reads Graph and Key Vault
	r, err := s.cfg.Approvals.Open(ctx, rotation.Ask{
		Caller: principal(in.caller), TenantID: in.caller.TenantID, Conversation: in.act.Conversation.ID,
		Request: rotation.Request{ID: in.rid, ClientID: t.ClientID, VaultURI: t.VaultURI, ClientIDName: t.ClientIDName, SecretName: t.SecretName,
			Lifetime: t.Lifetime, Overlap: t.Overlap},
	})
	if err != nil {
		s.log.Warn("rotation request refused", "request_id", in.rid, "client_id", t.ClientID, "user_oid", in.caller.ObjectID, "error", err)
		s.postOrphanedCard(ctx, in, err)
		s.replyText(ctx, in, s.refusalWords(err, in, t))
		return
	}
	data := cardData{Ref: in.ref}
	if in.act.From.ID != "" {
		data.Clicked = []string{in.act.From.ID}
	}
	if r.State == rotation.ApprovalPending {
		data.Refresh = s.approverIDs(ctx, in.ref, r)
	}
	// Until the card is attached, nothing else may update it: a click
	// in between would find no card to change.
	unlock := s.lockCard(r.ID)
	data.ActivityID = s.replyCard(ctx, in, s.sharedCard(r, data))
	if data.ActivityID == "" {
		// Teams refused the card, or took it and its answer was lost:
		// say so in words, which may get through where a card did not.
		s.replyText(ctx, in, "I could not confirm that the approval card was posted. If you do not see it, ask again in a few minutes; a request nobody sees expires by itself. (reference "+in.rid+")")
	}
	if b, err := json.Marshal(data); err == nil && data.ActivityID != "" {
		if err := s.cfg.Approvals.AttachCard(ctx, r.ID, b); err != nil {
			s.log.Error("attaching the card to the request failed", "request_id", r.ID, "error", err)
		}
	}
	unlock()
	if r.State == rotation.ApprovalApproved {
		s.run(ctx, r.ID)
	}
}

// postOrphanedCard posts the card of the open request err names when it
// never got one (the process stopped between storing the request and
// posting its card), in the request's own thread, so that asking again in
// the same channel leads to a card someone can approve.
func (s *Server) postOrphanedCard(ctx context.Context, in *incoming, err error) {
	var open *rotation.OpenRequestError
	if !errors.As(err, &open) {
		return
	}
	r := open.Open
	if r.State != rotation.ApprovalPending || len(r.Card) != 0 || !strings.EqualFold(r.TenantID, in.caller.TenantID) ||
		channelOf(r.Conversation) != channelOf(in.act.Conversation.ID) {
		return
	}
	ref := in.ref
	ref.ConversationID, ref.ActivityID = r.Conversation, ""
	data := cardData{Ref: ref, Refresh: s.approverIDs(ctx, ref, r)}
	unlock := s.lockCard(r.ID)
	defer unlock()
	if cur, gerr := s.cfg.Approvals.Get(ctx, r.ID); gerr != nil || len(cur.Card) != 0 {
		return // a click on the card found it meanwhile, or the request is gone
	}
	id, perr := s.cfg.Sender.SendToConversation(ctx, ref, cardActivity(s.sharedCard(r, data)))
	if perr != nil {
		s.log.Warn("posting a request's missing card", "request_id", r.ID, "error", perr)
		return
	}
	data.ActivityID = id
	// A click on another replica may have found a card meanwhile: the
	// conditional edit keeps both.
	if _, _, aerr := s.cfg.Approvals.EditCard(ctx, r.ID, onCardData(func(d *cardData) bool { return d.take(data) })); aerr != nil {
		s.log.Warn("attaching a request's missing card", "request_id", r.ID, "error", aerr)
	}
	s.log.Info("posted the missing card of an open request", "request_id", r.ID)
}

// radarPrincipal asks for the rotations the policy makes the radar open
// (apps.<alias>.auto_request_before). It holds no role and approves
// nothing; the usual approvals apply.
var radarPrincipal = rotation.Principal{ObjectID: "keyturn-expiry-radar", Name: "Keyturn expiry radar"}

// openPolicyRequest opens the rotation request the policy asks the radar to
// make for t, and posts its approval card in the conversation ref names
// (the radar channel). With approvals: 0 the rotation runs at once.
func (s *Server) openPolicyRequest(ctx context.Context, ref activity.ConversationReference, t Target) error {
	r, err := s.cfg.Approvals.Open(ctx, rotation.Ask{
		Caller: radarPrincipal, ByPolicy: true, TenantID: ref.TenantID, Conversation: ref.ConversationID,
		Request: rotation.Request{ClientID: t.ClientID, VaultURI: t.VaultURI, ClientIDName: t.ClientIDName, SecretName: t.SecretName,
			Lifetime: t.Lifetime, Overlap: t.Overlap},
	})
	if err != nil {
		return err
	}
	data := cardData{Ref: ref}
	if r.State == rotation.ApprovalPending {
		data.Refresh = s.approverIDs(ctx, ref, r)
	}
	unlock := s.lockCard(r.ID)
	id, err := s.cfg.Sender.SendToConversation(ctx, ref, cardActivity(s.sharedCard(r, data)))
	if err == nil {
		data.ActivityID = id
		if b, merr := json.Marshal(data); merr == nil {
			err = s.cfg.Approvals.AttachCard(ctx, r.ID, b)
		}
	}
	unlock()
	if err != nil {
		s.log.Warn("radar: the automatic request's card", "request_id", r.ID, "error", err)
	}
	if r.State == rotation.ApprovalApproved {
		s.run(ctx, r.ID)
	}
	return nil
}

// sharedCard is the card everyone in the conversation sees: the status,
// with a refresh for the approvers' clients. When the approvers could not
// be listed, the buttons are shown to everyone; decisions are checked by
// the server either way.
func (s *Server) sharedCard(r rotation.ApprovalRequest, d cardData) cards.Card {
	r = forPeople(r)
	v := cards.Viewer{Now: s.now(), RefreshFor: d.Refresh, FollowFor: d.Clicked}
	if r.State == rotation.ApprovalPending && len(d.Refresh) == 0 {
		v.CanDecide = true
	}
	return cards.Approval(r, v)
}

// approverIDs lists the Teams IDs of the conversation's members who may
// approve r (never the requester), for the card's refresh.
func (s *Server) approverIDs(ctx context.Context, ref activity.ConversationReference, r rotation.ApprovalRequest) []string {
	if s.cfg.Members == nil {
		return nil
	}
	members, err := s.cfg.Members.ConversationMembers(ctx, ref)
	if err != nil {
		s.log.Warn("listing the conversation's members failed; approval buttons shown to everyone", "request_id", r.ID, "error", err)
		return nil
	}
	var ids []string
	for i, m := range members {
		if i >= maxMembersChecked || len(ids) >= cards.MaxRefreshUsers {
			break
		}
		if m.AADObjectID == "" || strings.EqualFold(m.AADObjectID, r.RequestedBy.ObjectID) {
			continue
		}
		if s.mayApprove(ctx, rotation.Principal{ObjectID: m.AADObjectID}, r) {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// mayApprove reports whether who may decide on r, for what a card shows:
// no audit record, since showing a button decides nothing (the click is
// authorized, and audited, again).
func (s *Server) mayApprove(ctx context.Context, who rotation.Principal, r rotation.ApprovalRequest) bool {
	_, err := s.cfg.Authz.Check(ctx, rotation.Attempt{Who: who, Action: rotation.ActionApprove, ClientID: r.ClientID, RequestID: r.ID})
	return err == nil
}

// lockCard serializes the writes to request id's card in this process and
// returns the unlock.
func (s *Server) lockCard(id string) func() {
	s.cardsMu.Lock()
	if s.cardLocks == nil {
		s.cardLocks = map[string]*cardLock{}
	}
	l := s.cardLocks[id]
	if l == nil {
		l = &cardLock{}
		s.cardLocks[id] = l
	}
	l.users++
	s.cardsMu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		s.cardsMu.Lock()
		if l.users--; l.users == 0 {
			delete(s.cardLocks, id)
		}
		s.cardsMu.Unlock()
	}
}

// cardLock is one request's card lock and how many wait for it.
type cardLock struct {
	mu    sync.Mutex
	users int
}

// maxMembersChecked bounds the role lookups one approval card costs.
const maxMembersChecked = 200

// run runs the approved request id, keeping its card up to date. The card
// is put in the outbox first: if this process dies mid-rotation, the
// scheduler brings the card to its final state.
func (s *Server) run(ctx context.Context, id string) {
	s.runningMu.Lock()
	if s.running == nil {
		s.running = map[string]bool{}
	}
	s.running[id] = true
	s.runningMu.Unlock()
	defer func() {
		s.runningMu.Lock()
		delete(s.running, id)
		s.runningMu.Unlock()
	}()
	if _, err := s.cfg.State.CardPending(ctx, id); err != nil {
		s.log.Warn("card outbox", "request_id", id, "error", err)
	}
	r, err := s.cfg.Approvals.Run(ctx, id)
	if err != nil && errors.Is(err, rotation.ErrNotPending) {
		return // another replica or click runs it
	}
	if err != nil {
		s.log.Warn("rotation failed", "request_id", id, "error", err)
	}
	if r.ID != "" {
		s.updateShared(ctx, r)
	}
	if r.State == rotation.ApprovalDone {
		s.supersedeStale(ctx, r)
	}
	if r.State == rotation.ApprovalDone && s.cfg.Radar != nil {
		// The app's radar card follows the rotation at the next tick.
		if err := AskRadarScan(ctx, s.cfg.State); err != nil {
			s.log.Warn("radar: asking for a scan", "request_id", id, "error", err)
		}
	}
}

// OnProgress is the Rotator's progress hook: it records the verification's
// progress on the request and updates its card. It never blocks long: a
// failed update only loses a progress display.
func (s *Server) OnProgress(p rotation.Progress) {
	if p.Needed == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := s.cfg.Approvals.Progress(ctx, p.RequestID, p.Verified, p.Needed)
	if err != nil || r.State != rotation.ApprovalRunning {
		return
	}
	unlock := s.lockCard(r.ID)
	defer unlock()
	s.pushCard(ctx, r)
}

// updateShared replaces the conversation's card of r with its current
// state. The update goes through the outbox: an entry is written first and
// removed once Teams took the update (never for a running request, whose
// runner may yet die), so the scheduler retries what failed.
func (s *Server) updateShared(ctx context.Context, r rotation.ApprovalRequest) {
	unlock := s.lockCard(r.ID)
	defer unlock()
	tag, err := s.cfg.State.CardPending(ctx, r.ID)
	if err != nil {
		s.log.Warn("card outbox", "request_id", r.ID, "error", err)
	}
	if s.pushCard(ctx, r) && err == nil && r.State != rotation.ApprovalRunning {
		if err := s.cfg.State.CardDone(ctx, r.ID, tag); err != nil {
			s.log.Warn("card outbox", "request_id", r.ID, "error", err)
		}
	}
}

// cardGone reports whether the connector refused a card update in a way no
// retry changes: 404 (the message was deleted, or the conversation is
// gone) or 403 (the bot was removed from the conversation, or the message
// is not the bot's).
func cardGone(err error) bool {
	var st *connector.StatusError
	return errors.As(err, &st) && (st.StatusCode == http.StatusNotFound || st.StatusCode == http.StatusForbidden)
}

// pushCard sends r's card to Teams, under the card's lock, and reports
// whether nothing is left to send (also when r has no card to update).
func (s *Server) pushCard(ctx context.Context, r rotation.ApprovalRequest) bool {
	if len(r.Card) == 0 {
		// r was read before its card was attached: read it again.
		if cur, err := s.cfg.Approvals.Get(ctx, r.ID); err == nil {
			r.Card = cur.Card
		}
	}
	var d cardData
	if len(r.Card) == 0 || json.Unmarshal(r.Card, &d) != nil || d.ActivityID == "" {
		return true
	}
	if r.State != rotation.ApprovalPending {
		d.Refresh = nil
	}
	act := cardActivity(s.sharedCard(r, d))
	done := true
	for _, id := range append([]string{d.ActivityID}, d.Also...) {
		if err := s.cfg.Sender.UpdateActivity(ctx, d.Ref, id, act); err != nil {
			if cardGone(err) {
				// Retrying would get the same answer at every tick.
				s.log.Info("card update refused for good (message deleted or bot removed); not retried", "request_id", r.ID, "activity_id", id, "error", err)
				continue
			}
			s.log.Warn("card update failed; the scheduler retries it", "request_id", r.ID, "activity_id", id, "error", err)
			done = false
		}
	}
	return done
}

// decide handles approve, reject and refresh from a card, and returns the
// invoke answer: the card as this caller should now see it, or an error
// that says why in words.
func (s *Server) decide(ctx context.Context, in *incoming, verb string, data cards.ActionData) InvokeResponse {
	if data.RequestID == "" {
		return invokeError(http.StatusBadRequest, "BadRequest", "This card action carries no request.")
	}
	d := rotation.Vote{Caller: principal(in.caller), TenantID: in.caller.TenantID, RequestID: data.RequestID,
		Digest: data.Digest, Conversation: in.act.Conversation.ID, Reason: data.Reason}
	var r rotation.ApprovalRequest
	var run bool
	var err error
	switch verb {
	case "refresh":
		r, err = s.cfg.Approvals.Get(ctx, data.RequestID)
		switch {
		case err != nil:
		case data.Digest != r.Digest:
			err = rotation.ErrTampered
		case !strings.EqualFold(in.caller.TenantID, r.TenantID):
			err = fmt.Errorf("%w: the request belongs to another tenant", rotation.ErrDenied)
		case in.act.Conversation.ID != r.Conversation:
			err = rotation.ErrWrongConversation
		}
		if err != nil {
			// A refresh shows the request's card, so it is checked like a
			// decision: same request, same tenant, same conversation.
			s.deny(ctx, in.caller, r.ClientID, "refresh of request "+data.RequestID+": "+err.Error())
			return invokeError(http.StatusBadRequest, "BadRequest", cardMessage(err, in.rid))
		}
		return s.cardFor(ctx, in, r)
	case "approve":
		r, run, err = s.cfg.Approvals.Approve(ctx, d)
	case "reject":
		r, err = s.cfg.Approvals.Reject(ctx, d)
	}
	if err != nil {
		s.log.Info("card decision refused", "request_id", data.RequestID, "verb", verb, "user_oid", in.caller.ObjectID, "error", err)
		return invokeError(http.StatusForbidden, "Refused", decisionFailure(err, in.rid))
	}
	r = s.adoptCard(ctx, in, r)
	r = s.follow(ctx, r, in.act.From.ID)
	s.updateShared(ctx, r)
	if run {
		run := func(ctx context.Context) { s.run(rotation.WithRef(ctx, in.rid), r.ID) }
		if err := s.pool.submit(job{name: "rotate", id: r.ID, timeout: s.cfg.JobTimeout, run: run}); err != nil {
			s.log.Error("approved rotation not queued; the scheduler runs it", "request_id", r.ID, "error", err)
		}
	}
	return s.cardFor(ctx, in, r)
}

// adoptCard attaches the card the click came from (the invoke's
// replyToId) to r when r does not know it: the process stopped between
// posting the approval card and recording where it is, and without this
// the card would never follow the request. When r has no card, the clicked
// one becomes its card; when r has another (asking again posted the card
// anew), the clicked one is kept beside it, and both follow the request.
func (s *Server) adoptCard(ctx context.Context, in *incoming, r rotation.ApprovalRequest) rotation.ApprovalRequest {
	id := in.act.ReplyToID
	if id == "" {
		return r
	}
	r, adopted := s.editCard(ctx, r, "attaching the clicked card to the request", func(d *cardData) bool {
		return d.take(cardData{Ref: in.ref, ActivityID: id})
	})
	if adopted {
		s.log.Info("request's card recovered from a click", "request_id", r.ID, "activity_id", id)
	}
	return r
}

// cardFor answers with r's card as the caller should see it.
func (s *Server) cardFor(ctx context.Context, in *incoming, r rotation.ApprovalRequest) InvokeResponse {
	v := cards.Viewer{ObjectID: in.caller.ObjectID, Now: s.now()}
	var d cardData
	_ = json.Unmarshal(r.Card, &d)
	v.RefreshFor, v.FollowFor = d.Refresh, d.Clicked
	if r.State == rotation.ApprovalPending && !strings.EqualFold(in.caller.ObjectID, r.RequestedBy.ObjectID) {
		v.CanDecide = s.mayApprove(ctx, principal(in.caller), r)
	}
	return InvokeResponse{StatusCode: http.StatusOK, Type: InvokeTypeCard, Value: cards.Approval(forPeople(r), v)}
}

// forPeople replaces a failed request's internal reason (error text for
// the logs) with words for the chat; the request ID is the reference that
// finds the log lines.
func forPeople(r rotation.ApprovalRequest) rotation.ApprovalRequest {
	if r.State != rotation.ApprovalFailed {
		return r
	}
	// The outcome's words come from the rotation's result; the recorded
	// cause adds only why. Its outcome codes (ambiguous, incomplete) may
	// be older than the result: a rotation that stopped part-way and was
	// then undone by recovery is rolled back, not "journaled".
	switch {
	case r.Result.State == rotation.StateRolledBack:
		r.Reason = causeWords(withoutOutcome(r.Cause), sentence(rotation.ErrCompensated))
	case r.Result.State == rotation.StateFailed || r.Result.State == "":
		r.Reason = causeWords(withoutOutcome(r.Cause), failedNoHarm)
	default:
		r.Reason = causeWords(r.Cause, sentence(rotation.ErrIncomplete))
	}
	return r
}

// cardMessage puts a refused card action into words: a request that is
// not found is a card that matches none of this conversation's.
func cardMessage(err error, ref string) string {
	if errors.Is(err, rotation.ErrNotFound) && !errors.Is(err, rotation.ErrDenied) {
		return cardMismatch + " (reference " + ref + ")"
	}
	return userMessage(err, ref)
}
