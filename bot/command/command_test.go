package command

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/bot/activity"
)

const botID = "28:6a3e2c1b-0d4f-4e5a-8b7c-9d0e1f2a3b4c"

// mention is a mention entity of account id/name with markup text.
func mention(id, name, text string) activity.Entity {
	return activity.Entity{Type: "mention", Text: text, Mentioned: &activity.ChannelAccount{ID: id, Name: name}}
}

// msg builds a message activity addressed to the bot in a conversation of
// type convType.
func msg(convType, text string, entities ...activity.Entity) *activity.Activity {
	return &activity.Activity{
		Type:         activity.TypeMessage,
		Text:         text,
		Recipient:    activity.ChannelAccount{ID: botID, Name: "Keyturn"},
		Conversation: activity.ConversationAccount{ID: "c1", ConversationType: convType, IsGroup: convType != "personal"},
		Entities:     append([]activity.Entity{{Type: "clientInfo"}}, entities...),
	}
}

func personal(text string) *activity.Activity { return msg("personal", text) }

// channel is a channel message that mentions the bot as <at>Keyturn</at>.
func channel(text string) *activity.Activity {
	return msg("channel", text, mention(botID, "Keyturn", "<at>Keyturn</at>"))
}

// fixture decodes a Teams payload from bot/activity's testdata.
func fixture(t *testing.T, name string) *activity.Activity {
	t.Helper()
	path := filepath.Join("..", "activity", "testdata", name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := activity.Decode(b)
	if err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return a
}

const (
	badApp   = "the app must be a client ID or an alias of letters, digits, '-', '_' and '.': rotate <app> [into <vault>]"
	badVault = "the vault must be a Key Vault name or an https URI: rotate <app> [into <vault>]"
	tooMany  = "too many words: rotate <app> [into <vault>]"
	badAudit = "audit works only for this conversation: audit here"
)

func TestParse(t *testing.T) {
	alias64 := "a" + strings.Repeat("b", 63)
	cases := []struct {
		name string
		act  func(t *testing.T) *activity.Activity
		want Command
		err  string // exact ParseError reason; "" when none
	}{
		// Real payloads.
		{"fixture channel mention", func(t *testing.T) *activity.Activity { return fixture(t, "channel_mention.json") },
			Command{Verb: Rotate, App: "payments-api"}, ""},
		{"fixture personal message", func(t *testing.T) *activity.Activity { return fixture(t, "b_personal_message.msdocs.json") },
			Command{Verb: Help, Unknown: true}, ""},
		{"fixture action submit has no text", func(t *testing.T) *activity.Activity { return fixture(t, "action_submit.json") },
			Command{Verb: NotForUs}, ""},

		// Mentions.
		{"mention nbsp", a(channel("<at>Keyturn</at>&nbsp;rotate payments-api")), Command{Verb: Rotate, App: "payments-api"}, ""},
		{"mention in paragraph", a(channel("<p><at>Keyturn</at>&nbsp;rotate payments-api</p>")), Command{Verb: Rotate, App: "payments-api"}, ""},
		{"bare mention", a(channel("<at>Keyturn</at>")), Command{Verb: Help}, ""},
		{"renamed bot", a(msg("channel", "<at>Keyturn (prod)</at> status payments-api",
			mention(botID, "Keyturn (prod)", "<at>Keyturn (prod)</at>"))), Command{Verb: Status, App: "payments-api"}, ""},
		{"impostor with our name", a(msg("channel", "<at>Keyturn</at> rotate payments-api",
			mention("28:ffffffff-0000-0000-0000-000000000000", "Keyturn", "<at>Keyturn</at>"))), Command{Verb: NotForUs}, ""},
		{"other bot only", a(msg("channel", "<at>Other Bot</at> rotate payments-api",
			mention("28:other", "Other Bot", "<at>Other Bot</at>"))), Command{Verb: NotForUs}, ""},
		{"channel without mention", a(msg("channel", "rotate payments-api")), Command{Verb: NotForUs}, ""},
		{"group chat without mention", a(msg("groupChat", "rotate payments-api")), Command{Verb: NotForUs}, ""},
		{"group chat with mention", a(msg("groupChat", "<at>Keyturn</at> whoami",
			mention(botID, "Keyturn", "<at>Keyturn</at>"))), Command{Verb: WhoAmI}, ""},
		{"two mentions, other one as argument", a(msg("channel", "<at>Keyturn</at> status <at>Alice</at>",
			mention(botID, "Keyturn", "<at>Keyturn</at>"), mention("29:alice", "Alice", "<at>Alice</at>"))),
			Command{}, "status needs an app: status <app>"},
		{"two mentions, ours second", a(msg("channel", "<at>Alice</at> <at>Keyturn</at> retire payments-api",
			mention("29:alice", "Alice", "<at>Alice</at>"), mention(botID, "Keyturn", "<at>Keyturn</at>"))),
			Command{Verb: Retire, App: "payments-api"}, ""},
		{"bot mentioned twice", a(msg("channel", "<at>Keyturn</at> rotate x1 <at>Keyturn</at>",
			mention(botID, "Keyturn", "<at>Keyturn</at>"), mention(botID, "Keyturn", "<at>Keyturn</at>"))),
			Command{Verb: Rotate, App: "x1"}, ""},
		{"mention entity without text", a(msg("channel", "<at>Keyturn</at> help",
			mention(botID, "Keyturn", ""))), Command{Verb: Help}, ""},
		{"recipient id case differs", a(msg("channel", "<at>Keyturn</at> whoami",
			mention(strings.ToUpper(botID), "Keyturn", "<at>Keyturn</at>"))), Command{Verb: WhoAmI}, ""},
		{"personal with mention", a(msg("personal", "<at>Keyturn</at> whoami",
			mention(botID, "Keyturn", "<at>Keyturn</at>"))), Command{Verb: WhoAmI}, ""},

		// Personal text, HTML and spacing.
		{"personal rotate", a(personal("rotate payments-api")), Command{Verb: Rotate, App: "payments-api"}, ""},
		{"verb and app case", a(personal("ROTATE Payments-API")), Command{Verb: Rotate, App: "payments-api"}, ""},
		{"html and nbsp", a(personal("<div>rotate&nbsp;&nbsp;payments-api</div>\n")), Command{Verb: Rotate, App: "payments-api"}, ""},
		{"extra spaces and newline", a(personal("  rotate \n\t payments-api   ")), Command{Verb: Rotate, App: "payments-api"}, ""},
		{"line break tag", a(personal("rotate<br>payments-api")), Command{Verb: Rotate, App: "payments-api"}, ""},
		{"zero width space", a(personal("rotate pay\u200bments")), Command{Verb: Rotate, App: "payments"}, ""},
		{"help", a(personal("help")), Command{Verb: Help}, ""},
		{"help shouted", a(personal("Help!")), Command{Verb: Help}, ""},
		{"help with words", a(personal("help rotate")), Command{Verb: Help}, ""},
		{"empty", a(personal("")), Command{Verb: Help}, ""},
		{"unknown verb", a(personal("dance please")), Command{Verb: Help, Unknown: true}, ""},
		{"fullwidth verb", a(personal("ｒｏｔａｔｅ payments")), Command{Verb: Help, Unknown: true}, ""},
		{"status question", a(personal("status payments-api?")), Command{Verb: Status, App: "payments-api"}, ""},
		{"retire full stop", a(personal("retire payments-api.")), Command{Verb: Retire, App: "payments-api"}, ""},
		{"trailing punctuation run", a(personal("status my.app ?!,")), Command{Verb: Status, App: "my.app"}, ""},
		{"whoami", a(personal("WhoAmI ?")), Command{Verb: WhoAmI}, ""},
		{"audit here", a(personal("Audit HERE.")), Command{Verb: AuditHere}, ""},

		// Rotate targets.
		{"client id", a(personal("rotate 6F0C2A4E-1B3D-4C5E-9F70-8A9B0C1D2E3F")),
			Command{Verb: Rotate, App: "6f0c2a4e-1b3d-4c5e-9f70-8a9b0c1d2e3f"}, ""},
		{"into vault name", a(personal("rotate payments-api INTO KV-Prod-01")),
			Command{Verb: Rotate, App: "payments-api", Vault: "kv-prod-01"}, ""},
		{"into vault uri", a(personal("rotate payments-api into https://KV-Prod.vault.azure.net")),
			Command{Verb: Rotate, App: "payments-api", Vault: "https://kv-prod.vault.azure.net/"}, ""},
		{"into vault uri full stop", a(personal("rotate payments-api into https://kv-prod.vault.azure.net/.")),
			Command{Verb: Rotate, App: "payments-api", Vault: "https://kv-prod.vault.azure.net/"}, ""},
		{"into linked uri", a(personal(`rotate payments-api into <a href="https://kv.vault.azure.net/">https://kv.vault.azure.net/</a>`)),
			Command{Verb: Rotate, App: "payments-api", Vault: "https://kv.vault.azure.net/"}, ""},
		{"alias 64", a(personal("rotate " + alias64)), Command{Verb: Rotate, App: alias64}, ""},
		{"alias underscore and dots", a(personal("rotate a_b.c-d")), Command{Verb: Rotate, App: "a_b.c-d"}, ""},

		// Errors.
		{"rotate without app", a(personal("rotate")), Command{}, "rotate needs an app: rotate <app> [into <vault>]"},
		{"rotate bare mention only", a(channel("<at>Keyturn</at> rotate.")), Command{}, "rotate needs an app: rotate <app> [into <vault>]"},
		{"status without app", a(personal("status")), Command{}, "status needs an app: status <app>"},
		{"retire too many", a(personal("retire a b")), Command{}, "too many words: retire <app>"},
		{"whoami with words", a(personal("whoami please")), Command{}, "whoami takes no arguments: whoami"},
		{"audit alone", a(personal("audit")), Command{}, badAudit},
		{"audit elsewhere", a(personal("audit there")), Command{}, badAudit},
		{"shell injection", a(personal("rotate a; rm -rf")), Command{}, badApp},
		{"shell injection spaced", a(personal("rotate a ; rm -rf /")), Command{}, tooMany},
		{"path traversal", a(personal("rotate ../x")), Command{}, badApp},
		{"dot first", a(personal("rotate .hidden")), Command{}, badApp},
		{"dash first", a(personal("rotate -rf")), Command{}, badApp},
		{"alias 65", a(personal("rotate " + alias64 + "c")), Command{}, badApp},
		{"cyrillic lookalike", a(personal("rotate p\u0430yments")), Command{}, badApp},
		{"kelvin sign lookalike", a(personal("rotate \u212Aeyturn")), Command{}, badApp},
		{"escaped ampersand", a(personal("rotate pay&amp;ments")), Command{}, badApp},
		{"escaped script tag", a(personal("rotate &lt;script&gt;")), Command{}, badApp},
		{"backtick", a(personal("rotate `id`")), Command{}, badApp},
		{"into without vault", a(personal("rotate payments-api into")), Command{}, "into needs a vault: rotate <app> [into <vault>]"},
		{"onto", a(personal("rotate payments-api onto kv-prod")), Command{}, tooMany},
		{"into extra", a(personal("rotate payments-api into kv-prod now")), Command{}, tooMany},
		{"vault too short", a(personal("rotate payments-api into kv")), Command{}, badVault},
		{"vault too long", a(personal("rotate payments-api into k" + strings.Repeat("v", 24))), Command{}, badVault},
		{"vault digit first", a(personal("rotate payments-api into 1kv")), Command{}, badVault},
		{"vault double dash", a(personal("rotate payments-api into kv--prod")), Command{}, badVault},
		{"vault dash last", a(personal("rotate payments-api into kv-prod-")), Command{}, badVault},
		{"vault underscore", a(personal("rotate payments-api into kv_prod")), Command{}, badVault},
		{"vault http", a(personal("rotate payments-api into http://kv.vault.azure.net/")), Command{}, badVault},
		{"vault userinfo", a(personal("rotate payments-api into https://u@kv.vault.azure.net/")), Command{}, badVault},
		{"vault path", a(personal("rotate payments-api into https://kv.vault.azure.net/secrets/x")), Command{}, badVault},
		{"vault port", a(personal("rotate payments-api into https://kv.vault.azure.net:8443/")), Command{}, badVault},
		{"vault query", a(personal("rotate payments-api into https://kv.vault.azure.net/?x=1")), Command{}, badVault},
		{"vault single label host", a(personal("rotate payments-api into https://localhost/")), Command{}, badVault},
		{"too long", a(personal("rotate " + strings.Repeat("a", MaxTextBytes))), Command{}, "message too long: commands are at most 1 KB"},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse(c.act(t))
			if c.err != "" {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("Parse = %+v, %v; want ParseError %q", got, err, c.err)
				}
				if pe.Reason != c.err || err.Error() != c.err {
					t.Fatalf("reason = %q, want %q", pe.Reason, c.err)
				}
				if got != (Command{}) {
					t.Fatalf("command with error = %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got != c.want {
				t.Fatalf("Parse = %+v, want %+v", got, c.want)
			}
		})
	}
}

