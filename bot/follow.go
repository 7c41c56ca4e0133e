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
	unlock := s.lockCard(r.ID)
	defer unlock()
	cur, err := s.cfg.Approvals.Get(ctx, r.ID)
	if err != nil {
		return r
	}
	var d cardData
	if len(cur.Card) == 0 || json.Unmarshal(cur.Card, &d) != nil || d.ActivityID == "" || slices.Contains(d.Clicked, teamsID) {
		r.Card = cur.Card
		return r
	}
	d.Clicked = append(d.Clicked, teamsID)
	b, err := json.Marshal(d)
	if err == nil {
		err = s.cfg.Approvals.AttachCard(ctx, r.ID, b)
	}
	if err != nil {
		s.log.Warn("recording who clicked the card failed", "request_id", r.ID, "error", err)
		r.Card = cur.Card
		return r
	}
	r.Card = b
	return r
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
