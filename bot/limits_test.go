package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyturn/keyturn/bot/botauthtest"
)

// dial opens a raw connection to the harness's server.
func (h *harness) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(h.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// cutOff reads from c until the server closes it, and returns what the
// server sent. It fails the test if the server keeps the connection open
// for 20 s, far past any limit the tests set. The server closes a
// connection as its goroutine for it ends, so nothing of it is left.
func cutOff(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	var got bytes.Buffer
	_, err := io.Copy(&got, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept a slow connection open (read %q)", got.String())
	}
	return got.String()
}

// noCanary fails the test if the canary reached a log line, a post to
// Teams, an audit record or one of the responses given.
func (h *harness) noCanary(t *testing.T, responses ...string) {
	t.Helper()
	seen := append([]string{h.logs.String()}, responses...)
	for _, p := range h.conn.all() {
		seen = append(seen, p.Raw)
	}
	for _, e := range h.audit.Events() {
		seen = append(seen, fmt.Sprintf("%+v", e))
	}
	for _, s := range seen {
		if strings.Contains(s, fuzzCanary) {
			t.Fatalf("the canary leaked: %.300s", s)
		}
	}
}

// A client that trickles its headers (slowloris), or stalls in its body,
// is cut off by the server's timeouts while other clients are served, and
// nothing it sent is processed.
func TestSlowClientsAreCutOffAndOthersServed(t *testing.T) {
	h := newHarness(t, harnessOpts{limits: Limits{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: time.Second}})
	body := as(t, fixture(t, "activity/channel_mention.json"), nobodyID)
	body = withField(t, body, "text", "<at>Keyturn</at> help "+fuzzCanary)
	token := "Bearer " + h.iss.Token(botauthtest.TokenOptions{ServiceURL: "https://smba.trafficmanager.net/amer/<tenant-id>/"})

	const slow = 20
	stop := make(chan struct{})
	var trickling sync.WaitGroup
	headers := make([]net.Conn, slow)
	for i := range headers {
		c := h.dial(t)
		headers[i] = c
		trickling.Add(1)
		go func() {
			defer trickling.Done()
			// One header byte at a time, each well within the header
			// timeout of the one before: only an absolute deadline stops it.
			if _, err := fmt.Fprintf(c, "POST /api/messages HTTP/1.1\r\nHost: bot\r\nAuthorization: %s\r\nX-Slow: ", token); err != nil {
				return
			}
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := c.Write([]byte("a")); err != nil {
						return
					}
				}
			}
		}()
	}
	bodies := make([]net.Conn, slow)
	for i := range bodies {
		c := h.dial(t)
		bodies[i] = c
		// Complete headers, a tenth of the body, then nothing.
		fmt.Fprintf(c, "POST /api/messages HTTP/1.1\r\nHost: bot\r\nAuthorization: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			token, len(body), body[:len(body)/10])
	}

	// While they hold their connections, others are served.
	for i := range 5 {
		if code, _ := h.sendSigned(withField(t, body, "id", fmt.Sprintf("served-%d", i))); code != http.StatusOK {
			t.Fatalf("a normal request got %d while slow clients were connected", code)
		}
	}
	waitFor(t, "the replies to the normal requests", func() bool { return len(h.conn.all()) == 5 })

	var answers []string
	for _, c := range headers {
		if got := cutOff(t, c); got != "" {
			t.Fatalf("a trickling client got an answer: %q", got)
		}
	}
	close(stop)
	trickling.Wait()
	for _, c := range bodies {
		got := cutOff(t, c)
		if strings.HasPrefix(got, "HTTP/1.1 2") {
			t.Fatalf("a stalled body was accepted: %q", got)
		}
		answers = append(answers, got)
	}
	h.noCanary(t, answers...)
	if len(h.conn.all()) != 5 || len(h.audit.Events()) != 0 {
		t.Fatalf("a slow client's request was processed: %d posts, audit %v", len(h.conn.all()), h.audit.Types())
	}
}

