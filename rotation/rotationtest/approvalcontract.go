package rotationtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// ApprovalStoreContract runs the behaviour every rotation.ApprovalStore
// must have, against stores open returns (one per subtest): round trips,
// ETag conflicts, listing, and writers racing on one request.
func ApprovalStoreContract(t *testing.T, open func(t *testing.T) rotation.ApprovalStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 123456789, time.UTC)
	sample := func(id string, at time.Time) rotation.ApprovalRequest {
		r := rotation.ApprovalRequest{
			ID: id, State: rotation.ApprovalPending, Nonce: "n", TenantID: "t", ClientID: "c", AppName: "Payments API",
			VaultURI: "https://kv.vault.azure.net/", ClientIDName: "a-client-id", SecretName: "a-client-secret",
			Lifetime: 90 * 24 * time.Hour, Overlap: 7 * 24 * time.Hour, Required: 2,
			Approvers:   []rotation.RoleSource{{Kind: rotation.SourceGroup, ID: "g", Name: "approvers"}},
			RequestedBy: rotation.Principal{ObjectID: "u1", Name: "Alice"}, Approvals: []rotation.Approval{{By: rotation.Principal{ObjectID: "u2"}, At: at}},
			Reason: "r", Conversation: "19:x;messageid=1", Card: []byte(`{"activity":"1"}`),
			Plan:     rotation.Plan{ClientID: "c", AppName: "Payments API", End: at.Add(time.Hour), Passwords: []rotation.PasswordCredential{{KeyID: "k", Hint: "abc", End: at}}, Notes: []string{"note"}},
			Result:   rotation.Result{RequestID: id, SecretURI: "https://kv.vault.azure.net/secrets/a/1", RetireAfter: at},
			Verified: 1, Needed: 3,
			CreatedAt: at, ExpiresAt: at.Add(30 * time.Minute), UpdatedAt: at,
		}
		r.Digest = r.ComputeDigest()
		return r
	}
	t.Run("round trip", func(t *testing.T) {
		s := open(t)
		want := sample("r1", t0)
		if err := s.CreateApproval(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, etag, err := s.GetApproval(ctx, "r1")
		if err != nil || etag == "" {
			t.Fatalf("get: %v, etag %q", err, etag)
		}
		if !reflect.DeepEqual(normalize(got), normalize(want)) {
			t.Fatalf("round trip changed the request:\n got %+v\nwant %+v", got, want)
		}
		if err := s.CreateApproval(ctx, want); !errors.Is(err, rotation.ErrConflict) {
			t.Fatalf("second create: %v, want ErrConflict", err)
		}
		if _, _, err := s.GetApproval(ctx, "nope"); !errors.Is(err, rotation.ErrNotFound) {
			t.Fatalf("get unknown: %v", err)
		}
	})
	t.Run("etags", func(t *testing.T) {
		s := open(t)
		r := sample("r1", t0)
		_ = s.CreateApproval(ctx, r)
		_, etag, _ := s.GetApproval(ctx, "r1")
		r.State = rotation.ApprovalApproved
		newTag, err := s.UpdateApproval(ctx, r, etag)
		if err != nil || newTag == etag {
			t.Fatalf("update: %v (etag %q → %q)", err, etag, newTag)
		}
		if _, err := s.UpdateApproval(ctx, r, etag); !errors.Is(err, rotation.ErrConflict) {
			t.Fatalf("stale update: %v, want ErrConflict", err)
		}
		if _, err := s.UpdateApproval(ctx, sample("nope", t0), newTag); err == nil {
			t.Fatal("update of an unknown request succeeded")
		}
	})
	t.Run("list", func(t *testing.T) {
		s := open(t)
		for i, st := range []rotation.ApprovalState{rotation.ApprovalPending, rotation.ApprovalDone, rotation.ApprovalRunning, rotation.ApprovalExpired} {
			r := sample(fmt.Sprintf("r%d", 4-i), t0.Add(time.Duration(i)*time.Minute))
			r.State = st
			_ = s.CreateApproval(ctx, r)
		}
		got, err := s.ListApprovals(ctx)
		if err != nil || len(got) != 2 || got[0].ID != "r4" || got[1].ID != "r2" {
			t.Fatalf("open requests, oldest first: %+v %v", got, err)
		}
	})
	t.Run("racing writers", func(t *testing.T) {
		s := open(t)
		_ = s.CreateApproval(ctx, sample("r1", t0))
		_, etag, _ := s.GetApproval(ctx, "r1")
		const n = 12
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := sample("r1", t0)
				r.Approvals = append(r.Approvals, rotation.Approval{By: rotation.Principal{ObjectID: fmt.Sprint("approver-", i)}})
				_, err := s.UpdateApproval(ctx, r, etag)
				switch {
				case err == nil:
					mu.Lock()
					wins++
					mu.Unlock()
				case !errors.Is(err, rotation.ErrConflict):
					t.Errorf("racing update: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d of %d racing writers won, want exactly 1", wins, n)
		}
	})
}

// normalize drops what a round trip through a real store may not keep
// (monotonic clock readings, time zones).
func normalize(r rotation.ApprovalRequest) rotation.ApprovalRequest {
	v := reflect.ValueOf(&r).Elem()
	fixTimes(v)
	return r
}

func fixTimes(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			v.Set(reflect.ValueOf(t.UTC().Round(0)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Field(i).CanSet() {
				fixTimes(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 && !v.IsNil() {
			v.Set(reflect.Zero(v.Type()))
		}
		for i := 0; i < v.Len(); i++ {
			fixTimes(v.Index(i))
		}
	}
}
