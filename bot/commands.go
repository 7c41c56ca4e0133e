package bot

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/keyturn/keyturn/bot/cards"
	"github.com/keyturn/keyturn/bot/command"
	"github.com/keyturn/keyturn/bot/connector"
	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/rotation"
)

// onMessage handles a message: a card submit (value, no text) goes to the
// card actions; text is a command.
func (s *Server) onMessage(ctx context.Context, in *incoming) answer {
	if in.act.HasValue() && strings.TrimSpace(in.act.Text) == "" {
		return s.onSubmit(ctx, in)
	}
	cmd, err := command.Parse(in.act)
	var perr *command.ParseError
	switch {
	case errors.As(err, &perr):
		return s.later(ctx, in, "reply", func(ctx context.Context) { s.replyText(ctx, in, perr.Reason) })
	case err != nil:
		return s.later(ctx, in, "reply", func(ctx context.Context) { s.replyText(ctx, in, "I could not read that message.") })
	}
	switch cmd.Verb {
	case command.NotForUs:
		return answer{status: http.StatusOK}
	case command.Rotate:
		return s.onRotate(ctx, in, cmd)
	case command.Status:
		return s.onStatus(ctx, in, cmd)
	case command.Retire:
		return s.onRetire(ctx, in, cmd)
	case command.WhoAmI:
		d, err := s.cfg.Authz.Authorize(ctx, rotation.Attempt{Who: principal(in.caller), Action: policy.ActionWhoAmI})
		if err != nil {
			return s.later(ctx, in, "reply", func(ctx context.Context) { s.replyText(ctx, in, userMessage(err, in.rid)) })
		}
		return s.later(ctx, in, "whoami", func(ctx context.Context) { s.whoami(ctx, in, d) })
	case command.AuditHere:
		return s.onAuditHere(ctx, in)
	case command.RadarHere:
		return s.onRadarHere(ctx, in)
	case command.Expiring:
		return s.onExpiring(ctx, in, cmd)
	case command.Help:
		if !cmd.Unknown {
			return s.later(ctx, in, "help", func(ctx context.Context) { s.reply(ctx, in, s.help) })
		}
		fallthrough
	default: // words that are no command
		return s.later(ctx, in, "help", func(ctx context.Context) { s.reply(ctx, in, s.notUnderstood) })
	}
}

// later answers the webhook at once and queues run, to run once per
// activity however often Teams delivers it. The webhook reserves a place
// in the job queue (waiting up to QueueWait for one, then 503, so Teams'
// retry is taken) and
// answers without waiting for the store: the activity's claim
// (Deduper.FirstSeen) is committed with the other claims of the moment,
// and the job is queued only once its claim is durable and first. A
// re-delivery, after a restart or on another replica, therefore finds the
// claim of every activity that ran. See docs/performance.md.
func (s *Server) later(ctx context.Context, in *incoming, name string, run func(ctx context.Context)) answer {
	slot, err := s.pool.reserve(ctx, s.cfg.QueueWait)
	if err != nil {
		s.log.Warn("job not queued", "request_id", in.rid, "job", name, "error", err)
		return answer{status: http.StatusServiceUnavailable}
	}
	// The claim outlives the request: it holds the reservation, which the
	// pool's stop waits for and cancels at its deadline.
	key, rid, activityID := in.dedupKey(), in.rid, in.act.ID
	go func() {
		ctx, cancel := context.WithTimeout(slot.holderContext(), claimTimeout)
		defer cancel()
		first, err := s.cfg.Dedup.FirstSeen(ctx, key)
		switch {
		case err != nil:
			slot.release()
			s.log.Error("activity not run: the de-duplication store failed", "request_id", rid, "activity_id", activityID, "error", err)
		case !first:
			slot.release()
			s.log.Debug("re-delivered activity ignored", "request_id", rid, "activity_id", activityID)
		default:
			withRef := func(ctx context.Context) { run(rotation.WithRef(ctx, rid)) }
			slot.submit(job{name: name, id: activityID, timeout: s.cfg.JobTimeout, run: withRef})
		}
	}()
	return answer{status: http.StatusOK}
}

// claimTimeout bounds one de-duplication write.
const claimTimeout = 30 * time.Second

// authorize decides whether the caller may take action on the app
// clientID (policy.Authorizer, which audits the decision either way), and
// returns the refusal in words, or "" when allowed.
func (s *Server) authorize(ctx context.Context, in *incoming, action rotation.Action, clientID string) string {
	_, err := s.cfg.Authz.Authorize(ctx, rotation.Attempt{Who: principal(in.caller), Action: action, ClientID: clientID})
	if err != nil {
		s.log.Info("command refused", "request_id", in.rid, "user_oid", in.caller.ObjectID, "action", string(action), "error", err)
		return userMessage(err, in.rid)
	}
	return ""
}