// Bodies over the limit get 413 whether or not they say their length,
// headers over the limit 431, and a body nested deeper than
// activity.MaxDepth 400; none of them is processed.
func TestOversizedAndDeeplyNestedRequestsChangeNothing(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	// A rotate request, were it processed, with the canary pasted after it.
	base := as(t, fixture(t, "activity/channel_mention.json"), devOID)
	base = withField(t, base, "text", "<at>Keyturn</at> rotate payments-api "+fuzzCanary)
	token := "Bearer " + h.iss.Token(botauthtest.TokenOptions{ServiceURL: "https://smba.trafficmanager.net/amer/<tenant-id>/"})
	big := withField(t, base, "text", "<at>Keyturn</at> help "+strings.Repeat("x", DefaultMaxBodyBytes))
	var answers []string
	post := func(body io.Reader, header http.Header) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, h.base+"/api/messages", body)
		req.Header.Set("Authorization", token)
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := h.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answers = append(answers, string(b))
		return resp.StatusCode
	}
	cases := []struct {
		name   string
		body   io.Reader
		header http.Header
		want   int
	}{
		{"body over the limit, with Content-Length", bytes.NewReader(big), nil, http.StatusRequestEntityTooLarge},
		// io.MultiReader hides the length: the body is sent chunked.
		{"body over the limit, chunked", io.MultiReader(bytes.NewReader(big)), nil, http.StatusRequestEntityTooLarge},
		{"headers over the limit", bytes.NewReader(base), http.Header{"X-Big": {strings.Repeat("h", 2*DefaultMaxHeaderBytes)}}, http.StatusRequestHeaderFieldsTooLarge},
		{"value nested 5000 deep", bytes.NewReader(withField(t, base, "value", nested(5000))), nil, http.StatusBadRequest},
		{"entities nested past the limit", bytes.NewReader(withField(t, base, "entities", nested(100))), nil, http.StatusBadRequest},
	}
	for _, c := range cases {
		if got := post(c.body, c.header); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	// The same request within the limits is served.
	if got := post(bytes.NewReader(withField(t, base, "value", nested(10))), nil); got != http.StatusOK {
		t.Fatalf("a request within the limits: %d", got)
	}
	waitFor(t, "the request within the limits", func() bool { return len(h.conn.all()) >= 1 })
	for _, e := range h.audit.Events() {
		if e.Actor != "" && !strings.Contains(e.Actor, devOID) {
			t.Fatalf("unexpected audit record %+v", e)
		}
	}
	if n := len(h.conn.all()); n != 1 || !strings.Contains(h.conn.all()[0].Raw, "too many words") {
		t.Fatalf("%d posts: a refused request was processed", n)
	}
	h.noCanary(t, answers...)
}

// holdPosts keeps every post to Teams waiting, and so the job that makes
// it, until release is called (at the latest when the test ends).
func (h *harness) holdPosts(t *testing.T) (release func()) {
	hold := make(chan struct{})
	h.conn.mu.Lock()
	h.conn.hold = hold
	h.conn.mu.Unlock()
	var once sync.Once
	release = func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release)
	return release
}

// nested returns a JSON array nested n deep.
func nested(n int) json.RawMessage {
	return json.RawMessage(strings.Repeat("[", n) + strings.Repeat("]", n))
}

