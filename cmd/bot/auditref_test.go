package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/store/boltkv"
	"github.com/keyturn/keyturn/store/kvstore"
)

// TestAuditShowFindsAReference: the reference a Teams reply quotes finds
// the interaction's records, whether it is the interaction's own (Ref) or
// the request's ID.
func TestAuditShowFindsAReference(t *testing.T) {
	env := testEnv(t)
	backend, err := boltkv.Open(filepath.Join(env["KEYTURN_STATE_DIR"], "keyturn.db"), boltkv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := kvstore.New(backend, time.Now)
	ctx := context.Background()
	for _, e := range []rotation.Event{
		{Type: rotation.EventDenied, Actor: "Lee Gu (oid)", Detail: "status refused", Ref: "0a1b2c3d4e5f6071"},
		{Type: rotation.EventRequested, RequestID: "9f8e7d6c5b4a3921", Ref: "9f8e7d6c5b4a3921"},
		{Type: rotation.EventApproved, RequestID: "9f8e7d6c5b4a3921", Ref: "1111222233334444"},
		{Type: rotation.EventStarted, RequestID: "other"},
	} {
		if _, err := st.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	backend.Close()
	f := newFakeAzure()
	cases := map[string][]string{
		"0a1b2c3d4e5f6071": {string(rotation.EventDenied)},
		"9f8e7d6c5b4a3921": {string(rotation.EventRequested), string(rotation.EventApproved)},
		"1111222233334444": {string(rotation.EventApproved)},
		"nothing":          nil,
	}
	for ref, want := range cases {
		r := f.run(t, env, "audit", "show", "--ref", ref, "--json")
		if r.code != exitOK {
			t.Fatalf("--ref %s: exit %d: %s", ref, r.code, r.stderr)
		}
		var recs []auditRecordJSON
		if err := json.Unmarshal([]byte(r.stdout), &recs); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, rec := range recs {
			got = append(got, rec.Type)
		}
		if !slices.Equal(got, want) {
			t.Errorf("--ref %s: %v, want %v", ref, got, want)
		}
	}
	if v := f.run(t, env, "audit", "verify"); v.code != exitOK {
		t.Fatalf("a trail with references does not verify: %s", v.stderr)
	}
}

// TestAuditReadsTheStoreWithoutAzure: audit verify and show read only the
// state store, so they work with no Azure sign-in, against the sandbox's
// state directory too (--state-dir).
func TestAuditReadsTheStoreWithoutAzure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sandbox")
	db, err := boltkv.Open(filepath.Join(dir, "keyturn.db"), boltkv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kvstore.New(db, time.Now).Append(context.Background(), rotation.Event{Type: rotation.EventRequested, RequestID: "r1"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	noLogin := func(context.Context, config, *slog.Logger) (backend, error) {
		return backend{}, errors.New("DefaultAzureCredential: please run az login")
	}
	for _, args := range [][]string{{"audit", "verify", "--state-dir", dir}, {"audit", "show", "--state-dir", dir}} {
		var out, errb bytes.Buffer
		env := map[string]string{"KEYTURN_STATE_DIR": t.TempDir()}
		if code := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errb, noLogin); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		if !strings.Contains(out.String(), "1 records") && !strings.Contains(out.String(), "rotation.requested") {
			t.Fatalf("%v: %s", args, out.String())
		}
	}
}
