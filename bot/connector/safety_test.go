package connector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConcurrentSends(t *testing.T) {
	f := newFakeConnector(t)
	var mu sync.Mutex
	fetches := 0
	tokens := NewCachingTokenSource(func(context.Context) (string, time.Time, error) {
		mu.Lock()
		defer mu.Unlock()
		fetches++
		return "tok-shared", t0.Add(time.Hour), nil
	}, func() time.Time { return t0 })
	client, _, _ := newClient(t, f, tokens)
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			ref := f.ref(fmt.Sprintf("a:conv-%d", i))
			if i%2 == 0 {
				_, err := client.SendToConversation(t.Context(), ref, Activity{Text: "x"})
				errs <- err
			} else {
				errs <- client.SendTyping(t.Context(), ref)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	reqs := f.requests()
	if len(reqs) != n {
		t.Fatalf("%d requests, want %d", len(reqs), n)
	}
	for _, r := range reqs {
		if r.Authorization != "Bearer tok-shared" {
			t.Fatalf("Authorization = %q", r.Authorization)
		}
	}
	if fetches != 1 {
		t.Fatalf("fetches = %d, want 1", fetches)
	}
}

// TestTokenNeverLogged runs successes, throttling and failures with a canary
// token and checks it appears in no log line and no error.
func TestTokenNeverLogged(t *testing.T) {
	const canary = "CANARY-t0ken-~value"
	f := newFakeConnector(t,
		reply{status: 429, headers: map[string]string{"Retry-After": "1"}},
		reply{status: 201, body: `{"id":"ok"}`},
		reply{status: 403, body: `{"error":{"code":"BotNotInConversationRoster","message":"` + canary + `"}}`},
		reply{status: 201, body: `not json`},
	)
	var logs bytes.Buffer
	client, err := New(Config{HTTP: f.srv.Client(), Tokens: &countingTokens{token: canary},
		AllowedServiceURL: func(string) bool { return true }, Sleep: (&sleeper{}).Sleep,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for range 3 {
		_, err := client.SendToConversation(t.Context(), f.ref(threadID), Activity{Text: "x"})
		errs = append(errs, err)
	}
	if errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Fatalf("errors = %v", errs)
	}
	if logs.Len() == 0 {
		t.Fatal("nothing logged")
	}
	for _, s := range []string{logs.String(), fmt.Sprint(errs), fmt.Sprintf("%+v %#v", errs[1], errs[1])} {
		if strings.Contains(s, canary) {
			t.Fatalf("canary leaked: %s", s)
		}
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	f := newFakeConnector(t, reply{status: http.StatusTemporaryRedirect, headers: map[string]string{"Location": "/elsewhere"}})
	client, _, _ := newClient(t, f, &countingTokens{token: "tok"})
	_, err := client.SendToConversation(t.Context(), f.ref("a:1"), Activity{Text: "x"})
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("err = %v, want StatusError 307", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Fatalf("%d requests, want 1 (redirect followed)", n)
	}
}
