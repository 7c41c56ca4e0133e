package connector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestRetries(t *testing.T) {
	ok := reply{status: 200, body: `{"id":"after-retry"}`}
	throttled := func(status int, retryAfter string) reply {
		r := reply{status: status, body: `{"error":{"code":"Throttled"}}`}
		if retryAfter != "" {
			r.headers = map[string]string{"Retry-After": retryAfter}
		}
		return r
	}
	cases := []struct {
		name      string
		script    []reply
		wantWaits []time.Duration
		wantReqs  int
		wantID    string
		status    int    // StatusError expected when not 0
		code      string // its Code
	}{
		{"429 seconds then success", []reply{throttled(429, "7"), ok}, []time.Duration{7 * time.Second}, 2, "after-retry", 0, ""},
		{"503 seconds then success", []reply{throttled(503, "3"), ok}, []time.Duration{3 * time.Second}, 2, "after-retry", 0, ""},
		{"429 http date", []reply{throttled(429, t0.Add(12*time.Second).Format(http.TimeFormat)), ok},
			[]time.Duration{12 * time.Second}, 2, "after-retry", 0, ""},
		{"429 date in the past", []reply{throttled(429, t0.Add(-time.Minute).Format(http.TimeFormat)), ok},
			[]time.Duration{0}, 2, "after-retry", 0, ""},
		{"429 capped", []reply{throttled(429, "3600"), ok}, []time.Duration{time.Minute}, 2, "after-retry", 0, ""},
		{"429 without header backs off", []reply{throttled(429, ""), throttled(429, "junk"), ok},
			[]time.Duration{time.Second, 2 * time.Second}, 3, "after-retry", 0, ""},
		{"429 until attempts run out",
			[]reply{throttled(429, "1"), throttled(429, "2"), throttled(429, "3"), throttled(429, "4"), ok},
			[]time.Duration{time.Second, 2 * time.Second, 3 * time.Second}, 4, "", 429, "Throttled"},
		{"403 not retried", []reply{{status: 403, body: `{"error":{"code":"BotNotInConversationRoster","message":"m"}}`}, ok},
			nil, 1, "", 403, "BotNotInConversationRoster"},
		{"400 not retried", []reply{{status: 400, body: `{"error":{"code":"BadArgument"}}`}, ok}, nil, 1, "", 400, "BadArgument"},
		{"404 odd code dropped", []reply{{status: 404, body: `{"error":{"code":"<script>"}}`}, ok}, nil, 1, "", 404, ""},
		{"500 not retried", []reply{{status: 500, body: `oops`}, ok}, nil, 1, "", 500, ""},
		{"success without body", []reply{{status: 202}}, nil, 1, "", 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeConnector(t, c.script...)
			client, _, sl := newClient(t, f, &countingTokens{token: "tok"})
			id, err := client.SendToConversation(t.Context(), f.ref(threadID), Activity{Text: "x"})
			if c.status != 0 {
				var se *StatusError
				if !errors.As(err, &se) || se.StatusCode != c.status || se.Code != c.code || se.Method != "POST" {
					t.Fatalf("err = %#v, want StatusError %d %q", err, c.status, c.code)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			}
			if id != c.wantID {
				t.Errorf("id = %q, want %q", id, c.wantID)
			}
			if got := sl.recorded(); fmt.Sprint(got) != fmt.Sprint(c.wantWaits) {
				t.Errorf("waits = %v, want %v", got, c.wantWaits)
			}
			reqs := f.requests()
			if len(reqs) != c.wantReqs {
				t.Fatalf("%d requests, want %d", len(reqs), c.wantReqs)
			}
			for _, r := range reqs {
				if r.Body["text"] != "x" || r.Authorization != "Bearer tok" {
					t.Errorf("retried request lost its body or token: %+v", r)
				}
			}
		})
	}
}

func TestRetryWaitStopsOnContext(t *testing.T) {
	f := newFakeConnector(t, reply{status: 429, headers: map[string]string{"Retry-After": "5"}})
	client, _, sl := newClient(t, f, &countingTokens{token: "tok"})
	sl.err = context.Canceled
	_, err := client.SendToConversation(t.Context(), f.ref("a:1"), Activity{Text: "x"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Fatalf("%d requests after a cancelled wait, want 1", n)
	}
}

func TestUpdateRetried(t *testing.T) {
	f := newFakeConnector(t, reply{status: 429, headers: map[string]string{"Retry-After": "2"}}, reply{status: 200, body: `{"id":"u"}`})
	client, _, sl := newClient(t, f, &countingTokens{token: "tok"})
	if err := client.UpdateActivity(t.Context(), f.ref("a:1"), "act-1", Activity{Text: "v2"}); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 2 || reqs[1].Method != "PUT" || reqs[1].Body["id"] != "act-1" || reqs[1].Body["text"] != "v2" {
		t.Fatalf("requests = %+v", reqs)
	}
	if w := sl.recorded(); len(w) != 1 || w[0] != 2*time.Second {
		t.Fatalf("waits = %v", w)
	}
}

func TestParseRetryAfter(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{"999999999999", 24 * time.Hour, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"", 0, false},
		{t0.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"Sun, 01 Mar 2026 12:00:30 GMT", 30 * time.Second, true},
		{"tomorrow", 0, false},
	}
	for _, c := range cases {
		got, ok := parseRetryAfter(c.in, t0)
		if got != c.want || ok != c.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestSleepContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := sleepContext(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if err := sleepContext(t.Context(), 0); err != nil {
		t.Fatalf("zero wait: %v", err)
	}
}

func TestTypingNotRetried(t *testing.T) {
	f := newFakeConnector(t, reply{status: 429, headers: map[string]string{"Retry-After": "1"}})
	client, _, sl := newClient(t, f, &countingTokens{token: "tok"})
	err := client.SendTyping(t.Context(), f.ref("a:1"))
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 429 {
		t.Fatalf("err = %v, want StatusError 429", err)
	}
	if len(f.requests()) != 1 || len(sl.recorded()) != 0 {
		t.Fatalf("%d requests, waits %v", len(f.requests()), sl.recorded())
	}
}
