package bot

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/keyturn/keyturn/rotation"
)

// follow records that teamsID decided on r's card, so that their client,
// which shows their own version of it, refreshes it until the end. It
// returns r with the card data as stored; a failure only loses the
// refresh, and is logged.
func (s *Server) follow(ctx context.Context, r rotation.ApprovalRequest, teamsID string) rotation.ApprovalRequest {
	if teamsID == "" {
		return r
	}
	r, _ = s.editCard(ctx, r, "recording who clicked the card", func(d *cardData) bool {
		if d.ActivityID == "" || slices.Contains(d.Clicked, teamsID) {
			return false
		}
		d.Clicked = append(d.Clicked, teamsID)
		return true
	})
	return r
}

// editCard changes the card data kept on request r: edit gets the data as
// stored (zero when r has none) and reports whether it changed it. The
// store's conditional write makes concurrent edits, from this process or
// another replica, all land (edit may run more than once); the card's lock
// keeps this process's edits from racing its own posting of the card. It
// returns r with its card as stored and whether edit's change was stored;
// a failure to store it is logged under what.
func (s *Server) editCard(ctx context.Context, r rotation.ApprovalRequest, what string, edit func(*cardData) bool) (rotation.ApprovalRequest, bool) {
	unlock := s.lockCard(r.ID)
	defer unlock()
	cur, changed, err := s.cfg.Approvals.EditCard(ctx, r.ID, onCardData(edit))
	if err != nil {
		s.log.Warn(what+" failed", "request_id", r.ID, "error", err)
		return r, false
	}
	r.Card = cur.Card
	return r, changed
}

// onCardData turns an edit of cardData into an edit of the stored card
// bytes, for Approvals.EditCard. Bytes that do not read as cardData are
// left as they are.
func onCardData(edit func(*cardData) bool) func([]byte) ([]byte, bool) {
	return func(card []byte) ([]byte, bool) {
		var d cardData
		if (len(card) != 0 && json.Unmarshal(card, &d) != nil) || !edit(&d) {
			return card, false
		}
		b, err := json.Marshal(d)
		return b, err == nil
	}
}

// supersedeStale ends the other open requests for done's app, which its
// rotation made stale, and updates their cards.
func (s *Server) supersedeStale(ctx context.Context, done rotation.ApprovalRequest) {
	stale, err := s.cfg.Approvals.SupersedeStale(ctx, done)
	if err != nil {
		s.log.Warn("superseding stale requests failed; their runs refuse instead", "request_id", done.ID, "error", err)
	}
	for _, r := range stale {
		s.log.Info("request superseded", "request_id", r.ID, "superseded_by", done.ID, "client_id", r.ClientID)
		s.updateShared(ctx, r)
	}
}
