package rotationtest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// StoreContract runs, as subtests of t, the behaviour every rotation.Store
// must show: exact round trips, the per-application lock of Begin, the error
// contract of Save and Get, List's filters and order, and Begin under
// concurrency. It tests only what rotation.Store documents, so it suits any
// implementation.
//
// open is called once per subtest and must return a new, empty store; it
// should register the store's cleanup with the t it is given. The store must
// keep times to the nanosecond.
func StoreContract(t *testing.T, open func(t *testing.T) rotation.Store) {
	t.Helper()
	t.Run("RoundTrip", func(t *testing.T) { contractRoundTrip(t, open(t)) })
	t.Run("BeginLocksApp", func(t *testing.T) { contractBeginLocksApp(t, open) })
	t.Run("BeginDuplicateID", func(t *testing.T) { contractBeginDuplicateID(t, open(t)) })
	t.Run("Unknown", func(t *testing.T) { contractUnknown(t, open(t)) })
	t.Run("List", func(t *testing.T) { contractList(t, open(t)) })
	t.Run("ConcurrentBeginSameApp", func(t *testing.T) { contractConcurrentSameApp(t, open(t)) })
	t.Run("ConcurrentBeginDifferentApps", func(t *testing.T) { contractConcurrentApps(t, open(t)) })
}

// contractT0 is the contract's reference time: to the nanosecond, and in a
// location other than UTC.
func contractT0() time.Time {
	return time.Date(2031, time.March, 14, 15, 9, 26, 535897932, time.FixedZone("UTC+2", 2*60*60))
}

// contractRecord returns a record with every field set.
func contractRecord(id, clientID string, state rotation.State, created time.Time) rotation.Record {
	return rotation.Record{
		ID:              id,
		State:           state,
		ClientID:        clientID,
		AppObjectID:     "obj-" + clientID,
		AppName:         "Payroll — Ünïcode \"quoted\" <b>&amp;</b> 'x'",
		DisplayName:     "keyturn " + id,
		ClientIDRef:     rotation.SecretRef{VaultURI: "https://kv-one.vault.azure.net/", Name: "payroll-client-id", Version: "aaaabbbbccccddddeeeeffff00001111"},
		SecretRef:       rotation.SecretRef{VaultURI: "https://kv-two.vault.azure.net/", Name: "payroll-client-secret", Version: "22223333444455556666777788889999"},
		End:             created.Add(180*24*time.Hour + 7),
		Overlap:         36*time.Hour + 123*time.Nanosecond,
		RequestedBy:     "00000000-0000-0000-0000-0000000000a1",
		ApprovedBy:      "00000000-0000-0000-0000-0000000000b2",
		PreviousVersion: "0123456789abcdef0123456789abcdef",
		PreviousKeyID:   "11111111-2222-3333-4444-555555555555",
		PreviousHint:    "Qx1",
		KeyID:           "66666666-7777-8888-9999-000000000000",
		Hint:            "Ab~",
		Start:           created.Add(time.Second + 1),
		ClientIDVersion: "fedcba9876543210fedcba9876543210",
		SecretVersion:   "00112233445566778899aabbccddeeff",
		RetireKeyID:     "11111111-2222-3333-4444-555555555555",
		RetireAfter:     created.Add(36*time.Hour + 3).UTC(),
		RetiredAt:       created.Add(37 * time.Hour).In(time.Local),
		Error:           "line one\nline two: «detail» 100%",
		CreatedAt:       created,
		UpdatedAt:       created.Add(5*time.Minute + 11),
		Owner:           "replica-7",
		LeaseUntil:      created.Add(15*time.Minute + 13),
	}
}

// contractPending returns a minimal unfinished record.
func contractPending(id, clientID string, created time.Time) rotation.Record {
	return rotation.Record{ID: id, ClientID: clientID, State: rotation.StatePending, CreatedAt: created}
}

