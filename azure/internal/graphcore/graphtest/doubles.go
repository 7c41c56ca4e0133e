package graphtest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/keyturn/keyturn/azure/azcloud"
)

// Token is the bearer token Credential hands out and Server demands.
const Token = "fake-graph-token"

// Credential is an azcore.TokenCredential that hands out Token, or the
// error SetErr gave it, and records the scopes each request asked for. The
// zero value is ready to use.
type Credential struct {
	mu     sync.Mutex
	scopes [][]string
	err    error
}

var _ azcore.TokenCredential = (*Credential)(nil)

// GetToken implements azcore.TokenCredential. It fails with the error
// SetErr gave, if any, after recording the scopes.
func (c *Credential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scopes = append(c.scopes, o.Scopes)
	if c.err != nil {
		return azcore.AccessToken{}, c.err
	}
	return azcore.AccessToken{Token: Token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// SetErr makes every later GetToken fail with err (nil: succeed again).
func (c *Credential) SetErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
}

// Scopes returns the scopes of every GetToken so far, in order.
func (c *Credential) Scopes() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]string(nil), c.scopes...)
}

// Sleeper is a sleep function for the retry loop that records the waits
// asked for and returns at once, with the error SetErr gave it. The zero
// value is ready to use.
type Sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
	err   error
}

// Sleep records d and returns the error SetErr gave, without waiting.
func (s *Sleeper) Sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return s.err
}

// SetErr makes every later Sleep return err (nil: succeed again).
func (s *Sleeper) SetErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// Waits returns the waits asked for so far, in order.
func (s *Sleeper) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// Buffer is a bytes.Buffer safe for a logger and a test to share.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Logger returns a JSON logger at debug level that writes to w.
func Logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Cloud returns the Azure public cloud, failing the test if it is unknown.
func Cloud(t testing.TB) azcloud.Cloud {
	t.Helper()
	c, err := azcloud.Lookup(azcloud.AzurePublic)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
