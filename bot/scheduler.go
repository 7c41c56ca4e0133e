package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyturn/keyturn/bot/activity"
	"github.com/keyturn/keyturn/bot/connector"
	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/rotation"
)

// auditChannelSetting names the stored audit channel.
const auditChannelSetting = "audit-channel"

// auditChannel is where the audit trail is posted. Moved, when set, is the
// channel it moved from, which has yet to be told where it went.
type auditChannel struct {
	Ref   activity.ConversationReference  `json:"ref"`
	Moved *activity.ConversationReference `json:"moved,omitempty"`
	By    string                          `json:"by,omitempty"` // who moved it, for the notice
}

// maxAuditLinesPerPost keeps audit posts readable and within Teams' rate.
const maxAuditLinesPerPost = 10

// auditChannelTypes are the conversations that may be the audit channel:
// where more than one person reads it, never a 1:1 chat with the bot.
var auditChannelTypes = map[string]bool{"channel": true, "groupChat": true}

// onAuditHere makes this conversation the audit channel: approvers only, a
// team channel or group chat only, audited before it is made. Moving the
// channel skips nothing: the posting cursor stays where Teams last
// accepted a post, so what the old channel never received goes to the new
// one, and the old channel is told where the trail went.
func (s *Server) onAuditHere(ctx context.Context, in *incoming) answer {
	if refused := s.hereRefused(ctx, in, policy.ActionAuditHere, "The audit channel must be a team channel or a group chat, where more than one person reads it: not a 1:1 chat. Nothing was changed."); refused != nil {
		return refused()
	}
	return s.later(ctx, in, "audit-here", func(ctx context.Context) {
		ref, old, ok := s.claimHere(ctx, in, "audit channel", auditChannelSetting)
		if !ok {
			return
		}
		var err error
		next := auditChannel{Ref: ref}
		if old != nil {
			next.Moved, next.By = old, actor(in.caller)
		} else {
			err = s.startCursorAtHead(ctx)
		}
		if err == nil {
			err = s.cfg.State.SetSetting(ctx, auditChannelSetting, next)
		}
		if err != nil {
			s.log.Error("setting the audit channel failed", "request_id", in.rid, "error", err)
			s.replyText(ctx, in, userMessage(err, in.rid))
			return
		}
		s.replyText(ctx, in, "This channel is now Keyturn's audit channel: every request, decision and rotation step is posted here.")
	})
}

// hereRefused checks a command that makes this conversation one of
// Keyturn's channels: the conversation must be a team channel or group
// chat (why says so otherwise), and the caller must be allowed a. Where
// comes before who: a 1:1 chat is refused whoever asks, with no role
// decision. Either refusal is audited. It returns nil when the command may
// go on, else what answers the webhook.
func (s *Server) hereRefused(ctx context.Context, in *incoming, a rotation.Action, why string) func() answer {
	if !auditChannelTypes[in.act.Conversation.ConversationType] {
		s.deny(ctx, in.caller, "", string(a)+" in a "+orDash(in.act.Conversation.ConversationType)+" conversation")
		return func() answer {
			return s.later(ctx, in, "reply", func(ctx context.Context) { s.replyText(ctx, in, why) })
		}
	}
	if no := s.authorize(ctx, in, a, ""); no != "" {
		return func() answer {
			return s.later(ctx, in, "reply", func(ctx context.Context) { s.replyText(ctx, in, no) })
		}
	}
	return nil
}

