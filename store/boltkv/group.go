package boltkv

import (
	"errors"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/keyturn/keyturn/store/kv"
)

// Group commit. bbolt commits one write transaction at a time and each
// commit waits for the disk (fdatasync). Writes from concurrent goroutines
// therefore join a group: while one commit is on the disk, the writes that
// arrive queue up, and the next commit applies all of them in one
// transaction, in arrival order, with one sync. A write returns only once
// the commit that holds it is on the disk, exactly as with one
// transaction per write, so durability and the conditional checks (ETags,
// create-if-absent) are unchanged; only the number of syncs shrinks under
// load. With no concurrency a group is a single write and nothing waits.
//
// Unlike bbolt's own DB.Batch there is no timer: the first writer to find
// no commit running leads at once, so a lone write pays no delay.
//
// Each write checks its conditions before it changes anything, so one that
// fails its check (kv.ErrExists, kv.ErrConflict, kv.ErrNotFound,
// ErrCorrupt) leaves the transaction as it found it and the others commit.
// Any other error aborts the group's transaction, and each of its writes is
// then retried in a transaction of its own, so a write never fails because
// of another.

// write is one writer's transaction function and where its outcome goes.
type write struct {
	fn  func(*bolt.Tx) error
	out chan outcome // buffered: 1
}

// outcome is either the write's result or the baton: lead the next group.
type outcome struct {
	err  error
	lead bool
}

// group holds the writes waiting for the next commit.
type group struct {
	mu      sync.Mutex
	pending []*write
	leading bool // a writer is committing; pending waits for it
}

// update runs fn in a write transaction that may be shared with other
// writers' functions, and returns once that transaction is committed.
// fn must change nothing when it returns one of the clean errors above.
func (s *Store) update(fn func(*bolt.Tx) error) error {
	w := &write{fn: fn, out: make(chan outcome, 1)}
	g := &s.group
	g.mu.Lock()
	g.pending = append(g.pending, w)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if lead {
		s.commitGroup()
	}
	for {
		o := <-w.out
		if !o.lead {
			return o.err
		}
		s.commitGroup()
	}
}

// commitGroup commits every pending write, answers each, and hands the
// lead to the first writer that arrived meanwhile (or gives it up).
func (s *Store) commitGroup() {
	g := &s.group
	g.mu.Lock()
	ws := g.pending
	g.pending = nil
	g.mu.Unlock()

	errs := make([]error, len(ws))
	err := s.db.Update(func(tx *bolt.Tx) error {
		for i, w := range ws {
			if err := w.fn(tx); err != nil {
				if !clean(err) {
					return err
				}
				errs[i] = err
			}
		}
		return nil
	})
	if err != nil && len(ws) > 1 {
		// Something beyond a failed check: give every write its own
		// transaction, so it fails or succeeds on its own.
		for i, w := range ws {
			errs[i] = s.db.Update(w.fn)
		}
	} else if err != nil {
		errs[0] = err
	}
	for i, w := range ws {
		w.out <- outcome{err: errs[i]}
	}

	g.mu.Lock()
	if len(g.pending) == 0 {
		g.leading = false
		g.mu.Unlock()
		return
	}
	next := g.pending[0]
	g.mu.Unlock()
	// next is parked in update waiting on its channel, which is empty: its
	// result can only come from a group that has not started.
	next.out <- outcome{lead: true}
}

// clean reports whether err is a failed check, returned before the write
// changed anything.
func clean(err error) bool {
	return errors.Is(err, kv.ErrExists) || errors.Is(err, kv.ErrConflict) ||
		errors.Is(err, kv.ErrNotFound) || errors.Is(err, ErrCorrupt)
}
