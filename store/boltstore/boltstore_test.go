package boltstore

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/rotationtest"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// openTemp opens a store in a new directory and closes it when t ends.
func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "state", "keyturn.db"), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestStoreContract(t *testing.T) {
	rotationtest.StoreContract(t, func(t *testing.T) rotation.Store { return openTemp(t) })
}

// fixture is a record with every field set, times in a fixed zone.
func fixture(id, clientID string, state rotation.State) rotation.Record {
	t0 := time.Date(2030, time.January, 2, 3, 4, 5, 600700800, time.FixedZone("UTC-5", -5*60*60))
	return rotation.Record{
		ID: id, State: state, ClientID: clientID, AppObjectID: "obj-1", AppName: "Payroll",
		DisplayName: "keyturn " + id,
		ClientIDRef: rotation.SecretRef{VaultURI: "https://kv.vault.azure.net/", Name: "payroll-id"},
		SecretRef:   rotation.SecretRef{VaultURI: "https://kv.vault.azure.net/", Name: "payroll-secret", Version: "v-pinned"},
		End:         t0.Add(90 * 24 * time.Hour), Overlap: 48 * time.Hour,
		RequestedBy: "user-1", ApprovedBy: "user-2", PreviousVersion: "v-prev", PreviousKeyID: "key-prev",
		KeyID: "key-new", Hint: "Q~x", Start: t0.Add(time.Second),
		ClientIDVersion: "v-id", SecretVersion: "v-secret",
		RetireKeyID: "key-prev", RetireAfter: t0.Add(48 * time.Hour), RetiredAt: t0.Add(49 * time.Hour),
		Error: "none", CreatedAt: t0, UpdatedAt: t0.Add(time.Minute),
	}
}

func TestReopenKeepsRecordsAndLocks(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "keyturn.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	done := fixture("req-1", "app-a", rotation.StateDone)
	running := fixture("req-2", "app-a", rotation.StatePending)
	for _, r := range []rotation.Record{done, running} {
		begin := r
		begin.State = rotation.StatePending
		if err := s.Begin(ctx, begin); err != nil {
			t.Fatalf("Begin(%s): %v", r.ID, err)
		}
		if err := s.Save(ctx, r); err != nil {
			t.Fatalf("Save(%s): %v", r.ID, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	list, err := s.List(ctx, rotation.Filter{})
	if err != nil {
		t.Fatalf("List after reopen: %v", err)
	}
	if len(list) != 2 || list[0].ID != "req-1" || list[1].ID != "req-2" {
		t.Fatalf("List after reopen = %d records, want req-1, req-2", len(list))
	}
	for i, want := range []rotation.Record{done, running} {
		if !list[i].CreatedAt.Equal(want.CreatedAt) || list[i].State != want.State || list[i].KeyID != want.KeyID {
			t.Errorf("record %s after reopen = %+v, want %+v", want.ID, list[i], want)
		}
	}
	if err := s.Begin(ctx, fixture("req-3", "app-a", rotation.StatePending)); !errors.Is(err, rotation.ErrInProgress) {
		t.Errorf("Begin after reopen with req-2 unfinished: got %v, want ErrInProgress", err)
	}
}

func TestOpenFileInUse(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		wait    time.Duration // what the error must say it waited
	}{
		{"explicit timeout", 100 * time.Millisecond, 100 * time.Millisecond},
		{"default timeout", 0, DefaultTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := openTemp(t)
			start := time.Now()
			second, err := Open(first.Path(), Options{Timeout: tt.timeout})
			elapsed := time.Since(start)
			if err == nil {
				second.Close()
				t.Fatalf("second Open of a file in use succeeded")
			}
			if !errors.Is(err, ErrInUse) {
				t.Fatalf("second Open: got %v, want ErrInUse", err)
			}
			for _, part := range []string{"state file is in use by another Keyturn process", first.Path(), tt.wait.String()} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not mention %q", err, part)
				}
			}
			if elapsed > tt.wait+5*time.Second {
				t.Errorf("second Open took %s, want about %s", elapsed, tt.wait)
			}
			if err := first.Ping(t.Context()); err != nil {
				t.Errorf("first store after refused Open: %v", err)
			}
		})
	}
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	s, err := Open(filepath.Join(dir, "keyturn.db"), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, s.Path(): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s has mode %s, want %s", path, fi.Mode(), want)
		}
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	notDB := filepath.Join(t.TempDir(), "not-a-db")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not a bbolt file ", 512)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"", notDB} {
		if s, err := Open(path, Options{Timeout: time.Second}); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

