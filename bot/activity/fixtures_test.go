package activity

import (
	"os"
	"testing"
)

// teamsFixtures returns the directory holding the Teams payloads the tests
// use: Microsoft's published samples, copied into testdata (see its README).
func teamsFixtures(t *testing.T) string {
	t.Helper()
	return "testdata"
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
