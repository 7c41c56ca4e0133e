package kvstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/rotationtest"
	"github.com/keyturn/keyturn/store/boltkv"
	"github.com/keyturn/keyturn/store/kv"
)

// backend opens a fresh kv.Store for a test.
type backend struct {
	name string
	open func(t *testing.T) kv.Store
}

func bolt(t *testing.T) kv.Store {
	s, err := boltkv.Open(filepath.Join(t.TempDir(), "state.db"), boltkv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// backends lists the kv backends the contracts run on: bbolt always, and
// Azure Table Storage on Azurite (see tables_test.go).
func backends(t *testing.T) []backend {
	bs := []backend{{"bbolt", bolt}}
	if b, ok := tablesBackend(t); ok {
		bs = append(bs, b)
	}
	return bs
}

func TestJournalContract(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			rotationtest.StoreContract(t, func(t *testing.T) rotation.Store { return New(b.open(t), nil) })
		})
	}
}

func TestApprovalStoreContract(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			rotationtest.ApprovalStoreContract(t, func(t *testing.T) rotation.ApprovalStore { return New(b.open(t), nil) })
		})
	}
}

func TestStaleLockIsTakenOver(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
			backend := b.open(t)
			s := New(backend, func() time.Time { return now })
			ctx := context.Background()
			// A replica died between writing the lock and the record.
			if _, err := s.put(ctx, kv.TableJournal, markerKey("app"), marker{ID: "ghost", Since: now}, ""); err != nil {
				t.Fatal(err)
			}
			rec := rotation.Record{ID: "r1", ClientID: "app", State: rotation.StatePending, CreatedAt: now}
			if err := s.Begin(ctx, rec); !errors.Is(err, rotation.ErrInProgress) {
				t.Fatalf("a fresh lock must hold (its writer may be between writes): %v", err)
			}
			now = now.Add(2 * time.Minute)
			if err := s.Begin(ctx, rec); err != nil {
				t.Fatalf("a stale lock without a record must be taken over: %v", err)
			}
		})
	}
}

func TestAuditChain(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			backend := b.open(t)
			s := New(backend, nil)
			// Appenders racing from several goroutines (replicas) form one chain.
			var wg sync.WaitGroup
			for g := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 5 {
						if _, err := s.Append(ctx, rotation.Event{Type: rotation.EventApproved, RequestID: fmt.Sprintf("g%d-%d", g, i)}); err != nil {
							t.Error(err)
						}
					}
				}()
			}
			wg.Wait()
			n, err := s.VerifyAudit(ctx)
			if err != nil || n != 30 {
				t.Fatalf("verify: %d records, %v", n, err)
			}
			recs, err := s.Records(ctx, 10, 5)
			if err != nil || len(recs) != 5 || recs[0].Seq != 11 {
				t.Fatalf("records after 10: %+v %v", recs, err)
			}
			// Tamper with one stored record: detected.
			it, _ := backend.Get(ctx, kv.TableAudit, auditKey(17))
			forged := []byte(string(it.Value[:len(it.Value)-2]) + ` }`)
			var r rotation.AuditRecord
			_ = decode(kv.Item{Value: it.Value}, &r)
			r.Event.Actor = "mallory"
			if _, err := s.put(ctx, kv.TableAudit, auditKey(17), r, it.ETag); err != nil {
				t.Fatal(err)
			}
			_ = forged
			if _, err := s.VerifyAudit(ctx); !errors.Is(err, rotation.ErrChainBroken) {
				t.Fatalf("tampering not detected: %v", err)
			}
		})
	}
}