func (s *Server) onStatus(ctx context.Context, in *incoming, cmd command.Command) answer {
	t, err := s.cfg.Catalog.Resolve(cmd.App, "")
	if err != nil {
		return s.later(ctx, in, "reply", func(ctx context.Context) { s.replyText(ctx, in, userMessage(err, in.rid)) })
	}
	if why := s.authorize(ctx, in, policy.ActionStatus, t.ClientID); why != "" {
		return s.later(ctx, in, "reply", func(ctx context.Context) { s.replyText(ctx, in, why) })
	}
	return s.later(ctx, in, "status", func(ctx context.Context) {
		s.typing(ctx, in)
		var refs []rotation.SecretRef
		if t.VaultURI != "" && t.SecretName != "" {
			refs = append(refs, rotation.SecretRef{VaultURI: t.VaultURI, Name: t.SecretName})
		}
		st, err := s.cfg.Rotations.Status(ctx, t.ClientID, refs...)
		if err != nil {
			s.log.Warn("status failed", "request_id", in.rid, "client_id", t.ClientID, "error", err)
			s.replyCard(ctx, in, cards.Error(targetWords(err, t, ""), in.rid))
			return
		}
		s.replyCard(ctx, in, cards.Status(st))
	})
}

func (s *Server) onRetire(ctx context.Context, in *incoming, cmd command.Command) answer {
	t, err := s.cfg.Catalog.Resolve(cmd.App, "")
	if err != nil {
		return s.later(ctx, in, "reply", func(ctx context.Context) { s.replyText(ctx, in, userMessage(err, in.rid)) })
	}
	if why := s.authorize(ctx, in, policy.ActionRetire, t.ClientID); why != "" {
		return s.later(ctx, in, "reply", func(ctx context.Context) { s.replyText(ctx, in, why) })
	}
	return s.later(ctx, in, "retire", func(ctx context.Context) {
		s.typing(ctx, in)
		got, err := s.cfg.Rotations.Retire(ctx, rotation.RetireOptions{ClientID: t.ClientID})
		problem := ""
		if err != nil {
			// Each failed retirement's own text is for the logs.
			s.log.Warn("retire failed", "request_id", in.rid, "client_id", t.ClientID, "error", err)
			problem = userMessage(err, "")
		}
		s.replyCard(ctx, in, cards.Retirements(t.Name, got, problem, in.rid))
	})
}

// whoami answers with the caller's identity and the roles of the policy
// they hold, as the decision d found them.
func (s *Server) whoami(ctx context.Context, in *incoming, d rotation.Decision) {
	roles := roleAbilities(s.cfg.Authz.Policy, d.Held)
	switch {
	case d.Why != "":
		roles = []string{"(role lookup failed; reference " + in.rid + ")"}
		s.log.Error("authorization lookup failed", "request_id", in.rid, "user_oid", in.caller.ObjectID)
	case len(roles) == 0:
		roles = []string{"(none: you may neither request nor approve rotations)"}
	}
	s.replyCard(ctx, in, cards.WhoAmI(in.caller.Name, in.caller.ObjectID, in.caller.TenantID, roles))
}

// typing shows the typing indicator while a command reads Azure; a failure
// only loses the indicator.
func (s *Server) typing(ctx context.Context, in *incoming) {
	if err := s.cfg.Sender.SendTyping(ctx, in.ref); err != nil {
		s.log.Debug("typing indicator failed", "request_id", in.rid, "error", err)
	}
}

// replyCard posts card in the activity's thread and returns the new
// activity's ID ("" when posting failed, which is logged).
func (s *Server) replyCard(ctx context.Context, in *incoming, card cards.Card) string {
	return s.reply(ctx, in, cardActivity(card))
}

// reply posts act in reply to the activity and returns the reply's ID.
func (s *Server) reply(ctx context.Context, in *incoming, act connector.Activity) string {
	id, err := s.cfg.Sender.ReplyToActivity(ctx, in.ref, in.act.ID, act)
	if err != nil {
		s.log.Error("reply failed", "request_id", in.rid, "activity_id", in.act.ID, "error", err)
	}
	return id
}

func (s *Server) replyText(ctx context.Context, in *incoming, text string) {
	_, err := s.cfg.Sender.ReplyToActivity(ctx, in.ref, in.act.ID, connector.Activity{Type: connector.TypeMessage, Text: text, TextFormat: connector.TextFormatPlain})
	if err != nil {
		s.log.Error("reply failed", "request_id", in.rid, "activity_id", in.act.ID, "error", err)
	}
}

// updateOrReply replaces the card posted as id, or posts a new reply when
// there is none or the update fails.
func (s *Server) updateOrReply(ctx context.Context, in *incoming, id string, card cards.Card) {
	if id != "" {
		if err := s.cfg.Sender.UpdateActivity(ctx, in.ref, id, cardActivity(card)); err == nil {
			return
		} else {
			s.log.Warn("card update failed; replying instead", "request_id", in.rid, "error", err)
		}
	}
	s.replyCard(ctx, in, card)
}

func cardActivity(card cards.Card) connector.Activity {
	ct, content := cards.Attachment(card)
	checked, err := connector.NewJSON(content)
	if err != nil {
		panic("bot: a card is not valid JSON: " + err.Error())
	}
	return connector.Activity{Type: connector.TypeMessage, Attachments: []connector.Attachment{{ContentType: ct, Content: checked}}}
}