func contractRoundTrip(t *testing.T, s rotation.Store) {
	ctx := t.Context()
	full := contractRecord("req-full", "app-a", rotation.StatePending, contractT0())
	checkEveryFieldSet(t, "Record", reflect.ValueOf(full))
	minimal := contractPending("req-minimal", "app-b", contractT0())

	for _, want := range []rotation.Record{full, minimal} {
		if err := s.Begin(ctx, want); err != nil {
			t.Fatalf("Begin(%s): %v", want.ID, err)
		}
		got, err := s.Get(ctx, want.ID)
		if err != nil {
			t.Fatalf("Get(%s) after Begin: %v", want.ID, err)
		}
		checkRecord(t, "Get after Begin", got, want)
	}

	// Save replaces every field, zeroing some.
	saved := contractRecord("req-full", "app-a", rotation.StateDone, contractT0().Add(time.Hour))
	saved.Error, saved.RetiredAt, saved.Overlap = "", time.Time{}, 0
	if err := s.Save(ctx, saved); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, err := s.Get(ctx, saved.ID)
	if err != nil {
		t.Fatalf("Get after Save: %v", err)
	}
	checkRecord(t, "Get after Save", got, saved)

	list, err := s.List(ctx, rotation.Filter{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	checkRecords(t, "List", list, []rotation.Record{minimal, saved})
}

func contractBeginLocksApp(t *testing.T, open func(t *testing.T) rotation.Store) {
	tests := []struct {
		state  rotation.State
		locked bool
	}{
		{rotation.StatePending, true},
		{rotation.StateAdded, true},
		{rotation.StateStored, true},
		{rotation.StateRollingBack, true},
		{rotation.StateDone, false},
		{rotation.StateFailed, false},
		{rotation.StateRolledBack, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.state), func(t *testing.T) {
			s, ctx := open(t), t.Context()
			first := contractPending("req-1", "app-a", contractT0())
			if err := s.Begin(ctx, first); err != nil {
				t.Fatalf("Begin(first): %v", err)
			}
			second := contractPending("req-2", "app-a", contractT0().Add(time.Minute))
			if err := s.Begin(ctx, second); !errors.Is(err, rotation.ErrInProgress) {
				t.Fatalf("Begin(second) while first is pending: got %v, want ErrInProgress", err)
			}
			if _, err := s.Get(ctx, second.ID); !errors.Is(err, rotation.ErrNotFound) {
				t.Errorf("Get(second) after refused Begin: got %v, want ErrNotFound", err)
			}
			if err := s.Begin(ctx, contractPending("req-other", "app-b", contractT0())); err != nil {
				t.Errorf("Begin for another app: %v (the lock is per app)", err)
			}

			first.State = tt.state
			if err := s.Save(ctx, first); err != nil {
				t.Fatalf("Save(first, %s): %v", tt.state, err)
			}
			err := s.Begin(ctx, second)
			switch {
			case tt.locked && !errors.Is(err, rotation.ErrInProgress):
				t.Fatalf("Begin(second) with first %s: got %v, want ErrInProgress", tt.state, err)
			case !tt.locked && err != nil:
				t.Fatalf("Begin(second) with first %s: %v", tt.state, err)
			case !tt.locked:
				// second now holds the lock.
				third := contractPending("req-3", "app-a", contractT0().Add(2*time.Minute))
				if err := s.Begin(ctx, third); !errors.Is(err, rotation.ErrInProgress) {
					t.Errorf("Begin(third) while second is pending: got %v, want ErrInProgress", err)
				}
			}
		})
	}
}

func contractBeginDuplicateID(t *testing.T, s rotation.Store) {
	ctx := t.Context()
	orig := contractRecord("req-1", "app-a", rotation.StatePending, contractT0())
	if err := s.Begin(ctx, orig); err != nil {
		t.Fatalf("Begin: %v", err)
	}
	if err := s.Begin(ctx, orig); err == nil {
		t.Errorf("Begin of the same unfinished record again succeeded")
	}
	orig.State = rotation.StateFailed
	if err := s.Save(ctx, orig); err != nil {
		t.Fatalf("Save: %v", err)
	}

	dup := contractPending("req-1", "app-b", contractT0().Add(time.Hour))
	if err := s.Begin(ctx, dup); err == nil {
		t.Fatalf("Begin with the ID of a finished record of another app succeeded")
	}
	got, err := s.Get(ctx, orig.ID)
	if err != nil {
		t.Fatalf("Get after refused Begin: %v", err)
	}
	checkRecord(t, "Get after refused Begin", got, orig)
	if err := s.Begin(ctx, contractPending("req-2", "app-b", contractT0())); err != nil {
		t.Errorf("refused Begin locked app-b: %v", err)
	}
	list, err := s.List(ctx, rotation.Filter{ClientID: "app-b"})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	checkRecords(t, "List(app-b)", list, []rotation.Record{contractPending("req-2", "app-b", contractT0())})
}

func contractUnknown(t *testing.T, s rotation.Store) {
	ctx := t.Context()
	if _, err := s.Get(ctx, "req-missing"); !errors.Is(err, rotation.ErrNotFound) {
		t.Errorf("Get(unknown) on empty store: got %v, want ErrNotFound", err)
	}
	if err := s.Save(ctx, contractPending("req-missing", "app-a", contractT0())); !errors.Is(err, rotation.ErrNotFound) {
		t.Errorf("Save(unknown): got %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, "req-missing"); !errors.Is(err, rotation.ErrNotFound) {
		t.Errorf("Get after Save(unknown): got %v, want ErrNotFound (Save must not create)", err)
	}
	if err := s.Begin(ctx, contractPending("req-1", "app-a", contractT0())); err != nil {
		t.Fatalf("Begin: %v", err)
	}
	if _, err := s.Get(ctx, "req-2"); !errors.Is(err, rotation.ErrNotFound) {
		t.Errorf("Get(unknown) beside a record: got %v, want ErrNotFound", err)
	}
	list, err := s.List(ctx, rotation.Filter{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	checkRecords(t, "List", list, []rotation.Record{contractPending("req-1", "app-a", contractT0())})
}

func contractList(t *testing.T, s rotation.Store) {
	ctx := t.Context()
	at := func(h int) time.Time { return contractT0().Add(time.Duration(h) * time.Hour) }
	// In insertion order; CreatedAt and ID deliberately disagree with it.
	recs := map[string]rotation.Record{
		"r5": contractRecord("r5", "app-a", rotation.StateDone, at(3)),
		"r4": contractRecord("r4", "app-b", rotation.StateStored, at(1)),
		"r3": contractRecord("r3", "app-a", rotation.StateFailed, at(1).UTC()), // ties with r4
		"r2": contractRecord("r2", "app-c", rotation.StateRolledBack, at(2)),
		"r1": contractRecord("r1", "app-a", rotation.StateAdded, at(4)),
		"r0": contractRecord("r0", "app-c", rotation.StatePending, at(0)),
		"r6": contractRecord("r6", "app-d", rotation.StateDone, at(5)),
	}
	if list, err := s.List(ctx, rotation.Filter{}); err != nil || len(list) != 0 {
		t.Fatalf("List on an empty store = %d records, %v; want none", len(list), err)
	}
	for _, id := range []string{"r5", "r4", "r3", "r2", "r1", "r0", "r6"} {
		r := recs[id]
		begin := r
		begin.State = rotation.StatePending
		if err := s.Begin(ctx, begin); err != nil {
			t.Fatalf("Begin(%s): %v", id, err)
		}
		if err := s.Save(ctx, r); err != nil {
			t.Fatalf("Save(%s): %v", id, err)
		}
	}
	tests := []struct {
		name   string
		filter rotation.Filter
		want   []string
	}{
		{"all", rotation.Filter{}, []string{"r0", "r3", "r4", "r2", "r5", "r1", "r6"}},
		{"client", rotation.Filter{ClientID: "app-a"}, []string{"r3", "r5", "r1"}},
		{"unfinished", rotation.Filter{Unfinished: true}, []string{"r0", "r4", "r1"}},
		{"client and unfinished", rotation.Filter{ClientID: "app-a", Unfinished: true}, []string{"r1"}},
		{"client, all final", rotation.Filter{ClientID: "app-d"}, []string{"r6"}},
		{"client, none unfinished", rotation.Filter{ClientID: "app-d", Unfinished: true}, nil},
		{"unknown client", rotation.Filter{ClientID: "app-z"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.List(ctx, tt.filter)
			if err != nil {
				t.Fatalf("List(%+v): %v", tt.filter, err)
			}
			var want []rotation.Record
			for _, id := range tt.want {
				want = append(want, recs[id])
			}
			checkRecords(t, fmt.Sprintf("List(%+v)", tt.filter), got, want)
		})
	}
}

func contractConcurrentSameApp(t *testing.T, s rotation.Store) {
	const n = 8
	errs := runConcurrently(n, func(i int) error {
		return s.Begin(t.Context(), contractPending(fmt.Sprintf("req-%d", i), "app-a", contractT0()))
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("Begin %d and %d both succeeded for one app", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, rotation.ErrInProgress):
			t.Errorf("Begin %d: got %v, want nil or ErrInProgress", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no Begin succeeded")
	}
	list, err := s.List(t.Context(), rotation.Filter{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	checkRecords(t, "List", list, []rotation.Record{contractPending(fmt.Sprintf("req-%d", winner), "app-a", contractT0())})
}

func contractConcurrentApps(t *testing.T, s rotation.Store) {
	const n = 8
	rec := func(i int) rotation.Record {
		return contractPending(fmt.Sprintf("req-%d", i), fmt.Sprintf("app-%d", i), contractT0())
	}
	errs := runConcurrently(n, func(i int) error { return s.Begin(t.Context(), rec(i)) })
	var want []rotation.Record
	for i, err := range errs {
		if err != nil {
			t.Errorf("Begin %d: %v", i, err)
		}
		want = append(want, rec(i))
	}
	list, err := s.List(t.Context(), rotation.Filter{Unfinished: true})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	checkRecords(t, "List(unfinished)", list, want)
}

// runConcurrently calls fn(0..n-1) from n goroutines released together and
// returns their errors by index.
func runConcurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// checkRecords reports where got and want differ, record by record.
func checkRecords(t *testing.T, what string, got, want []rotation.Record) {
	t.Helper()
	ids := func(rs []rotation.Record) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	if !reflect.DeepEqual(ids(got), ids(want)) {
		t.Errorf("%s: got IDs %q, want %q", what, ids(got), ids(want))
		return
	}
	for i := range got {
		checkRecord(t, fmt.Sprintf("%s[%d]", what, i), got[i], want[i])
	}
}

// checkRecord reports every field where got differs from want; times are
// compared with Equal, so their location and monotonic reading do not count.
func checkRecord(t *testing.T, what string, got, want rotation.Record) {
	t.Helper()
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if gt, ok := g.(time.Time); ok {
			if wt := w.(time.Time); !gt.Equal(wt) {
				t.Errorf("%s: %s = %v, want %v", what, name, gt, wt)
			}
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: %s = %#v, want %#v", what, name, g, w)
		}
	}
}

// checkEveryFieldSet fails the test when the contract's full record leaves a
// field zero, so a field added to Record is covered by the round trip.
func checkEveryFieldSet(t *testing.T, path string, v reflect.Value) {
	t.Helper()
	for i := range v.NumField() {
		f, name := v.Field(i), path+"."+v.Type().Field(i).Name
		if f.IsZero() {
			t.Fatalf("contract fixture leaves %s zero; set it in contractRecord", name)
		}
		if f.Kind() == reflect.Struct && f.Type() != reflect.TypeFor[time.Time]() {
			checkEveryFieldSet(t, name, f)
		}
	}
}