func TestCorruptRecord(t *testing.T) {
	const canary = "CANARY-record-content"
	tests := []struct {
		name string
		data string
	}{
		{"not JSON", "garbage " + canary},
		{"truncated", `{"v":1,"record":{"id":"req-1","client_id":"` + canary},
		{"no record", `{"v":1}`},
		{"null record", `{"v":1,"record":null}`},
		{"unknown version", `{"v":2,"record":{"id":"req-1","client_id":"app-a"}}`},
		{"no version", `{"id":"req-1","client_id":"app-a"}`},
		{"wrong type", `{"v":1,"record":{"id":"req-1","client_id":42}}`},
		{"bad time", `{"v":1,"record":{"id":"req-1","client_id":"app-a","created_at":"` + canary + `"}}`},
		{"other ID", `{"v":1,"record":{"id":"req-9","client_id":"app-a"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ctx := openTemp(t), t.Context()
			r := fixture("req-1", "app-a", rotation.StatePending)
			if err := s.Begin(ctx, r); err != nil {
				t.Fatalf("Begin: %v", err)
			}
			err := s.db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket([]byte(bucketRecords)).Put([]byte("req-1"), []byte(tt.data))
			})
			if err != nil {
				t.Fatal(err)
			}
			_, getErr := s.Get(ctx, "req-1")
			_, listErr := s.List(ctx, rotation.Filter{})
			saveErr := s.Save(ctx, r)
			for op, err := range map[string]error{"Get": getErr, "List": listErr, "Save": saveErr} {
				if !errors.Is(err, ErrCorrupt) {
					t.Errorf("%s: got %v, want ErrCorrupt", op, err)
					continue
				}
				if !strings.Contains(err.Error(), "req-1") || strings.Contains(err.Error(), canary) {
					t.Errorf("%s error %q must name the record and not quote it", op, err)
				}
			}
		})
	}
}

func TestRecordFormat(t *testing.T) {
	golden := filepath.Join("testdata", "record_v1.json")
	r := fixture("req-1", "app-a", rotation.StateDone)
	got, err := encode(r)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got)+"\n" != string(want) {
		t.Errorf("encoded record differs from %s (a schema change needs a new version):\ngot  %s\nwant %s", golden, got, want)
	}
	// Files written in version 1 must stay readable: decoding the golden
	// file loses nothing that encoding wrote.
	back, err := decode("req-1", want)
	if err != nil {
		t.Fatalf("decode golden: %v", err)
	}
	again, err := encode(back)
	if err != nil {
		t.Fatalf("encode decoded golden: %v", err)
	}
	if string(again)+"\n" != string(want) {
		t.Errorf("golden file does not survive decode and encode:\ngot  %s\nwant %s", again, want)
	}
	var env struct {
		V int `json:"v"`
	}
	if err := json.Unmarshal(want, &env); err != nil || env.V != 1 {
		t.Errorf("golden envelope version = %d, %v; want 1", env.V, err)
	}
}

func TestSaveKeepsActiveIndex(t *testing.T) {
	tests := []struct {
		name    string
		steps   []step // all but the last must succeed
		wantErr error  // of the last step
		locked  []string
	}{
		{
			name:   "final record made unfinished again relocks",
			steps:  []step{begin("r1", "app-a"), save("r1", "app-a", rotation.StateDone), save("r1", "app-a", rotation.StateRollingBack)},
			locked: []string{"app-a"},
		},
		{
			name:    "unfinished while another record holds the app",
			steps:   []step{begin("r1", "app-a"), save("r1", "app-a", rotation.StateFailed), begin("r2", "app-a"), save("r1", "app-a", rotation.StatePending)},
			wantErr: rotation.ErrInProgress,
			locked:  []string{"app-a"},
		},
		{
			name:   "client ID moved",
			steps:  []step{begin("r1", "app-a"), save("r1", "app-b", rotation.StateStored)},
			locked: []string{"app-b"},
		},
		{
			name:    "missing ID",
			steps:   []step{begin("", "app-a")},
			wantErr: rotation.ErrInvalid,
		},
		{
			name:    "missing client ID",
			steps:   []step{begin("r1", "app-a"), save("r1", "", rotation.StateDone)},
			wantErr: rotation.ErrInvalid,
			locked:  []string{"app-a"},
		},
		{
			name:    "ID taken",
			steps:   []step{begin("r1", "app-a"), save("r1", "app-a", rotation.StateDone), begin("r1", "app-b")},
			wantErr: rotation.ErrInvalid,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ctx := openTemp(t), t.Context()
			last := len(tt.steps) - 1
			for i, st := range tt.steps[:last] {
				if err := st(ctx, s); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			if err := tt.steps[last](ctx, s); !errors.Is(err, tt.wantErr) {
				t.Fatalf("last step: got %v, want %v", err, tt.wantErr)
			}
			for _, app := range []string{"app-a", "app-b"} {
				err := s.Begin(ctx, fixture("probe-"+app, app, rotation.StatePending))
				if slices.Contains(tt.locked, app) {
					if !errors.Is(err, rotation.ErrInProgress) {
						t.Errorf("Begin(%s): got %v, want ErrInProgress", app, err)
					}
				} else if err != nil {
					t.Errorf("Begin(%s): %v, want the app free", app, err)
				}
			}
		})
	}
}

type step func(ctx context.Context, s *Store) error

func begin(id, app string) step {
	return func(ctx context.Context, s *Store) error {
		return s.Begin(ctx, fixture(id, app, rotation.StatePending))
	}
}

func save(id, app string, state rotation.State) step {
	return func(ctx context.Context, s *Store) error { return s.Save(ctx, fixture(id, app, state)) }
}

func TestCanceledContextAndClosedStore(t *testing.T) {
	s := openTemp(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := fixture("req-1", "app-a", rotation.StatePending)
	errs := map[string]error{"Begin": s.Begin(ctx, r), "Save": s.Save(ctx, r), "Ping": s.Ping(ctx)}
	_, errs["Get"] = s.Get(ctx, "req-1")
	_, errs["List"] = s.List(ctx, rotation.Filter{})
	for op, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with canceled context: got %v, want context.Canceled", op, err)
		}
	}
	if _, err := s.Get(t.Context(), "req-1"); !errors.Is(err, rotation.ErrNotFound) {
		t.Errorf("Begin with canceled context stored the record: Get = %v", err)
	}

	closed, err := Open(filepath.Join(t.TempDir(), "closed.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := closed.Ping(t.Context()); err == nil {
		t.Errorf("Ping on a closed store succeeded")
	}
}
