package kvstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/keyturn/keyturn/store/kv"
	"github.com/keyturn/keyturn/store/tablekv"
)

// tablesBackend is Azure Table Storage on Azurite, which .ci/run starts and
// names in KEYTURN_TEST_AZURITE_TABLES. CI must have it; elsewhere the
// contracts run on bbolt only.
func tablesBackend(t *testing.T) (backend, bool) {
	cs, ok := os.LookupEnv("KEYTURN_TEST_AZURITE_TABLES")
	if !ok || cs == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("KEYTURN_TEST_AZURITE_TABLES is not set: .ci/run must start Azurite")
		}
		t.Log("Azure Tables contracts skipped: KEYTURN_TEST_AZURITE_TABLES is not set (bash tools/azurite/start.sh prints it)")
		return backend{}, false
	}
	return backend{name: "azure-tables", open: func(t *testing.T) kv.Store {
		var b [6]byte
		_, _ = rand.Read(b[:])
		s, err := tablekv.NewFromConnectionString(cs, tablekv.Options{Table: "kt" + hex.EncodeToString(b[:])})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateTable(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.DeleteTable(context.Background()) })
		return s
	}}, true
}
