package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyturn/keyturn/bot/activity"
)

const threadID = "19:abc@thread.tacv2;messageid=1771290107407"

func TestRequests(t *testing.T) {
	card := checked(t, `{"type":"AdaptiveCard","version":"1.5"}`)
	cases := []struct {
		name     string
		conv     string
		call     func(context.Context, *Client, activity.ConversationReference) (string, error)
		method   string
		uri      string
		wantID   string
		wantBody map[string]any
	}{
		{
			name: "send to thread",
			conv: threadID,
			call: func(ctx context.Context, c *Client, r activity.ConversationReference) (string, error) {
				return c.SendToConversation(ctx, r, Activity{Text: "hello", TextFormat: TextFormatMarkdown})
			},
			method: "POST", uri: "/amer/tenant-1/v3/conversations/19:abc@thread.tacv2%3Bmessageid=1771290107407/activities",
			wantID: "activity-1",
			wantBody: map[string]any{"type": "message", "text": "hello", "textFormat": "markdown",
				"from":         map[string]any{"id": "28:bot-app-id", "name": "Keyturn"},
				"conversation": map[string]any{"id": threadID}},
		},
		{
			name: "reply with card",
			conv: "a:1Xy/../z?q#f",
			call: func(ctx context.Context, c *Client, r activity.ConversationReference) (string, error) {
				return c.ReplyToActivity(ctx, r, "1:abc/def", Activity{Summary: "Rotation",
					Attachments: []Attachment{{ContentType: ContentTypeAdaptiveCard, Content: card}}})
			},
			method: "POST", uri: "/amer/tenant-1/v3/conversations/a:1Xy%2F..%2Fz%3Fq%23f/activities/1:abc%2Fdef",
			wantID: "activity-1",
			wantBody: map[string]any{"type": "message", "summary": "Rotation", "replyToId": "1:abc/def",
				"attachments": []any{map[string]any{"contentType": ContentTypeAdaptiveCard,
					"content": map[string]any{"type": "AdaptiveCard", "version": "1.5"}}},
				"from":         map[string]any{"id": "28:bot-app-id", "name": "Keyturn"},
				"conversation": map[string]any{"id": "a:1Xy/../z?q#f"}},
		},
		{
			name: "update card",
			conv: threadID,
			call: func(ctx context.Context, c *Client, r activity.ConversationReference) (string, error) {
				return "", c.UpdateActivity(ctx, r, "1771290110000", Activity{
					Attachments: []Attachment{{ContentType: ContentTypeAdaptiveCard, Content: card}},
					From:        &Account{ID: "28:other-name"}})
			},
			method: "PUT", uri: "/amer/tenant-1/v3/conversations/19:abc@thread.tacv2%3Bmessageid=1771290107407/activities/1771290110000",
			wantBody: map[string]any{"type": "message", "id": "1771290110000",
				"attachments": []any{map[string]any{"contentType": ContentTypeAdaptiveCard,
					"content": map[string]any{"type": "AdaptiveCard", "version": "1.5"}}},
				"from":         map[string]any{"id": "28:other-name"},
				"conversation": map[string]any{"id": threadID}},
		},
		{
			name: "typing",
			conv: "a:personal-chat",
			call: func(ctx context.Context, c *Client, r activity.ConversationReference) (string, error) {
				return "", c.SendTyping(ctx, r)
			},
			method: "POST", uri: "/amer/tenant-1/v3/conversations/a:personal-chat/activities",
			wantBody: map[string]any{"type": "typing",
				"from":         map[string]any{"id": "28:bot-app-id", "name": "Keyturn"},
				"conversation": map[string]any{"id": "a:personal-chat"}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeConnector(t)
			tokens := &countingTokens{token: "tok-1"}
			client, _, sl := newClient(t, f, tokens)
			id, err := c.call(t.Context(), client, f.ref(c.conv))
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if id != c.wantID {
				t.Errorf("id = %q, want %q", id, c.wantID)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != c.method || r.RequestURI != c.uri {
				t.Errorf("request %s %s\nwant    %s %s", r.Method, r.RequestURI, c.method, c.uri)
			}
			if r.Authorization != "Bearer tok-1" {
				t.Errorf("Authorization = %q", r.Authorization)
			}
			if r.ContentType != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", r.ContentType)
			}
			if got, want := mustJSON(t, r.Body), mustJSON(t, c.wantBody); got != want {
				t.Errorf("body = %s\nwant   %s", got, want)
			}
			if len(sl.recorded()) != 0 {
				t.Errorf("slept %v", sl.recorded())
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestServiceURLWithoutTrailingSlash(t *testing.T) {
	f := newFakeConnector(t)
	client, _, _ := newClient(t, f, &countingTokens{token: "tok"})
	ref := f.ref("a:1")
	ref.ServiceURL = strings.TrimSuffix(ref.ServiceURL, "/")
	if _, err := client.SendToConversation(t.Context(), ref, Activity{Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if got := f.requests()[0].RequestURI; got != "/amer/tenant-1/v3/conversations/a:1/activities" {
		t.Fatalf("RequestURI = %q", got)
	}
}

func TestTokenFailureSendsNothing(t *testing.T) {
	boom := errors.New("AADSTS7000215: invalid client secret")
	cases := []struct {
		name   string
		tokens TokenSource
		is     error
	}{
		{"source error", &countingTokens{err: boom}, boom},
		{"empty token from a sloppy source", &countingTokens{token: ""}, ErrEmptyToken},
		{"caching source, fetch error", NewCachingTokenSource(func(context.Context) (string, time.Time, error) {
			return "", time.Time{}, boom
		}, func() time.Time { return t0 }), boom},
		{"caching source, empty token", NewCachingTokenSource(func(context.Context) (string, time.Time, error) {
			return "", t0.Add(time.Hour), nil
		}, func() time.Time { return t0 }), ErrEmptyToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeConnector(t)
			client, _, _ := newClient(t, f, c.tokens)
			ref := f.ref(threadID)
			calls := map[string]func() error{
				"send":   func() error { _, err := client.SendToConversation(t.Context(), ref, Activity{Text: "x"}); return err },
				"reply":  func() error { _, err := client.ReplyToActivity(t.Context(), ref, "1", Activity{Text: "x"}); return err },
				"update": func() error { return client.UpdateActivity(t.Context(), ref, "1", Activity{Text: "x"}) },
				"typing": func() error { return client.SendTyping(t.Context(), ref) },
			}
			for name, call := range calls {
				if err := call(); !errors.Is(err, c.is) {
					t.Errorf("%s: err = %v, want %v", name, err, c.is)
				}
			}
			if n := len(f.requests()); n != 0 {
				t.Fatalf("%d requests sent without a token", n)
			}
		})
	}
}

func TestTokenCachedAndRefreshed(t *testing.T) {
	f := newFakeConnector(t)
	clock := &fakeClock{now: t0}
	var mu sync.Mutex
	fetches := 0
	tokens := NewCachingTokenSource(func(context.Context) (string, time.Time, error) {
		mu.Lock()
		defer mu.Unlock()
		fetches++
		return fmt.Sprintf("tok-%d", fetches), clock.Now().Add(time.Hour), nil
	}, clock.Now)
	client, err := New(Config{HTTP: f.srv.Client(), Tokens: tokens,
		AllowedServiceURL: func(string) bool { return true }, Now: clock.Now, Sleep: (&sleeper{}).Sleep})
	if err != nil {
		t.Fatal(err)
	}
	send := func() {
		t.Helper()
		if _, err := client.SendToConversation(t.Context(), f.ref("a:1"), Activity{Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	send()
	send()
	clock.Advance(54 * time.Minute) // 6 minutes left: still cached
	send()
	clock.Advance(2 * time.Minute) // 4 minutes left: refreshed
	send()
	var auths []string
	for _, r := range f.requests() {
		auths = append(auths, r.Authorization)
	}
	want := []string{"Bearer tok-1", "Bearer tok-1", "Bearer tok-1", "Bearer tok-2"}
	if fmt.Sprint(auths) != fmt.Sprint(want) {
		t.Fatalf("Authorization headers = %v, want %v", auths, want)
	}
	if fetches != 2 {
		t.Fatalf("fetches = %d, want 2", fetches)
	}
}

func TestServiceURLRefused(t *testing.T) {
	f := newFakeConnector(t)
	good := f.ref("a:1").ServiceURL
	cases := []struct {
		name, url string
		allow     bool
	}{
		{"hook refuses", good, false},
		{"empty", "", true},
		{"plain http off loopback", "http://smba.trafficmanager.net/amer/", true},
		{"other scheme", "ftp://smba.trafficmanager.net/amer/", true},
		{"relative", "/amer/", true},
		{"user info", "https://user:pw@smba.trafficmanager.net/amer/", true},
		{"query", "https://smba.trafficmanager.net/amer/?x=1", true},
		{"fragment", "https://smba.trafficmanager.net/amer/#x", true},
		{"malformed", "https://%zz/", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tokens := &countingTokens{token: "tok"}
			var asked []string
			client, err := New(Config{HTTP: f.srv.Client(), Tokens: tokens,
				AllowedServiceURL: func(u string) bool { asked = append(asked, u); return c.allow }})
			if err != nil {
				t.Fatal(err)
			}
			ref := f.ref("a:1")
			ref.ServiceURL = c.url
			if _, err := client.SendToConversation(t.Context(), ref, Activity{Text: "x"}); !errors.Is(err, ErrServiceURLNotAllowed) {
				t.Fatalf("err = %v, want ErrServiceURLNotAllowed", err)
			}
			if err := client.SendTyping(t.Context(), ref); !errors.Is(err, ErrServiceURLNotAllowed) {
				t.Fatalf("typing err = %v", err)
			}
			if tokens.count() != 0 || len(f.requests()) != 0 {
				t.Fatalf("token asked %d times, %d requests", tokens.count(), len(f.requests()))
			}
			if !c.allow && (len(asked) == 0 || asked[0] != good) {
				t.Fatalf("hook asked about %v, want %q", asked, good)
			}
		})
	}
}

func TestInvalidReference(t *testing.T) {
	f := newFakeConnector(t)
	tokens := &countingTokens{token: "tok"}
	client, _, _ := newClient(t, f, tokens)
	cases := map[string]func() error{
		"no conversation": func() error {
			_, err := client.SendToConversation(t.Context(), f.ref(""), Activity{})
			return err
		},
		"dot-dot conversation": func() error {
			_, err := client.SendToConversation(t.Context(), f.ref(".."), Activity{})
			return err
		},
		"no reply target": func() error {
			_, err := client.ReplyToActivity(t.Context(), f.ref("a:1"), "", Activity{})
			return err
		},
		"dot update target": func() error { return client.UpdateActivity(t.Context(), f.ref("a:1"), ".", Activity{}) },
	}
	for name, call := range cases {
		if err := call(); !errors.Is(err, ErrInvalidReference) {
			t.Errorf("%s: err = %v, want ErrInvalidReference", name, err)
		}
	}
	if tokens.count() != 0 || len(f.requests()) != 0 {
		t.Fatalf("token asked %d times, %d requests", tokens.count(), len(f.requests()))
	}
}

func TestNew(t *testing.T) {
	_, err := New(Config{})
	if err == nil {
		t.Fatal("New accepted an empty config")
	}
	for _, field := range []string{"HTTP client", "token source", "AllowedServiceURL"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %s", err, field)
		}
	}
}
