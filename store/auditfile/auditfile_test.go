package auditfile

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

func TestAppendsDurableLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "audit.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i, typ := range []rotation.EventType{rotation.EventRequested, rotation.EventAdded} {
		if err := l.Record(context.Background(), rotation.Event{Time: t0.Add(time.Duration(i) * time.Second), Type: typ, RequestID: "r1", KeyID: "k"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Record(context.Background(), rotation.Event{Type: rotation.EventFailed}); err == nil {
		t.Fatal("Record after Close must fail, so the action is not taken")
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	f, _ := os.Open(path)
	defer f.Close()
	var got []line
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ln line
		if err := json.Unmarshal(sc.Bytes(), &ln); err != nil {
			t.Fatal(err)
		}
		got = append(got, ln)
	}
	if len(got) != 2 || got[1].Type != "password.added" || got[0].RequestID != "r1" || !got[1].Time.Equal(t0.Add(time.Second)) {
		t.Fatalf("%+v", got)
	}
}
