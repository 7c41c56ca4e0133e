package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestSendMakesTeamsActivities(t *testing.T) {
	ts := newTestServer(t)
	status, body := ts.do(t, "POST", "/api/send", pageJSON, map[string]any{"channel": general, "user": "megan", "text": "@keyturn rotate a&b <x>"})
	var ans pageAnswer
	if status != 200 || json.Unmarshal(body, &ans) != nil || ans.BotStatus != 200 || ans.ID == "" {
		t.Fatalf("send: %d %s", status, body)
	}
	got := ts.bot.activities()
	if len(got) != 1 {
		t.Fatalf("the bot got %d activities", len(got))
	}
	a := got[0]
	megan, _ := ts.tenant.UserByKey("megan")
	checks := map[string]bool{
		"message type":          a.Type == "message" && a.ChannelID == "msteams",
		"id is the stored post": a.ID == ans.ID,
		"thread conversation":   a.Conversation.ID == general+";messageid="+ans.ID && a.Conversation.ConversationType == "channel" && a.Conversation.IsGroup,
		"caller":                a.From.AADObjectID == strings.ToLower(megan.ObjectID) && a.From.ID == "29:sandbox-megan" && a.From.Name == megan.Name,
		"tenant":                a.ChannelData.Tenant.ID == ts.tenant.Tenant.ID && a.Conversation.TenantID == ts.tenant.Tenant.ID,
		"team and channel":      a.ChannelData.Team.ID == ts.tenant.Team.ID && a.ChannelData.Channel.ID == general,
		"recipient is the bot":  a.Recipient.ID == "28:"+ts.tenant.Bot.AppID,
		"mention markup":        a.Text == "<at>Keyturn</at> rotate a&amp;b &lt;x&gt;",
		"mention entity":        len(a.Entities) == 1 && a.Entities[0].Mentioned.ID == a.Recipient.ID && a.Entities[0].Text == "<at>Keyturn</at>",
		"service URL":           a.ServiceURL == ts.serviceURL && strings.HasPrefix(a.ServiceURL, "http://127.0.0.1:"),
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("%s: %+v", what, a)
		}
	}
	if m, ok := ts.chat.Get(general, ans.ID); !ok || m.Text != "@keyturn rotate a&b <x>" || m.From.User != "megan" {
		t.Errorf("the post is not in the channel as typed: %+v", m)
	}

	// A card's Action.Submit: no text, the data as value, in the card's thread.
	cardMsg, _ := ts.chat.Post(Message{Channel: general, Thread: ans.ID, From: ts.botAccount()})
	status, body = ts.do(t, "POST", "/api/send", pageJSON, map[string]any{"channel": general, "user": "adele", "value": map[string]string{"verb": "approve"}, "replyToId": cardMsg.ID})
	if status != 200 {
		t.Fatalf("submit: %d %s", status, body)
	}
	sub := ts.bot.activities()[1]
	if sub.Text != "" || string(sub.Value) != `{"verb":"approve"}` || sub.ReplyToID != cardMsg.ID || sub.Conversation.ID != general+";messageid="+ans.ID ||
		sub.ChannelData.Legacy == nil || sub.ChannelData.Legacy.ID != cardMsg.ID {
		t.Errorf("submit activity %+v", sub)
	}

	bad := []struct {
		name string
		body map[string]any
		want int
	}{
		{"unknown user", map[string]any{"channel": general, "user": "mallory", "text": "hi"}, 404},
		{"unknown channel", map[string]any{"channel": "19:x", "user": "megan", "text": "hi"}, 404},
		{"nothing to send", map[string]any{"channel": general, "user": "megan"}, 400},
		{"text and value", map[string]any{"channel": general, "user": "megan", "text": "hi", "value": map[string]string{}}, 400},
		{"unknown field", map[string]any{"channel": general, "user": "megan", "text": "hi", "from": "someone"}, 400},
		{"reply to no thread", map[string]any{"channel": general, "user": "megan", "text": "hi", "thread": "42"}, 404},
		{"submit from no card", map[string]any{"channel": general, "user": "megan", "value": map[string]string{}, "replyToId": "42"}, 404},
	}
	for _, c := range bad {
		if status, body := ts.do(t, "POST", "/api/send", pageJSON, c.body); status != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, status, body, c.want)
		}
	}
	if n := len(ts.bot.activities()); n != 2 {
		t.Errorf("refused requests reached the bot: %d activities", n)
	}
}

