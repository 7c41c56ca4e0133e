package bot

import (
	"context"
	"errors"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// maxCardsPerTick bounds the card updates one scheduler tick retries.
const maxCardsPerTick = 50

// startApproved queues every approved request that no runner has claimed:
// its approval was stored but the run was never queued (a full queue) or
// the process stopped in between. Run's ETag-conditional claim lets
// exactly one runner, on any replica, start each.
func (s *Server) startApproved(ctx context.Context, open []rotation.ApprovalRequest) {
	for _, r := range open {
		if r.State != rotation.ApprovalApproved {
			continue
		}
		id := r.ID
		if err := s.pool.submit(job{name: "rotate", id: id, timeout: s.cfg.JobTimeout, run: func(ctx context.Context) { s.run(ctx, id) }}); err != nil {
			s.log.Warn("approved rotation not queued; the next tick tries again", "request_id", id, "error", err)
			return
		}
		s.log.Info("approved rotation queued by the scheduler", "request_id", id)
	}
}

// reconcileRunning settles running requests whose runner is gone against
// their journal record, and updates their cards: a finished rotation gives
// the done card, an undone one the failed card.
func (s *Server) reconcileRunning(ctx context.Context, open []rotation.ApprovalRequest) {
	for _, r := range open {
		if r.State != rotation.ApprovalRunning {
			continue
		}
		stale := s.cfg.JobTimeout + time.Minute // a runner's job cannot outlive its timeout
		if s.cfg.SingleProcess && !s.isRunning(r.ID) {
			stale = 0 // no other process shares the store: its runner is dead
		}
		got, changed, err := s.cfg.Approvals.Reconcile(ctx, r.ID, stale)
		if err != nil {
			s.log.Warn("reconciling a running request", "request_id", r.ID, "error", err)
			continue
		}
		if changed {
			s.log.Info("running request settled from its journal record", "request_id", r.ID, "state", string(got.State))
			s.updateShared(ctx, got)
		}
	}
}

// isRunning reports whether this process is running the request id.
func (s *Server) isRunning(id string) bool {
	s.runningMu.Lock()
	defer s.runningMu.Unlock()
	return s.running[id]
}

// drainCards retries the card updates in the outbox with each request's
// current state; running requests wait for their outcome.
func (s *Server) drainCards(ctx context.Context) {
	pending, err := s.cfg.State.CardsPending(ctx, maxCardsPerTick)
	if err != nil {
		s.log.Warn("card outbox", "error", err)
		return
	}
	for id, tag := range pending {
		r, err := s.cfg.Approvals.Get(ctx, id)
		if errors.Is(err, rotation.ErrNotFound) {
			_ = s.cfg.State.CardDone(ctx, id, tag)
			continue
		}
		if err != nil {
			s.log.Warn("card outbox", "request_id", id, "error", err)
			continue
		}
		if r.State == rotation.ApprovalRunning {
			continue // its runner updates it, or reconcileRunning once settled
		}
		unlock := s.lockCard(id)
		if s.pushCard(ctx, r) {
			if err := s.cfg.State.CardDone(ctx, id, tag); err != nil {
				s.log.Warn("card outbox", "request_id", id, "error", err)
			}
		}
		unlock()
	}
}

// schedulerLease is how long the scheduler's lease lasts between renewals.
func (s *Server) schedulerLease() time.Duration { return 2*s.cfg.Schedule + 10*time.Second }

// keepLease renews the lease name every third of ttl for as long as the
// returned context lives, so a tick that runs long (a recovery verifying a
// secret for minutes) keeps it. When the lease is lost, or two renewals in
// a row fail (so it may run out), the context is cancelled and the work
// stops. stop ends the renewals and waits for them.
func (s *Server) keepLease(ctx context.Context, name string, ttl time.Duration) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	tick, stopTicker := s.ticker(ttl / 3)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer stopTicker()
		failed := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick:
			}
			ok, err := s.cfg.State.Acquire(ctx, name, s.cfg.Holder, ttl)
			switch {
			case err == nil && ok:
				failed = 0
				continue
			case err != nil && ctx.Err() == nil:
				failed++
				s.log.Warn("renewing the lease failed", "lease", name, "error", err)
				if failed < 2 {
					continue
				}
			case err != nil:
				return
			}
			s.log.Warn("lease lost; stopping its work", "lease", name)
			cancel()
			return
		}
	}()
	return ctx, func() { cancel(); <-done }
}

// realTicker is the production ticker: a time.Ticker.
func realTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}
