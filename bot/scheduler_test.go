package bot

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// TestAuditChannelLosesNothing makes the channel the audit channel, runs a
// rotation, lets the connector fail for a while, and checks that every
// audit record reaches the channel once it answers again, in order.
func TestAuditChannelLosesNothing(t *testing.T) {
	h := newHarness(t, harnessOpts{direct: true})
	h.firstReply(t, withField(t, as(t, fixture(t, "activity/channel_mention.json"), adminOID), "text", "<at>Keyturn</at> audit here"), "audit channel")
	rotate := withField(t, as(t, fixture(t, "activity/channel_mention.json"), adminOID), "id", "second-message")
	if code, _ := h.sendSigned(rotate); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the rotation", func() bool {
		all := h.conn.all()
		return strings.Contains(all[len(all)-1].Raw, "payments-api-client-secret/")
	})
	posts := len(h.conn.all())

	h.conn.setDown(true) // Teams unreachable
	h.srv.tick(context.Background())
	if sent := h.conn.all()[posts:]; len(sent) != 0 {
		t.Fatalf("posted while down: %d", len(sent))
	}
	h.conn.setDown(false)
	h.srv.tick(context.Background())
	var lines []string
	for _, p := range h.conn.all()[posts:] {
		if !strings.HasSuffix(p.Path, "/v3/conversations/19:<channel>@thread.tacv2/activities") {
			t.Fatalf("audit posted to %s, not the channel", p.Path)
		}
		text, _ := p.Body["text"].(string)
		lines = append(lines, strings.Split(text, "\n\n")...)
	}
	head, _ := h.state.AuditHead(context.Background())
	recs, _ := h.state.Records(context.Background(), 0, 0)
	first := 0
	for i, r := range recs {
		if r.Event.Type == rotation.EventConfigChanged {
			first = i
		}
	}
	want := recs[first:]
	if len(lines) != len(want) || uint64(len(recs)) != head {
		t.Fatalf("posted %d lines for %d records after the channel was set (head %d):\n%s", len(lines), len(want), head, strings.Join(lines, "\n"))
	}
	for i, r := range want {
		if !strings.HasPrefix(lines[i], "#"+itoa(r.Seq)+" ") || !strings.Contains(lines[i], r.Hash[:12]) {
			t.Fatalf("line %d %q does not show record %d", i, lines[i], r.Seq)
		}
	}
	// Nothing is posted twice.
	before := len(h.conn.all())
	h.srv.tick(context.Background())
	if n := len(h.conn.all()); n != before {
		t.Fatalf("%d posts after a tick with nothing new", n-before)
	}
	h.noSecrets(t)
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func TestExpiredRequestCardIsUpdated(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	if code, _ := h.sendSigned(as(t, fixture(t, "activity/channel_mention.json"), devOID)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the approval card, attached to its request", func() bool {
		open, _ := h.state.ListApprovals(context.Background())
		return len(h.conn.all()) == 1 && len(open) == 1 && len(open[0].Card) > 0
	})
	h.clock.Advance(31 * time.Minute)
	h.srv.tick(context.Background())
	all := h.conn.all()
	if len(all) != 2 || all[1].Method != http.MethodPut || !strings.Contains(strings.ToLower(all[1].Raw), "expired") {
		t.Fatalf("expired card not updated: %d posts, last %s", len(all), all[len(all)-1].Raw)
	}
	m := actionRE.FindStringSubmatch(all[0].Raw)
	_, resp := h.invoke(t, adminOID, "late", "approve", m[1], m[2], nil)
	if resp["statusCode"] != float64(403) || !strings.Contains(strings.ToLower(resp["value"].(map[string]any)["message"].(string)), "decided already") && !strings.Contains(strings.ToLower(resp["value"].(map[string]any)["message"].(string)), "expired") {
		t.Fatalf("late approval: %v", resp)
	}
}

func TestActionSubmitApproves(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	if code, _ := h.sendSigned(as(t, fixture(t, "activity/channel_mention.json"), devOID)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the approval card", func() bool { return len(h.conn.all()) == 1 })
	m := actionRE.FindStringSubmatch(h.conn.all()[0].Raw)
	submit := as(t, fixture(t, "activity/action_submit.json"), adminOID)
	submit = withField(t, submit, "conversation", map[string]any{"isGroup": true, "conversationType": "channel", "tenantId": "<tenant-id>",
		"id": "19:<channel>@thread.tacv2;messageid=1771290107407"})
	submit = withField(t, submit, "value", map[string]any{"verb": "approve", "requestId": m[1], "digest": m[2]})
	if code, _ := h.sendSigned(submit); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the done card", func() bool {
		all := h.conn.all()
		return strings.Contains(all[len(all)-1].Raw, testVault+"secrets/payments-api-client-secret/")
	})
}

