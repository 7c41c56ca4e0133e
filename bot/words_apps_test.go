package bot

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/bot/command"
	"github.com/keyturn/keyturn/rotation"
)

func TestUnknownAppWords(t *testing.T) {
	cat := &StaticCatalog{Apps: map[string]Target{
		"payments-api": {ClientID: payments}, "payroll-api": {ClientID: "33333333-3333-4333-8333-333333333333"}, "hr-portal": {ClientID: "44444444-4444-4444-8444-444444444444"},
	}}
	cases := []struct {
		typed, want string
	}{
		{"paymets-api", "I don't know an app called `paymets-api`. Did you mean `payments-api`? Apps I know by name: `hr-portal`, `payments-api`, `payroll-api`; or use an app's Application (client) ID."},
		{"PAYMENST-API", "I don't know an app called `paymenst-api`. Did you mean `payments-api`? Apps I know by name: `hr-portal`, `payments-api`, `payroll-api`; or use an app's Application (client) ID."},
		{"pay", "I don't know an app called `pay`. Did you mean `payroll-api` or `payments-api`? Apps I know by name: `hr-portal`, `payments-api`, `payroll-api`; or use an app's Application (client) ID."},
		{"billing", "I don't know an app called `billing`. Apps I know by name: `hr-portal`, `payments-api`, `payroll-api`; or use an app's Application (client) ID."},
		{"hr-portl", "I don't know an app called `hr-portl`. Did you mean `hr-portal`? Apps I know by name: `hr-portal`, `payments-api`, `payroll-api`; or use an app's Application (client) ID."},
	}
	for _, c := range cases {
		_, err := cat.Resolve(c.typed, "")
		if !errors.Is(err, rotation.ErrInvalid) {
			t.Fatalf("%s: %v", c.typed, err)
		}
		if got := userMessage(err, "ref1"); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.typed, got, c.want)
		}
	}
	_, err := (&StaticCatalog{}).Resolve("payments-api", "")
	if got, want := userMessage(err, ""), "I don't know an app called `payments-api`. No app aliases are configured here: use the app's Application (client) ID."; got != want {
		t.Errorf("no aliases:\n got %q\nwant %q", got, want)
	}
}

func TestAClientIDOfAListedAppIsThatApp(t *testing.T) {
	cat := &StaticCatalog{Apps: map[string]Target{"payments-api": {ClientID: payments, SecretName: "pay-secret"}}}
	got, err := cat.Resolve(payments, "")
	if err != nil || got.Name != "payments-api" || got.SecretName != "pay-secret" || !got.Listed {
		t.Fatalf("%+v %v", got, err)
	}
	other := "55555555-5555-4555-8555-555555555555"
	got, err = cat.Resolve(other, "")
	if err != nil || got.Listed || got.ClientID != other {
		t.Fatalf("%+v %v", got, err)
	}
	msg := targetWords(fmt.Errorf("look up app %s: %w", other, rotation.ErrAppNotFound), got, "ref1")
	want := "I don't know an app with client ID `" + other + "`: it is not one of the listed apps, and Entra ID shows me no app registration with that Application (client) ID. " +
		"Check the ID on the app's Overview page (the Application (client) ID, not the Object ID). " +
		"Apps that are not listed can still be rotated by client ID into an allowed vault, if Keyturn is one of their owners. (reference ref1)"
	if msg != want {
		t.Errorf("unlisted client ID:\n got %q\nwant %q", msg, want)
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a", "", 1}, {"paymets-api", "payments-api", 1}, {"paymenst-api", "payments-api", 1}, {"kitten", "sitting", 3}, {"ab", "ba", 1}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}

// TestHelpListsTheGrammar: the help card lists every command of the
// grammar, audit here included, and words that are no command are said to
// be not understood before the list.
func TestHelpListsTheGrammar(t *testing.T) {
	base := fixture(t, "activity/channel_mention.json")
	for _, c := range []struct{ text, title string }{
		{"<at>Keyturn</at> help", "What I can do"},
		{"<at>Keyturn</at> rotat payments-api", "I did not understand that"},
	} {
		h := newHarness(t, harnessOpts{})
		if code, _ := h.sendSigned(withField(t, as(t, base, devOID), "text", c.text)); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		waitFor(t, "the help card", func() bool { return len(h.conn.all()) == 1 })
		raw := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">").Replace(h.conn.all()[0].Raw)
		if !strings.Contains(raw, c.title) {
			t.Errorf("%s: no %q in %s", c.text, c.title, raw)
		}
		for _, cmd := range command.Commands() {
			if !strings.Contains(raw, `"`+cmd.Usage+`"`) {
				t.Errorf("%s: help lacks %s", c.text, cmd.Usage)
			}
		}
	}
}

func TestOpenRequestWordsSayWhereTheCardIs(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 5, 0, 0, time.UTC)
	open := rotation.ApprovalRequest{ID: "475889dc3a28aee6", State: rotation.ApprovalPending, AppName: "Payments API",
		RequestedBy: rotation.Principal{Name: "Megan Bowen"}, Conversation: "19:general@thread.tacv2;messageid=100",
		CreatedAt: now.Add(-5 * time.Minute), ExpiresAt: now.Add(25 * time.Minute)}
	running := open
	running.State = rotation.ApprovalRunning
	for _, c := range []struct {
		r    rotation.ApprovalRequest
		conv string
		want string
	}{
		{open, "19:general@thread.tacv2;messageid=100", "A request to rotate Payments API is already open: Megan Bowen asked at 12:00 UTC; its card is above in this conversation (reference 475889dc3a28aee6). Approve or reject that one, or ask again after it expires at 12:30 UTC."},
		{open, "19:general@thread.tacv2;messageid=200", "A request to rotate Payments API is already open: Megan Bowen asked at 12:00 UTC; its card is in this channel, in the thread where it was asked (reference 475889dc3a28aee6). Approve or reject that one, or ask again after it expires at 12:30 UTC."},
		{open, "a:1:1chat", "A request to rotate Payments API is already open: Megan Bowen asked at 12:00 UTC; its card is in another conversation (reference 475889dc3a28aee6). Approve or reject that one, or ask again after it expires at 12:30 UTC."},
		{running, "19:general@thread.tacv2;messageid=100", "A rotation of Payments API is already under way: Megan Bowen asked at 12:00 UTC; its card is above in this conversation (reference 475889dc3a28aee6) and follows it to the end. Ask again once it is done if you still need a new secret."},
	} {
		if got := openRequestWords(&rotation.OpenRequestError{Open: c.r}, c.conv, now); got != c.want {
			t.Errorf("\n got %q\nwant %q", got, c.want)
		}
	}
	if got := clock(now.Add(-48*time.Hour), now); got != "23 Nov 12:05 UTC" {
		t.Errorf("another day: %q", got)
	}
}
