package botauthtest

import "testing"

// New returns a started Issuer that is closed when t's test ends. It stops
// the test if the keys cannot be generated.
func New(t testing.TB) *Issuer {
	t.Helper()
	iss, err := NewIssuer()
	if err != nil {
		t.Fatalf("botauthtest: %v", err)
	}
	iss.Start()
	t.Cleanup(iss.Close)
	return iss
}
