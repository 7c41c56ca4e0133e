package graphapps

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/keyturn/keyturn/azure/azcloud"
	"github.com/keyturn/keyturn/internal/outbound"
)

// fakeCred is an azcore.TokenCredential that hands out testToken.
type fakeCred struct {
	mu     sync.Mutex
	scopes [][]string
	err    error
}

func (c *fakeCred) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scopes = append(c.scopes, o.Scopes)
	if c.err != nil {
		return azcore.AccessToken{}, c.err
	}
	return azcore.AccessToken{Token: testToken, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// fakeSleep records the waits asked for and returns at once.
type fakeSleep struct {
	mu    sync.Mutex
	waits []time.Duration
	err   error
}

func (s *fakeSleep) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return s.err
}

func (s *fakeSleep) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// harness is a Client wired to a fakeGraph through the real SDK adapter and
// Keyturn's outbound transport.
type harness struct {
	graph *fakeGraph
	cred  *fakeCred
	sleep *fakeSleep
	logs  *syncBuffer
	c     *Client
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{graph: newFakeGraph(t), cred: &fakeCred{}, sleep: &fakeSleep{}, logs: &syncBuffer{}}
	cloud, err := azcloud.Lookup(azcloud.AzurePublic)
	if err != nil {
		t.Fatal(err)
	}
	h.c, err = New(h.cred, cloud, outbound.Client(outbound.Transport(nil)), h.options())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h
}

func (h *harness) options() Options {
	return Options{
		Logger:             slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Sleep:              h.sleep.sleep,
		BaseURL:            h.graph.srv.URL + "/v1.0",
		ServicePrincipalID: testSPID,
	}
}
