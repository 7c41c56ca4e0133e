package activity

import (
	"os"
	"path/filepath"
	"testing"
)

// teamsFixtures returns the directory of the shared Teams fixtures, found by
// walking up from the package directory to the first parent holding
// shared/fixtures/teams.
func teamsFixtures(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		cand := filepath.Join(dir, "shared", "fixtures", "teams")
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("shared/fixtures/teams not found above the package directory")
		}
		dir = parent
	}
}

// readFixture reads a fixture file, failing the test if it cannot.
func readFixture(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
