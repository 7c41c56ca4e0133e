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

// editCard changes the card data kept on request r, under the card's lock:
// edit gets the data as stored (zero when r has none) and reports whether
// it changed it. It returns r with its card as stored and whether edit's
// change was stored; a failure to store it is logged under what.
func (s *Server) editCard(ctx context.Context, r rotation.ApprovalRequest, what string, edit func(*cardData) bool) (rotation.ApprovalRequest, bool) {
	unlock := s.lockCard(r.ID)
	defer unlock()
	cur, err := s.cfg.Approvals.Get(ctx, r.ID)
	if err != nil {
		return r, false
	}
	r.Card = cur.Card
	var d cardData
	if (len(cur.Card) != 0 && json.Unmarshal(cur.Card, &d) != nil) || !edit(&d) {
		return r, false
	}
	b, err := json.Marshal(d)
	if err == nil {
		err = s.cfg.Approvals.AttachCard(ctx, r.ID, b)
	}
	if err != nil {
		s.log.Warn(what+" failed", "request_id", r.ID, "error", err)
		return r, false
	}
	r.Card = b
	return r, true
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