// groupChat returns body moved into a group chat of the same tenant.
func groupChat(t *testing.T, body []byte) []byte {
	t.Helper()
	body = withField(t, body, "conversation", map[string]any{"isGroup": true, "conversationType": "groupChat", "tenantId": "<tenant-id>", "id": "19:group@thread.v2"})
	return withField(t, body, "channelData", map[string]any{"tenant": map[string]any{"id": "<tenant-id>"}})
}

// TestMovingTheAuditChannelSkipsNothing sets an audit channel, makes
// records while Teams refuses posts, then moves the channel to a group
// chat. Every record from the first channel's announcement on reaches one
// of the two channels, exactly once and in order; the old channel is told
// where the trail went.
func TestMovingTheAuditChannelSkipsNothing(t *testing.T) {
	h := newHarness(t, harnessOpts{direct: true})
	here := withField(t, as(t, fixture(t, "activity/channel_mention.json"), adminOID), "text", "<at>Keyturn</at> audit here")
	h.firstReply(t, here, "")
	h.srv.tick(context.Background()) // the channel receives its first records
	rotate := withField(t, as(t, fixture(t, "activity/channel_mention.json"), adminOID), "id", "second-message")
	if code, _ := h.sendSigned(rotate); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the rotation", func() bool {
		all := h.conn.all()
		return strings.Contains(all[len(all)-1].Raw, "payments-api-client-secret/")
	})
	h.conn.setBroken(true) // Teams refuses the audit posts of the rotation
	h.srv.tick(context.Background())
	h.conn.setBroken(false)

	move := withField(t, groupChat(t, here), "id", "move-message")
	if code, _ := h.sendSigned(move); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the move's confirmation", func() bool {
		all := h.conn.all()
		return strings.Contains(all[len(all)-1].Raw, "now Keyturn's audit channel")
	})
	h.srv.tick(context.Background())

	const oldPath, newPath = "/v3/conversations/19:<channel>@thread.tacv2/activities", "/v3/conversations/19:group@thread.v2/activities"
	var seqs []string
	notice := false
	for _, p := range h.conn.all() {
		text, _ := p.Body["text"].(string)
		switch {
		case p.Method != http.MethodPost || !strings.HasSuffix(p.Path, oldPath) && !strings.HasSuffix(p.Path, newPath):
		case strings.Contains(text, "audit channel moved to"):
			notice = strings.HasSuffix(p.Path, oldPath) && strings.Contains(text, "19:group@thread.v2")
		default:
			for _, line := range strings.Split(text, "\n\n") {
				seq, _, _ := strings.Cut(strings.TrimPrefix(line, "#"), " ")
				seqs = append(seqs, seq)
			}
		}
	}
	recs, _ := h.state.Records(context.Background(), 0, 0)
	first := 0
	for i, r := range recs {
		if r.Event.Type == rotation.EventConfigChanged {
			first = i
			break
		}
	}
	var want []string
	for _, r := range recs[first:] {
		want = append(want, itoa(r.Seq))
	}
	if strings.Join(seqs, ",") != strings.Join(want, ",") {
		t.Fatalf("records posted %v, want each of %v once", seqs, want)
	}
	if !notice {
		t.Fatal("the old channel was not told where the audit trail went")
	}
}

// TestAuditChannelIsNeverAOneToOneChat: an approver's "audit here" in a
// personal chat is refused in words, audited, and changes nothing.
func TestAuditChannelIsNeverAOneToOneChat(t *testing.T) {
	h := newHarness(t, harnessOpts{direct: true})
	h.firstReply(t, withField(t, as(t, fixture(t, "activity/b_personal_message.msdocs.json"), adminOID), "text", "audit here"), "team channel or a group chat")
	var ch auditChannel
	if err := h.state.Setting(context.Background(), auditChannelSetting, &ch); err == nil {
		t.Fatalf("a personal chat became the audit channel: %+v", ch)
	}
	if types := h.audit.Types(); len(types) != 1 || types[0] != rotation.EventDenied {
		t.Fatalf("audit %v, want one denial", types)
	}
}

// firstReply sends msg, waits for the bot's first post in this harness and
// requires it to contain want (when not empty).
func (h *harness) firstReply(t *testing.T, msg []byte, want string) {
	t.Helper()
	if code, _ := h.sendSigned(msg); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the reply", func() bool { return len(h.conn.all()) == 1 })
	if !strings.Contains(h.conn.all()[0].Raw, want) {
		t.Fatalf("reply %s, want %q in it", h.conn.all()[0].Raw, want)
	}
}