func TestInvokeReturnsTheBotsAnswer(t *testing.T) {
	ts := newTestServer(t)
	invokeAnswer := map[string]any{"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive", "value": card("for you")}
	ts.bot.reply = func(act teamsActivity) (int, any) {
		if act.Type == "invoke" {
			return 200, invokeAnswer
		}
		return 200, nil
	}
	root, _ := ts.chat.Post(Message{Channel: general, From: Account{ID: "29:sandbox-megan", Name: "Megan", User: "megan"}, Text: "x"})
	cardMsg, _ := ts.chat.Post(Message{Channel: general, Thread: root.ID, From: ts.botAccount()})
	status, body := ts.do(t, "POST", "/api/invoke", pageJSON, map[string]any{"channel": general, "user": "adele", "activityId": cardMsg.ID,
		"verb": "approve", "data": map[string]string{"requestId": "r1"}, "trigger": "manual"})
	var ans pageAnswer
	if status != 200 || json.Unmarshal(body, &ans) != nil || ans.BotStatus != 200 {
		t.Fatalf("invoke: %d %s", status, body)
	}
	var got map[string]any
	if json.Unmarshal(ans.Body, &got) != nil || got["type"] != "application/vnd.microsoft.card.adaptive" {
		t.Errorf("the invoke response was not passed on: %s", ans.Body)
	}
	a := ts.bot.activities()[0]
	if a.Type != "invoke" || a.Name != "adaptiveCard/action" || a.ReplyToID != cardMsg.ID || a.Conversation.ID != general+";messageid="+root.ID {
		t.Errorf("invoke activity %+v", a)
	}
	if string(a.Value) != `{"action":{"data":{"requestId":"r1"},"type":"Action.Execute","verb":"approve"},"trigger":"manual"}` {
		t.Errorf("invoke value %s", a.Value)
	}
	for _, c := range []struct {
		name string
		body map[string]any
		want int
	}{
		{"bad trigger", map[string]any{"channel": general, "user": "adele", "activityId": cardMsg.ID, "trigger": "later"}, 400},
		{"unknown card", map[string]any{"channel": general, "user": "adele", "activityId": "42", "trigger": "manual"}, 404},
	} {
		if status, _ := ts.do(t, "POST", "/api/invoke", pageJSON, c.body); status != c.want {
			t.Errorf("%s: %d, want %d", c.name, status, c.want)
		}
	}
	ts.bot.reply = func(teamsActivity) (int, any) { return 200, nil }
	ts.do(t, "POST", "/api/invoke", pageJSON, map[string]any{"channel": general, "user": "adele", "activityId": cardMsg.ID, "trigger": "automatic"})
}

func TestStateAndTenantEndpoints(t *testing.T) {
	ts := newTestServer(t)
	status, body := ts.do(t, "GET", "/api/state", nil, nil)
	noMarker(t, string(body))
	var st StateView
	if status != 200 || json.Unmarshal(body, &st) != nil || len(st.Vaults) == 0 || !strings.Contains(string(body), MaskedValue) {
		t.Fatalf("state: %d %s", status, body)
	}
	status, body = ts.do(t, "GET", "/api/tenant", nil, nil)
	var tv tenantView
	if status != 200 || json.Unmarshal(body, &tv) != nil || len(tv.Users) != len(ts.tenant.Users) || tv.BotID != "28:"+ts.tenant.Bot.AppID {
		t.Fatalf("tenant: %d %s", status, body)
	}
	adele := tv.Users[1]
	if adele.Key != "adele" || !adele.Approve || adele.Request || adele.IDs[0] != "29:sandbox-adele" {
		t.Errorf("adele: %+v", adele)
	}
}

func TestEventsStream(t *testing.T) {
	ts := newTestServer(t)
	if _, err := ts.chat.Post(Message{Channel: general, From: ts.botAccount(), Text: "before"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.http.URL+"/api/events", nil)
	resp, err := ts.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	lines := bufio.NewScanner(resp.Body)
	next := func() event {
		t.Helper()
		for lines.Scan() {
			if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
				var ev event
				if err := json.Unmarshal([]byte(data), &ev); err != nil {
					t.Fatal(err)
				}
				return ev
			}
		}
		t.Fatalf("stream ended: %v", lines.Err())
		return event{}
	}
	if ev := next(); ev.Type != "hello" || len(ev.Messages) != 1 || ev.Messages[0].Text != "before" {
		t.Fatalf("first event %+v", ev)
	}
	ts.do(t, "POST", connectorPath(general, ""), bearer, map[string]any{"type": "message", "text": "after"})
	if ev := next(); ev.Type != "message" || ev.Message.Text != "after" {
		t.Fatalf("second event %+v", ev)
	}
	ts.world.changed()
	if ev := next(); ev.Type != "state" {
		t.Fatalf("a world change was not announced: %+v", ev)
	}
	ts.hub.close()
	for lines.Scan() {
	}
	if status, _ := ts.do(t, "GET", "/api/events", nil, nil); status != http.StatusServiceUnavailable {
		t.Errorf("a closed hub accepted a stream: %d", status)
	}
}
