package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func card(text string) map[string]any {
	return map[string]any{"type": "AdaptiveCard", "version": "1.5", "body": []any{map[string]any{"type": "TextBlock", "text": text}}}
}

func TestConnectorEmulation(t *testing.T) {
	ts := newTestServer(t)
	events, ok := ts.hub.subscribe()
	if !ok {
		t.Fatal("hub closed")
	}
	root, err := ts.chat.Post(Message{Channel: general, From: Account{ID: "29:sandbox-megan", Name: "Megan Bowen", User: "megan"}, Text: "@Keyturn help"})
	if err != nil {
		t.Fatal(err)
	}
	msg := func(text string) map[string]any {
		return map[string]any{"type": "message", "text": text, "attachments": []any{map[string]any{"contentType": cardContentType, "content": card(text)}}}
	}
	var replyID, postID string
	cases := []struct {
		name       string
		method     string
		path       func() string
		header     map[string]string
		body       any
		status     int
		code       string
		wantThread func() string
		save       *string
	}{
		{name: "no bearer", method: "POST", path: func() string { return connectorPath(general, "") }, header: pageJSON, body: msg("x"), status: 401, code: "Unauthorized"},
		{name: "unknown conversation", method: "POST", path: func() string { return connectorPath("19:nowhere@thread.tacv2", "") }, header: bearer, body: msg("x"), status: 404, code: "ConversationNotFound"},
		{name: "not JSON", method: "POST", path: func() string { return connectorPath(general, "") }, header: bearer, body: "{", status: 400, code: "BadArgument"},
		{name: "card that is not an object", method: "POST", path: func() string { return connectorPath(general, "") }, header: bearer,
			body: map[string]any{"type": "message", "attachments": []any{map[string]any{"contentType": cardContentType, "content": "[]"}}}, status: 400, code: "BadArgument"},
		{name: "too big for Teams", method: "POST", path: func() string { return connectorPath(general, "") }, header: bearer, body: msg(strings.Repeat("x", maxMessageBytes)), status: 413, code: "MessageSizeTooBig"},
		{name: "unsupported type", method: "POST", path: func() string { return connectorPath(general, "") }, header: bearer, body: map[string]any{"type": "event"}, status: 400, code: "BadArgument"},
		{name: "reply in a thread", method: "POST", path: func() string { return connectorPath(general+";messageid="+root.ID, "/"+root.ID) }, header: bearer, body: msg("ack"), status: 201,
			wantThread: func() string { return root.ID }, save: &replyID},
		{name: "reply to a reply stays in the thread", method: "POST", path: func() string { return connectorPath(general, "/"+replyID) }, header: bearer, body: msg("more"), status: 201,
			wantThread: func() string { return root.ID }},
		{name: "new post (proactive)", method: "POST", path: func() string { return connectorPath(general, "") }, header: bearer, body: msg("audit"), status: 201,
			wantThread: func() string { return "" }, save: &postID},
		{name: "update a card", method: "PUT", path: func() string { return connectorPath(general+";messageid="+root.ID, "/"+replyID) }, header: bearer, body: msg("done"), status: 200},
		{name: "update unknown", method: "PUT", path: func() string { return connectorPath(general, "/42") }, header: bearer, body: msg("done"), status: 404, code: "ActivityNotFound"},
		{name: "update a person's message", method: "PUT", path: func() string { return connectorPath(general, "/"+root.ID) }, header: bearer, body: msg("hijack"), status: 403, code: "Forbidden"},
		{name: "typing", method: "POST", path: func() string { return connectorPath(general, "") }, header: bearer, body: map[string]any{"type": "typing"}, status: 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := ts.do(t, c.method, c.path(), c.header, c.body)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, body)
			}
			if c.code != "" {
				var e struct {
					Error struct{ Code string } `json:"error"`
				}
				if json.Unmarshal(body, &e) != nil || e.Error.Code != c.code {
					t.Fatalf("body %s, want code %s", body, c.code)
				}
			}
			if c.wantThread == nil {
				return
			}
			var ans struct{ ID string }
			if json.Unmarshal(body, &ans) != nil || ans.ID == "" {
				t.Fatalf("no id in %s", body)
			}
			m, ok := ts.chat.Get(general, ans.ID)
			if !ok || m.Thread != c.wantThread() || !m.From.Bot || len(m.Attachments) != 1 {
				t.Fatalf("stored %+v, want thread %q", m, c.wantThread())
			}
			if c.save != nil {
				*c.save = ans.ID
			}
		})
	}
	updated, _ := ts.chat.Get(general, replyID)
	if updated.Revision != 1 || !strings.Contains(string(updated.Attachments[0].Content), "done") {
		t.Errorf("the update was not applied: %+v", updated)
	}
	var kinds []string
	for len(events) > 0 {
		var ev event
		if err := json.Unmarshal(<-events, &ev); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, ev.Type)
	}
	if got := strings.Join(kinds, ","); got != "message,message,message,update,typing" {
		t.Errorf("the page was told %s", got)
	}
}

func TestConnectorMembers(t *testing.T) {
	ts := newTestServer(t)
	path := "/connector/v3/conversations/" + general + "/members"
	if status, _ := ts.do(t, "GET", path, nil, nil); status != http.StatusUnauthorized {
		t.Fatalf("members without a bearer: %d", status)
	}
	if status, _ := ts.do(t, "GET", "/connector/v3/conversations/19:x@thread.tacv2/members", bearer, nil); status != http.StatusNotFound {
		t.Fatalf("members of an unknown conversation: %d", status)
	}
	status, body := ts.do(t, "GET", path, bearer, nil)
	var members []teamsMember
	if status != 200 || json.Unmarshal(body, &members) != nil || len(members) != len(ts.tenant.Users) {
		t.Fatalf("members: %d %s", status, body)
	}
	for i, m := range members {
		u := ts.tenant.Users[i]
		if m.ID != "29:sandbox-"+u.Key || !strings.EqualFold(m.AADObjectID, u.ObjectID) || m.TenantID != ts.tenant.Tenant.ID {
			t.Errorf("member %+v for %s", m, u.Key)
		}
	}
}

func TestGuard(t *testing.T) {
	ts := newTestServer(t)
	cases := []struct {
		name   string
		method string
		path   string
		header map[string]string
		body   any
		status int
	}{
		{"page", "GET", "/", nil, nil, 200},
		{"renderer", "GET", "/vendor/adaptivecards/adaptivecards.min.js", nil, nil, 200},
		{"renderer licence", "GET", "/vendor/adaptivecards/LICENSE", nil, nil, 200},
		{"script", "GET", "/static/app.js", nil, nil, 200},
		{"cards script", "GET", "/static/cards.js", nil, nil, 200},
		{"vault script", "GET", "/static/vault.js", nil, nil, 200},
		{"styles", "GET", "/static/app.css", nil, nil, 200},
		{"nothing else", "GET", "/static/../sandbox-world.json", nil, nil, 404},
		{"another host name (DNS rebinding)", "GET", "/api/state", map[string]string{"Host": "evil.example:80"}, nil, http.StatusMisdirectedRequest},
		{"cross-origin write", "POST", "/api/send", map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}, map[string]string{}, http.StatusForbidden},
		{"form post", "POST", "/api/send", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "text=hi", http.StatusUnsupportedMediaType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if status, body := ts.do(t, c.method, c.path, c.header, c.body); status != c.status {
				t.Fatalf("status %d, want %d: %.200s", status, c.status, body)
			}
		})
	}
	req, _ := http.NewRequest("GET", ts.http.URL+"/", nil)
	resp, err := ts.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
}