// claimHere is the shared part of "audit here" and "radar here", once
// hereRefused let the command through: this conversation's reference (new
// messages, not this thread), the setting's current channel, the answer when
// it is this one already, and the audited change, recorded before the
// caller stores it. It returns the new reference and the old one (nil when
// there was none); false when it has answered and the caller must stop.
func (s *Server) claimHere(ctx context.Context, in *incoming, what, setting string) (activity.ConversationReference, *activity.ConversationReference, bool) {
	ref := in.ref
	ref.ConversationID, _, _ = strings.Cut(ref.ConversationID, ";") // post as new messages, not in this thread
	ref.ActivityID = ""
	var cur struct {
		Ref activity.ConversationReference `json:"ref"`
	}
	err := s.cfg.State.Setting(ctx, setting, &cur)
	if err != nil && !errors.Is(err, rotation.ErrNotFound) {
		s.log.Error("reading the "+what+" failed", "request_id", in.rid, "error", err)
		s.replyText(ctx, in, userMessage(err, in.rid))
		return ref, nil, false
	}
	var old *activity.ConversationReference
	if err == nil && cur.Ref.ConversationID != "" {
		old = &cur.Ref
	}
	if old != nil && old.ConversationID == ref.ConversationID {
		s.replyText(ctx, in, "This channel is Keyturn's "+what+" already.")
		return ref, nil, false
	}
	detail := what + " set to " + ref.ConversationID
	if old != nil {
		detail = what + " moved from " + old.ConversationID + " to " + ref.ConversationID
	}
	if err := s.cfg.Audit.Record(ctx, rotation.Event{Type: rotation.EventConfigChanged, Actor: actor(in.caller), Detail: detail}); err != nil {
		s.replyText(ctx, in, userMessage(fmt.Errorf("%w: %w", rotation.ErrAuditFailed, err), in.rid))
		return ref, nil, false
	}
	return ref, old, true
}

