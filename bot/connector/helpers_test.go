package connector

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keyturn/keyturn/bot/activity"
)

// captured is one request the fake connector received.
type captured struct {
	Method, RequestURI, Authorization, ContentType string
	Body                                           map[string]any
}

// reply is one scripted answer of the fake connector.
type reply struct {
	status  int
	headers map[string]string
	body    string
}

// fakeConnector is an httptest Bot Framework connector that records every
// request and answers from a script, then with 201 {"id":"activity-N"}.
type fakeConnector struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []captured
	script []reply
}

func newFakeConnector(t *testing.T, script ...reply) *fakeConnector {
	f := &fakeConnector{t: t, script: script}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeConnector) serve(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("read body: %v", err)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		f.t.Errorf("request body is not a JSON object: %v", err)
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, captured{r.Method, r.RequestURI, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), body})
	n := len(f.reqs)
	var rep *reply
	if len(f.script) > 0 {
		rep = &f.script[0]
		f.script = f.script[1:]
	}
	f.mu.Unlock()
	if rep == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"id":"activity-`+strconv.Itoa(n)+`"}`)
		return
	}
	for k, v := range rep.headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

// requests returns a copy of what the connector received.
func (f *fakeConnector) requests() []captured {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]captured(nil), f.reqs...)
}

// ref is a conversation reference to the fake connector, under a Teams-like
// regional path.
func (f *fakeConnector) ref(conversationID string) activity.ConversationReference {
	return activity.ConversationReference{
		ServiceURL:     f.srv.URL + "/amer/tenant-1/",
		ChannelID:      "msteams",
		ConversationID: conversationID,
		TenantID:       "tenant-1",
		BotID:          "28:bot-app-id",
		BotName:        "Keyturn",
		ActivityID:     "1771290107407",
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// sleeper records requested waits without waiting.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
	err   error
}

func (s *sleeper) Sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return s.err
}

func (s *sleeper) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// countingTokens is a TokenSource returning token (or err) and counting
// calls.
type countingTokens struct {
	mu    sync.Mutex
	calls int
	token string
	err   error
}

func (s *countingTokens) Token(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	return s.token, s.err
}

func (s *countingTokens) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newClient returns a client for f with the given token source, a fake
// clock at t0 and a recording sleeper; every service URL is allowed.
func newClient(t *testing.T, f *fakeConnector, tokens TokenSource) (*Client, *fakeClock, *sleeper) {
	t.Helper()
	clock := &fakeClock{now: t0}
	sl := &sleeper{}
	c, err := New(Config{
		HTTP:              f.srv.Client(),
		Tokens:            tokens,
		AllowedServiceURL: func(string) bool { return true },
		Now:               clock.Now,
		Sleep:             sl.Sleep,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, clock, sl
}
