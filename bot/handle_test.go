package bot

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/bot/activity"
)

// decoded turns a fixture into the authenticated activity the handlers take,
// with no HTTP in between.
func decoded(t *testing.T, body []byte) *incoming {
	t.Helper()
	act, err := activity.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	return &incoming{act: act, caller: Caller{ObjectID: act.CallerObjectID(), TenantID: act.TenantID(), Name: act.From.Name},
		ref: activity.FromActivity(act), rid: "rid-handle"}
}

// TestHandleWithoutHTTP: below the edge, an activity in is an answer out.
// An invoke's answer carries its body (the invoke response Teams reads); a
// message is acknowledged and its reply queued.
func TestHandleWithoutHTTP(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ctx := context.Background()
	base := fixture(t, "activity/channel_mention.json")

	inv := withField(t, withField(t, base, "type", "invoke"), "name", "composeExtension/query")
	a := h.srv.handle(ctx, decoded(t, inv))
	if r, ok := a.body.(InvokeResponse); a.status != http.StatusOK || !ok || r.StatusCode != http.StatusNotImplemented {
		t.Fatalf("other invoke: %+v", a)
	}
	inv = withField(t, withField(t, withField(t, base, "type", "invoke"), "name", "adaptiveCard/action"), "value",
		map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "approve", "data": map[string]any{}}})
	a = h.srv.handle(ctx, decoded(t, as(t, inv, adminOID)))
	if r, ok := a.body.(InvokeResponse); !ok || r.StatusCode != http.StatusBadRequest || r.Type != InvokeTypeError {
		t.Fatalf("approve without a request: %+v", a)
	}

	help := withField(t, withField(t, base, "id", "help-1"), "text", "<at>Keyturn</at> help")
	msg := decoded(t, help)
	h.srv.cfg.ServiceURLs.Allow(msg.act.ServiceURL) // receive's part: the connector posts only where activities came from
	a = h.srv.handle(ctx, msg)
	if a.status != http.StatusOK || a.body != nil {
		t.Fatalf("help: %+v", a)
	}
	defer func() {
		if t.Failed() {
			t.Log(h.logs.String())
		}
	}()
	waitFor(t, "the help card", func() bool { return len(h.conn.all()) == 1 })
	if again := h.srv.handle(ctx, decoded(t, help)); again.status != http.StatusOK {
		t.Fatalf("re-delivery: %+v", again)
	}
	// The claim is checked after the answer: wait for its verdict.
	waitFor(t, "the re-delivery to be ignored", func() bool { return strings.Contains(h.logs.String(), "re-delivered activity ignored") })
	if n := len(h.conn.all()); n != 1 {
		t.Fatalf("%d posts after a re-delivery, want the one help card", n)
	}
}
