package bot

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/keyturn/keyturn/bot/cards"
)

// onConversationUpdate learns (or forgets) the conversation when the bot
// itself is added to (or removed from) a team or chat, and says hello.
// Other members joining or leaving is ignored.
func (s *Server) onConversationUpdate(ctx context.Context, in *incoming) answer {
	botID := in.act.Recipient.ID
	for _, m := range in.act.MembersRemoved {
		if m.ID == botID {
			s.forget(ctx, in)
			return answer{status: http.StatusOK}
		}
	}
	for _, m := range in.act.MembersAdded {
		if m.ID == botID || (in.act.Conversation.ConversationType == "personal" && strings.HasPrefix(m.ID, "28:")) {
			// In a 1:1 chat the only bot that can join is this one; Teams'
			// published sample names it by another ID than the recipient.
			return s.install(ctx, in)
		}
	}
	return answer{status: http.StatusOK}
}

// onInstallationUpdate handles the app being installed (add) or removed.
func (s *Server) onInstallationUpdate(ctx context.Context, in *incoming) answer {
	switch in.act.Action {
	case "add":
		return s.install(ctx, in)
	case "remove":
		s.forget(ctx, in)
	}
	return answer{status: http.StatusOK}
}

// install stores the conversation reference (only authenticated activities
// reach here) and posts a short welcome, once per delivery.
func (s *Server) install(ctx context.Context, in *incoming) answer {
	b, err := json.Marshal(in.ref)
	if err == nil {
		err = s.cfg.State.SaveRef(ctx, in.ref.ConversationID, b)
	}
	if err != nil {
		s.log.Error("saving the conversation reference failed", "request_id", in.rid, "error", err)
		return answer{status: http.StatusInternalServerError}
	}
	return s.later(ctx, in, "welcome", func(ctx context.Context) {
		if _, err := s.cfg.Sender.SendToConversation(ctx, in.ref, cardActivity(cards.Welcome(s.cfg.BotName))); err != nil {
			s.log.Error("welcome failed", "request_id", in.rid, "error", err)
		}
	})
}

func (s *Server) forget(ctx context.Context, in *incoming) {
	if err := s.cfg.State.DeleteRef(ctx, in.ref.ConversationID); err != nil {
		s.log.Error("deleting the conversation reference failed", "request_id", in.rid, "error", err)
	}
}