// startCursorAtHead makes the first audit channel start with the record
// that announced it: what came before was never any channel's to receive
// (keyturn audit show has it). The cursor only ever moves forward.
func (s *Server) startCursorAtHead(ctx context.Context) error {
	head, err := s.cfg.State.AuditHead(ctx)
	if err != nil {
		return err
	}
	seq, etag, err := s.cfg.State.Posted(ctx)
	if err != nil || head == 0 || seq >= head-1 {
		return err
	}
	_, err = s.cfg.State.SetPosted(ctx, head-1, etag)
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// tellOldChannel posts the "moved to" notice to the channel the audit trail
// left, once, and forgets it when Teams took it.
func (s *Server) tellOldChannel(ctx context.Context, ch auditChannel) error {
	if ch.Moved == nil {
		return nil
	}
	text := "Keyturn's audit channel moved to conversation " + ch.Ref.ConversationID + " (by " + ch.By + "). Every record from now on is posted there; none is skipped."
	if _, err := s.cfg.Sender.SendToConversation(ctx, *ch.Moved, connector.Activity{Type: connector.TypeMessage,
		Text: text, TextFormat: connector.TextFormatPlain}); err != nil {
		return err
	}
	var cur auditChannel
	if err := s.cfg.State.Setting(ctx, auditChannelSetting, &cur); err != nil || cur.Moved == nil || cur.Moved.ConversationID != ch.Moved.ConversationID {
		return err // moved again meanwhile: that move's notice stands
	}
	cur.Moved, cur.By = nil, ""
	return s.cfg.State.SetSetting(ctx, auditChannelSetting, cur)
}

// schedule runs the background jobs every cfg.Schedule while this replica
// holds the scheduler lease, until ctx ends.
func (s *Server) schedule(ctx context.Context) {
	t := time.NewTicker(s.cfg.Schedule)
	defer t.Stop()
	for {
		s.tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tick runs the background jobs once, under the scheduler's lease (renewed
// while it runs): finish or undo rotations a dead replica left (once their
// lease ran out), remove credentials Keyturn named that no live journal
// record owns, settle running requests from their journal records, start
// approved requests nobody started, expire requests (and update their
// cards), retire credentials whose overlap ended, retry card updates that
// failed, post the audit trail to the audit channel, forget old activity
// IDs.
func (s *Server) tick(ctx context.Context) {
	ttl := s.schedulerLease()
	ok, err := s.cfg.State.Acquire(ctx, "scheduler", s.cfg.Holder, ttl)
	if err != nil || !ok {
		if err != nil {
			s.log.Warn("scheduler lease", "error", err)
		}
		return
	}
	ctx, stop := s.keepLease(ctx, "scheduler", ttl)
	defer stop()
	if got, err := s.cfg.Rotations.Recover(ctx); err != nil || len(got) > 0 {
		s.log.Info("recovered unfinished rotations", "count", len(got), "error", err)
	}
	if got, err := s.cfg.Rotations.Sweep(ctx); err != nil || len(got) > 0 {
		s.log.Info("swept orphaned credentials", "count", len(got), "error", err)
	}
	if open, err := s.cfg.Approvals.Unsettled(ctx); err != nil {
		s.log.Warn("listing open requests", "error", err)
	} else {
		s.reconcileRunning(ctx, open)
		s.startApproved(ctx, open)
	}
	expired, err := s.cfg.Approvals.ExpireDue(ctx)
	if err != nil {
		s.log.Warn("expiring requests", "error", err)
	}
	for _, r := range expired {
		s.updateShared(ctx, r)
	}
	if got, err := s.cfg.Rotations.Retire(ctx, rotation.RetireOptions{}); err != nil {
		s.log.Warn("retiring credentials", "error", err)
	} else {
		for _, r := range got {
			if r.Outcome == rotation.Retired {
				s.log.Info("credential retired", "request_id", r.RequestID, "client_id", r.ClientID, "key_id", r.KeyID)
			}
		}
	}
	s.drainCards(ctx)
	if err := s.drainAudit(ctx); err != nil {
		s.log.Warn("posting to the audit channel", "error", err)
	}
	s.radarTick(ctx)
	if _, err := s.cfg.State.PruneSeen(ctx, 48*time.Hour); err != nil {
		s.log.Warn("pruning processed activities", "error", err)
	}
}

// drainAudit posts the audit records after the cursor to the audit
// channel, moving the cursor only past what was posted: an unreachable
// Teams delays the posts and loses none.
func (s *Server) drainAudit(ctx context.Context) error {
	var ch auditChannel
	if err := s.cfg.State.Setting(ctx, auditChannelSetting, &ch); err != nil {
		return nil // no audit channel yet
	}
	if err := s.tellOldChannel(ctx, ch); err != nil {
		s.log.Warn("telling the old audit channel it moved", "error", err)
	}
	for {
		seq, etag, err := s.cfg.State.Posted(ctx)
		if err != nil {
			return err
		}
		recs, err := s.cfg.State.Records(ctx, seq, maxAuditLinesPerPost)
		if err != nil || len(recs) == 0 {
			return err
		}
		lines := make([]string, len(recs))
		for i, r := range recs {
			lines[i] = auditLine(r)
		}
		if _, err := s.cfg.Sender.SendToConversation(ctx, ch.Ref, connector.Activity{Type: connector.TypeMessage,
			Text: strings.Join(lines, "\n\n"), TextFormat: connector.TextFormatPlain}); err != nil {
			return err
		}
		if _, err := s.cfg.State.SetPosted(ctx, recs[len(recs)-1].Seq, etag); err != nil {
			if errors.Is(err, rotation.ErrConflict) {
				return nil // another replica posted meanwhile
			}
			return err
		}
	}
}

// auditLine renders one audit record for the channel: IDs, names, hints
// and the record's hash, which anchors the stored chain outside the store.
func auditLine(r rotation.AuditRecord) string {
	e := r.Event
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s %s", r.Seq, e.Time.UTC().Format("2006-01-02 15:04:05Z"), e.Type)
	if e.ClientID != "" {
		fmt.Fprintf(&b, " app %s", e.ClientID)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " request %s", e.RequestID)
	}
	if e.Actor != "" {
		fmt.Fprintf(&b, " by %s", e.Actor)
	}
	if e.KeyID != "" {
		fmt.Fprintf(&b, " key %s", e.KeyID)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, " (hint %s)", e.Hint)
	}
	if e.Vault != "" {
		fmt.Fprintf(&b, " %s", e.Vault)
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	}
	if e.Ref != "" && e.Ref != e.RequestID {
		fmt.Fprintf(&b, " (reference %s)", e.Ref)
	}
	fmt.Fprintf(&b, " [%s]", r.Hash[:min(12, len(r.Hash))])
	return b.String()
}
