package bot

import (
	"errors"
	"strings"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// openRequestWords tells someone asking for a rotation that the app has an
// open request already, and where to find its card: who asked and when,
// in this conversation or another, and its reference.
func openRequestWords(e *rotation.OpenRequestError, conversation string, now time.Time) string {
	r := e.Open
	app := r.AppName
	if app == "" {
		app = r.ClientID
	}
	who := r.RequestedBy.Name
	if strings.TrimSpace(who) == "" {
		who = r.RequestedBy.ObjectID
	}
	where := "its card is above in this conversation"
	switch {
	case r.Conversation == conversation:
	case channelOf(r.Conversation) == channelOf(conversation):
		where = "its card is in this channel, in the thread where it was asked"
	default:
		where = "its card is in another conversation"
	}
	asked := who + " asked at " + clock(r.CreatedAt, now)
	switch r.State {
	case rotation.ApprovalPending:
		return "A request to rotate " + app + " is already open: " + asked + "; " + where +
			" (reference " + r.ID + "). Approve or reject that one, or ask again after it expires at " + clock(r.ExpiresAt, now) + "."
	default:
		return "A rotation of " + app + " is already under way: " + asked + "; " + where +
			" (reference " + r.ID + ") and follows it to the end. Ask again once it is done if you still need a new secret."
	}
}

// clock is a time for a chat reply: "14:02 UTC", with the date when it is
// not the day of now (UTC).
func clock(t, now time.Time) string {
	t, now = t.UTC(), now.UTC()
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04 UTC")
	}
	return t.Format("2 Jan 15:04 UTC")
}

// refusalWords puts a refused rotation request into words for in's
// conversation.
func (s *Server) refusalWords(err error, in *incoming, t Target) string {
	var open *rotation.OpenRequestError
	switch {
	case errors.As(err, &open):
		return openRequestWords(open, in.act.Conversation.ID, s.now())
	case errors.Is(err, rotation.ErrAppNotFound):
		return targetWords(err, t, in.rid)
	}
	return requestMessage(err, in.rid)
}

// channelOf is a conversation ID without its thread: a Teams channel's
// threads are conversations "19:…@thread.tacv2;messageid=<root>".
func channelOf(conversation string) string {
	c, _, _ := strings.Cut(conversation, ";messageid=")
	return c
}
