package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// fakeBot stands in for the bot's /api/messages: it records what it is
// sent and answers with reply (200 and no body when nil).
type fakeBot struct {
	mu    sync.Mutex
	got   []teamsActivity
	reply func(act teamsActivity) (int, any)
}

func (b *fakeBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var act teamsActivity
	if r.URL.Path != "/api/messages" || json.NewDecoder(r.Body).Decode(&act) != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	b.got = append(b.got, act)
	reply := b.reply
	b.mu.Unlock()
	status, body := http.StatusOK, any(nil)
	if reply != nil {
		status, body = reply(act)
	}
	w.WriteHeader(status)
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
	}
}

func (b *fakeBot) activities() []teamsActivity {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]teamsActivity(nil), b.got...)
}

// testServer is a sandbox server on httptest, in front of a fake bot.
type testServer struct {
	*server
	http *httptest.Server
	bot  *fakeBot
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	w := openWorld(t, t.TempDir())
	bot := &fakeBot{}
	botSrv := httptest.NewServer(bot)
	t.Cleanup(botSrv.Close)
	c, err := openChat(filepath.Join(w.StateDir(), chatFileName), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{world: w, tenant: w.Tenant(), tenantFile: w.TenantFile(), chat: c, hub: newHub(),
		log: slog.New(slog.DiscardHandler), client: loopbackClient(), botURL: botSrv.URL, mention: mentionPattern(w.Tenant().Bot.Name)}
	w.setOnChange(func() { s.hub.publish(event{Type: "state"}) })
	ts := httptest.NewUnstartedServer(nil)
	ts.Config.Handler = s.handler()
	ts.Start()
	t.Cleanup(func() { s.hub.close(); ts.Close() })
	s.serviceURL = ts.URL + "/connector/"
	s.hosts = loopbackHosts(ts.Listener.Addr())
	return &testServer{server: s, http: ts, bot: bot}
}

// do sends a request to the sandbox and returns the status and body.
func (ts *testServer) do(t *testing.T, method, path string, header map[string]string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, ts.http.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := ts.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// connectorPath is the connector emulator's path for a conversation.
func connectorPath(conversation string, rest string) string {
	return "/connector/v3/conversations/" + url.PathEscape(conversation) + "/activities" + rest
}

var bearer = map[string]string{"Authorization": "Bearer emulator-no-auth", "Content-Type": "application/json"}

var pageJSON = map[string]string{"Content-Type": "application/json"}

const general = "19:sandbox-general@thread.tacv2"