func TestAuditHeadCatchesATruncatedTrail(t *testing.T) {
	ctx := context.Background()
	backend := bolt(t)
	s := New(backend, nil)
	for i := range 3 {
		if _, err := s.Append(ctx, rotation.Event{Type: rotation.EventStarted, RequestID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := backend.Delete(ctx, kv.TableAudit, auditKey(3), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyAudit(ctx); !errors.Is(err, rotation.ErrChainBroken) {
		t.Fatalf("a removed last record was not detected: %v", err)
	}
}

func TestLeasesDedupRefsSettings(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
			s := New(b.open(t), func() time.Time { return now })
			var wg sync.WaitGroup
			var mu sync.Mutex
			holders := 0
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := s.Acquire(ctx, "scheduler", fmt.Sprint("replica-", i), time.Minute)
					if err != nil {
						t.Error(err)
					}
					if ok {
						mu.Lock()
						holders++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if holders != 1 {
				t.Fatalf("%d replicas hold the lease", holders)
			}
			now = now.Add(2 * time.Minute)
			if ok, _ := s.Acquire(ctx, "scheduler", "late", time.Minute); !ok {
				t.Fatal("an expired lease was not taken over")
			}
			if err := s.Release(ctx, "scheduler", "late"); err != nil {
				t.Fatal(err)
			}
			if ok, _ := s.Acquire(ctx, "scheduler", "next", time.Minute); !ok {
				t.Fatal("a released lease was not free")
			}

			first, err := s.FirstSeen(ctx, "msteams|19:a;messageid=1|1")
			again, _ := s.FirstSeen(ctx, "msteams|19:a;messageid=1|1")
			if err != nil || !first || again {
				t.Fatalf("dedup: %v %v %v", first, again, err)
			}
			_ = s.Forget(ctx, "msteams|19:a;messageid=1|1")
			if first, _ := s.FirstSeen(ctx, "msteams|19:a;messageid=1|1"); !first {
				t.Fatal("forgotten key still seen")
			}
			now = now.Add(25 * time.Hour)
			if n, err := s.PruneSeen(ctx, 24*time.Hour); err != nil || n != 1 {
				t.Fatalf("prune: %d %v", n, err)
			}

			if err := s.SaveRef(ctx, "19:a@thread.tacv2", []byte(`{"v":1}`)); err != nil {
				t.Fatal(err)
			}
			_ = s.SaveRef(ctx, "19:a@thread.tacv2", []byte(`{"v":2}`))
			if got, err := s.Ref(ctx, "19:a@thread.tacv2"); err != nil || string(got) != `{"v":2}` {
				t.Fatalf("ref %s %v", got, err)
			}
			_ = s.DeleteRef(ctx, "19:a@thread.tacv2")
			if _, err := s.Ref(ctx, "19:a@thread.tacv2"); !errors.Is(err, kv.ErrNotFound) {
				t.Fatalf("deleted ref: %v", err)
			}
			type channel struct{ Conversation string }
			_ = s.SetSetting(ctx, "audit-channel", channel{"19:audit"})
			var got channel
			if err := s.Setting(ctx, "audit-channel", &got); err != nil || got.Conversation != "19:audit" {
				t.Fatalf("setting %+v %v", got, err)
			}
			seq, etag, err := s.Posted(ctx)
			if err != nil || seq != 0 {
				t.Fatal(err)
			}
			tag, err := s.SetPosted(ctx, 5, etag)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.SetPosted(ctx, 6, etag); !errors.Is(err, rotation.ErrConflict) {
				t.Fatalf("stale cursor move: %v", err)
			}
			if _, err := s.SetPosted(ctx, 6, tag); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLeaseTakeoverIsAtomic: two replicas both read a rotation whose
// driver's lease ran out and both try to take it over. Exactly one wins;
// the other is told the rotation is driven elsewhere, and the record names
// the winner.
func TestLeaseTakeoverIsAtomic(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			clock := rotationtest.NewClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
			backend := b.open(t)
			a, bb := New(backend, clock.Now), New(backend, clock.Now)
			rec := rotation.Record{ID: "r1", ClientID: "c1", State: rotation.StateAdded, Owner: "dead", LeaseUntil: clock.Now().Add(time.Minute)}
			if err := a.Begin(ctx, rec); err != nil {
				t.Fatal(err)
			}
			clock.Advance(2 * time.Minute) // the dead replica's lease ran out
			seenA, _ := a.Get(ctx, "r1")
			seenB, _ := bb.Get(ctx, "r1")
			seenA.Owner, seenA.LeaseUntil = "replica-a", clock.Now().Add(time.Hour)
			seenB.Owner, seenB.LeaseUntil = "replica-b", clock.Now().Add(time.Hour)
			errA := a.Save(ctx, seenA)
			errB := bb.Save(ctx, seenB)
			if errA != nil || !errors.Is(errB, rotation.ErrInProgress) {
				t.Fatalf("takeovers: a %v, b %v (want a to win, b refused)", errA, errB)
			}
			got, _ := a.Get(ctx, "r1")
			if got.Owner != "replica-a" {
				t.Fatalf("owner %q", got.Owner)
			}
			// The holder renews its own lease, and a final save releases it.
			got.State = rotation.StateDone
			got.Owner, got.LeaseUntil = "", time.Time{}
			if err := a.Save(ctx, got); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// truncateAudit removes the trail's records after keep and moves the head
// back to keep, as someone with write access to the store could.
func truncateAudit(t *testing.T, backend kv.Store, st *Store, keep uint64) {
	t.Helper()
	ctx := context.Background()
	last, err := st.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for seq := keep + 1; seq <= last; seq++ {
		if err := backend.Delete(ctx, kv.TableAudit, auditKey(seq), ""); err != nil {
			t.Fatal(err)
		}
	}
	recs, _ := st.Records(ctx, keep-1, 1)
	it, err := backend.Get(ctx, kv.TableMeta, headKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.put(ctx, kv.TableMeta, headKey, head{Seq: keep, Hash: recs[0].Hash}, it.ETag); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyDetectsATailTruncatedAfterPosting: records the audit channel
// received are removed from the end of the trail, and the head moved back.
// The chain itself still verifies; the channel's cursor, which never runs
// ahead of the trail, gives it away.
func TestVerifyDetectsATailTruncatedAfterPosting(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			backend := b.open(t)
			st := New(backend, nil)
			for i := range 5 {
				if err := st.Record(ctx, rotation.Event{Type: rotation.EventRequested, Detail: fmt.Sprint(i)}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := st.SetPosted(ctx, 5, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := st.VerifyAudit(ctx); err != nil {
				t.Fatalf("intact trail: %v", err)
			}
			truncateAudit(t, backend, st, 3)
			if _, err := st.VerifyAudit(ctx); !errors.Is(err, rotation.ErrChainBroken) {
				t.Fatalf("truncated trail verified: %v", err)
			}
		})
	}
}

// TestCardOutboxAndServiceURLs: an outbox entry marked again after it was
// read survives the earlier success; service URLs recorded by one replica
// are allowed on another.
func TestCardOutboxAndServiceURLs(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			backend := b.open(t)
			a, other := New(backend, nil), New(backend, nil)
			first, err := a.CardPending(ctx, "req/1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := other.CardPending(ctx, "req/1"); err != nil { // a later change
				t.Fatal(err)
			}
			if err := a.CardDone(ctx, "req/1", first); err != nil {
				t.Fatal(err)
			}
			pending, err := other.CardsPending(ctx, 0)
			if _, ok := pending["req/1"]; err != nil || !ok || len(pending) != 1 {
				t.Fatalf("the later change was dropped: %v %v", pending, err)
			}
			if err := other.CardDone(ctx, "req/1", pending["req/1"]); err != nil {
				t.Fatal(err)
			}
			if pending, _ := a.CardsPending(ctx, 0); len(pending) != 0 {
				t.Fatalf("left in the outbox: %v", pending)
			}

			const u = "https://smba.trafficmanager.net/amer"
			if ok, err := other.ServiceURLAllowed(ctx, u); ok || err != nil {
				t.Fatalf("allowed before it arrived: %v %v", ok, err)
			}
			for range 2 {
				if err := a.AllowServiceURL(ctx, u); err != nil {
					t.Fatal(err)
				}
			}
			if ok, err := other.ServiceURLAllowed(ctx, u); !ok || err != nil {
				t.Fatalf("not shared: %v %v", ok, err)
			}
		})
	}
}