// a wraps a fixed activity for the table.
func a(act *activity.Activity) func(*testing.T) *activity.Activity {
	return func(*testing.T) *activity.Activity { return act }
}

func TestParseText(t *testing.T) {
	cases := []struct {
		text string
		want Command
		err  bool
	}{
		{"rotate payments-api into kv-prod", Command{Verb: Rotate, App: "payments-api", Vault: "kv-prod"}, false},
		{"<at>Keyturn</at>&nbsp;status x", Command{Verb: Status, App: "x"}, false},
		{"retire", Command{}, true},
		{"<AT>Keyturn</At> whoami", Command{Verb: WhoAmI}, false},
		{"\xff<At>x</At> help", Command{Verb: Help, Unknown: true}, false},
		{strings.Repeat(" ", MaxTextBytes+1), Command{}, true},
	}
	for _, c := range cases {
		got, err := ParseText(c.text)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseText(%.40q) = %+v, %v; want %+v (error %v)", c.text, got, err, c.want, c.err)
		}
	}
}

func TestIsClientID(t *testing.T) {
	for s, want := range map[string]bool{
		"6f0c2a4e-1b3d-4c5e-9f70-8a9b0c1d2e3f":   true,
		"6F0C2A4E-1B3D-4C5E-9F70-8A9B0C1D2E3F":   false, // Parse lower-cases first
		"payments-api":                           false,
		"6f0c2a4e1b3d4c5e9f708a9b0c1d2e3f":       false,
		"{6f0c2a4e-1b3d-4c5e-9f70-8a9b0c1d2e3f}": false,
	} {
		if IsClientID(s) != want {
			t.Errorf("IsClientID(%q) = %v", s, !want)
		}
	}
}
