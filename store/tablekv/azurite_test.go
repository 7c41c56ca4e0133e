package tablekv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/store/kv"
	"github.com/keyturn/keyturn/store/kv/kvtest"
)

// azuriteEnv names the connection string of the Azurite (or real account)
// the integration tests use; .ci/run starts Azurite and sets it.
const azuriteEnv = "KEYTURN_TEST_AZURITE_TABLES"

// azurite returns the test connection string. Without one it skips the
// test, or fails it under CI, where .ci/run must provide Azurite.
func azurite(t *testing.T) string {
	t.Helper()
	cs, ok := os.LookupEnv(azuriteEnv)
	if ok && cs != "" {
		return cs
	}
	msg := azuriteEnv + " is not set: .ci/run must start Azurite (tools/azurite/start.sh) and export it; " +
		"locally: npm ci --prefix tools/azurite && eval \"$(bash tools/azurite/start.sh)\""
	if _, ci := os.LookupEnv("CI"); ci {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// uniqueTable returns a fresh Azure table name, "kt" and 16 hex digits.
func uniqueTable(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("rand: %v", err)
	}
	return "kt" + hex.EncodeToString(b)
}

// openAzurite returns a store on a new Azure table in the test account,
// created now and deleted when t ends.
func openAzurite(t *testing.T, opts Options) *Store {
	t.Helper()
	cs := azurite(t)
	if opts.Table == "" {
		opts.Table = uniqueTable(t)
	}
	s, err := NewFromConnectionString(cs, opts)
	if err != nil {
		t.Fatalf("NewFromConnectionString: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := s.CreateTable(ctx); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.DeleteTable(ctx); err != nil {
			t.Errorf("delete test table: %v", err)
		}
	})
	return s
}

func TestContractAzurite(t *testing.T) {
	azurite(t)
	kvtest.Contract(t, func(t *testing.T) kv.Store { return openAzurite(t, Options{}) })
}

func TestListPagesAzurite(t *testing.T) {
	s := openAzurite(t, Options{})
	s.pageSize = 2
	ctx := t.Context()
	var want []string
	for i := range 7 {
		key := fmt.Sprintf("req:%02d", i)
		want = append(want, key)
		if _, err := s.Create(ctx, kv.TableJournal, key, []byte{byte(i)}); err != nil {
			t.Fatalf("Create: %v", err)
		}
	}
	if _, err := s.Create(ctx, kv.TableJournal, "res:00", nil); err != nil {
		t.Fatalf("Create: %v", err)
	}
	tests := []struct {
		limit int
		want  []string
	}{{0, want}, {1, want[:1]}, {2, want[:2]}, {3, want[:3]}, {6, want[:6]}, {7, want}, {50, want}}
	for _, tt := range tests {
		items, err := s.List(ctx, kv.TableJournal, "req:", tt.limit)
		if err != nil {
			t.Fatalf("List(limit %d): %v", tt.limit, err)
		}
		var got []string
		for i, it := range items {
			got = append(got, it.Key)
			if !bytes.Equal(it.Value, []byte{byte(i)}) {
				t.Errorf("List(limit %d)[%d].Value = %v, want [%d]", tt.limit, i, it.Value, i)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("List(limit %d) = %q, want %q", tt.limit, got, tt.want)
		}
	}
}

func TestMissingTableAzurite(t *testing.T) {
	s, err := NewFromConnectionString(azurite(t), Options{Table: uniqueTable(t)})
	if err != nil {
		t.Fatalf("NewFromConnectionString: %v", err)
	}
	ctx := t.Context()
	_, errG := s.Get(ctx, kv.TableJournal, "k")
	_, errC := s.Create(ctx, kv.TableJournal, "k", nil)
	_, errU := s.Update(ctx, kv.TableJournal, "k", nil, `W/"x"`)
	errD := s.Delete(ctx, kv.TableJournal, "k", "")
	_, errL := s.List(ctx, kv.TableJournal, "", 0)
	errP := s.Ping(ctx)
	for i, err := range []error{errG, errC, errU, errD, errL, errP} {
		if !errors.Is(err, ErrTableNotFound) || errors.Is(err, kv.ErrNotFound) {
			t.Errorf("call %d without the Azure table: %v, want ErrTableNotFound (and not kv.ErrNotFound)", i, err)
		}
	}

	// CreateTable is idempotent; then the store works.
	for range 2 {
		if err := s.CreateTable(ctx); err != nil {
			t.Fatalf("CreateTable: %v", err)
		}
	}
	t.Cleanup(func() {
		if err := s.DeleteTable(context.Background()); err != nil {
			t.Errorf("delete test table: %v", err)
		}
	})
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if _, err := s.Get(ctx, kv.TableJournal, "k"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get: %v, want ErrNotFound", err)
	}
}

func TestForeignEntityAzurite(t *testing.T) {
	s := openAzurite(t, Options{})
	ctx := t.Context()
	for _, body := range []string{
		`{"PartitionKey":"meta","RowKey":"string","v":"aGVsbG8="}`,
		`{"PartitionKey":"meta","RowKey":"none","other":1}`,
	} {
		if _, err := s.client.AddEntity(ctx, []byte(body), nil); err != nil {
			t.Fatalf("AddEntity: %v", err)
		}
	}
	for _, key := range []string{"string", "none"} {
		if _, err := s.Get(ctx, kv.TableMeta, key); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Get(%s): %v, want ErrCorrupt", key, err)
		}
	}
	if _, err := s.List(ctx, kv.TableMeta, "", 0); !errors.Is(err, ErrCorrupt) {
		t.Errorf("List: %v, want ErrCorrupt", err)
	}
	if err := s.Delete(ctx, kv.TableMeta, "none", ""); err != nil {
		t.Errorf("Delete: %v", err)
	}
}

// TestNoValuesInLogsOrErrors runs every operation, failing ones included,
// with a canary value and checks neither the log nor any error shows it.
func TestNoValuesInLogsOrErrors(t *testing.T) {
	const canary = "CANARY-s3cr3t-~value"
	var logs bytes.Buffer
	s := openAzurite(t, Options{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ctx := t.Context()
	value := []byte(canary)
	var errs []error
	etag, err := s.Create(ctx, kv.TableRefs, "k", value)
	errs = append(errs, err)
	_, err = s.Create(ctx, kv.TableRefs, "k", value)
	errs = append(errs, err)
	next, err := s.Update(ctx, kv.TableRefs, "k", value, etag)
	errs = append(errs, err)
	_, err = s.Update(ctx, kv.TableRefs, "k", value, etag)
	errs = append(errs, err)
	_, err = s.Update(ctx, kv.TableRefs, "k", append(value, make([]byte, kv.MaxValueBytes)...), next)
	errs = append(errs, err)
	_, err = s.Get(ctx, kv.TableRefs, "k")
	errs = append(errs, err)
	_, err = s.List(ctx, kv.TableRefs, "", 0)
	errs = append(errs, err)
	errs = append(errs, s.Delete(ctx, kv.TableRefs, "k", etag), s.CreateTable(ctx))
	if errs[0] != nil || errs[2] != nil || errs[1] == nil || errs[3] == nil || errs[4] == nil {
		t.Fatalf("unexpected outcomes: %v", errs)
	}
	for _, err := range errs {
		if err != nil && strings.Contains(err.Error(), canary) {
			t.Errorf("error shows the value: %v", err)
		}
	}
	if strings.Contains(logs.String(), canary) {
		t.Errorf("log shows the value: %s", logs.String())
	}
}