// When every worker is busy and the queue is full, the webhook answers 503
// and forgets the delivery, so Teams' retry of it is served; nothing
// accepted is lost and nothing runs twice.
func TestFullQueueAnswers503AndTheRetryIsServed(t *testing.T) {
	h := newHarness(t, harnessOpts{workers: 1, queue: 1})
	release := h.holdPosts(t)
	base := withField(t, as(t, fixture(t, "activity/channel_mention.json"), nobodyID), "text", "<at>Keyturn</at> help "+fuzzCanary)

	var accepted []string
	refused := ""
	for i := 0; i < 20 && refused == ""; i++ {
		id := fmt.Sprintf("act-%d", i)
		switch code, _ := h.sendSigned(withField(t, base, "id", id)); code {
		case http.StatusOK:
			accepted = append(accepted, id)
		case http.StatusServiceUnavailable:
			refused = id
		default:
			t.Fatalf("status %d", code)
		}
	}
	// One job runs (held at the connector) and one waits: the third is refused.
	if refused == "" || len(accepted) > 2 {
		t.Fatalf("accepted %v with one worker and a queue of one; refused %q", accepted, refused)
	}
	if !strings.Contains(h.logs.String(), `"job not queued"`) {
		t.Fatal("the refusal is not logged")
	}
	release()
	waitFor(t, "the accepted jobs", func() bool { return len(h.conn.all()) == len(accepted) })

	// Teams re-delivers the refused activity: it is served, once.
	for range 2 {
		if code, _ := h.sendSigned(withField(t, base, "id", refused)); code != http.StatusOK {
			t.Fatalf("the retry got %d", code)
		}
	}
	waitFor(t, "the retry's reply", func() bool { return len(h.conn.all()) == len(accepted)+1 })
	for _, p := range h.conn.all() {
		if !strings.Contains(p.Raw, "AdaptiveCard") {
			t.Fatalf("posted %s", p.Raw)
		}
	}
	// Nothing else arrives: every delivery ran exactly once.
	h.shutdown()
	if n := len(h.conn.all()); n != len(accepted)+1 {
		t.Fatalf("%d posts for %d activities", n, len(accepted)+1)
	}
	h.noCanary(t)
}

// An approval that arrives while the queue is full is answered (Teams will
// not re-deliver the click) and its rotation waits: the scheduler's next
// tick starts it, once.
func TestApprovalDuringAFullQueueIsRunByTheScheduler(t *testing.T) {
	h := newHarness(t, harnessOpts{workers: 1, queue: 1})
	if code, _ := h.sendSigned(as(t, fixture(t, "activity/channel_mention.json"), devOID)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the approval card", func() bool { return len(h.conn.all()) == 1 })
	m := actionRE.FindStringSubmatch(h.conn.all()[0].Raw)
	if m == nil {
		t.Fatal("no request in the card")
	}

	release := h.holdPosts(t)
	help := withField(t, as(t, fixture(t, "activity/channel_mention.json"), nobodyID), "text", "<at>Keyturn</at> help")
	busy := func(i int) int {
		code, _ := h.sendSigned(withField(t, help, "id", fmt.Sprintf("busy-%d", i)))
		return code
	}
	// The worker takes a job and waits at the connector; then the queue
	// fills, and stays full.
	if busy(0) != http.StatusOK {
		t.Fatal("the first job was refused")
	}
	waitFor(t, "the worker to be busy", func() bool {
		h.conn.mu.Lock()
		defer h.conn.mu.Unlock()
		return h.conn.held == 1
	})
	full := false
	for i := 1; i < 20 && !full; i++ {
		full = busy(i) == http.StatusServiceUnavailable
	}
	if !full {
		t.Fatal("the queue never filled")
	}
	if _, resp := h.invoke(t, adminOID, "inv-approve", "approve", m[1], m[2], nil); resp["statusCode"] != float64(http.StatusOK) {
		t.Fatalf("approve: %v", resp)
	}
	if !strings.Contains(h.logs.String(), "approved rotation not queued") || h.rotations() != 0 {
		t.Fatalf("the run was queued in a full queue (%d rotations)", h.rotations())
	}
	release()
	waitFor(t, "room in the queue", func() bool { return len(h.srv.pool.queue) == 0 })

	h.srv.tick(context.Background())
	waitFor(t, "the done card", func() bool {
		all := h.conn.all()
		return strings.Contains(all[len(all)-1].Raw, testVault+"secrets/payments-api-client-secret/")
	})
	h.srv.tick(context.Background())
	h.shutdown()
	if h.rotations() != 1 {
		t.Fatalf("%d rotations for one approval", h.rotations())
	}
}
