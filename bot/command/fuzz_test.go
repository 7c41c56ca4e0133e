package command

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkResult asserts the invariants of any Parse outcome.
func checkResult(t *testing.T, cmd Command, err error) {
	t.Helper()
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Reason == "" || strings.ContainsAny(pe.Reason, "\r\n") {
			t.Fatalf("error %v (%T) is not a one-line ParseError", err, err)
		}
		if cmd != (Command{}) {
			t.Fatalf("command %+v returned with error", cmd)
		}
		return
	}
	switch cmd.Verb {
	case Help, Rotate, Status, Retire, WhoAmI, AuditHere, NotForUs:
	default:
		t.Fatalf("unexpected verb %q", cmd.Verb)
	}
	needsApp := cmd.Verb == Rotate || cmd.Verb == Status || cmd.Verb == Retire
	if needsApp != (cmd.App != "") {
		t.Fatalf("verb %q with app %q", cmd.Verb, cmd.App)
	}
	if cmd.App != "" && !AppPattern.MatchString(cmd.App) {
		t.Fatalf("accepted app %q does not match %s", cmd.App, AppPattern)
	}
	if cmd.Vault != "" {
		if cmd.Verb != Rotate {
			t.Fatalf("vault with verb %q", cmd.Verb)
		}
		if v, err := parseVault(cmd.Vault); err != nil || v != cmd.Vault {
			t.Fatalf("accepted vault %q is not normal (%q, %v)", cmd.Vault, v, err)
		}
		if !utf8.ValidString(cmd.Vault) || strings.ContainsAny(cmd.Vault, " <>\"'`;") {
			t.Fatalf("accepted vault %q has unsafe characters", cmd.Vault)
		}
	}
	if cmd.Unknown && cmd.Verb != Help {
		t.Fatalf("Unknown with verb %q", cmd.Verb)
	}
}

func FuzzParseText(f *testing.F) {
	for _, s := range []string{
		"rotate payments-api", "<at>Keyturn</at>&nbsp;rotate payments-api", "rotate a into https://kv.vault.azure.net/",
		"status x?", "audit here", "whoami", "rotate ../x", "rotate a; rm -rf", "<p>help</p>", "rotate \u212Aey",
		"rotate <b", "<<<>>>", "&#0;", "rotate &#x41;pp into kv-prod", "rotate x into https://[::1]/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cmd, err := ParseText(s)
		checkResult(t, cmd, err)
	})
}

func FuzzParse(f *testing.F) {
	f.Add("<at>Keyturn</at> rotate payments-api", "<at>Keyturn</at>", botID, "channel")
	f.Add("<at>K</at><at>K</at> status a", "<at>K</at>", botID, "groupChat")
	f.Add("rotate x", "", "", "personal")
	f.Add("<at>Other</at> rotate x", "<at>Other</at>", "28:other", "channel")
	f.Fuzz(func(t *testing.T, text, markup, mentionedID, convType string) {
		act := msg(convType, text, mention(mentionedID, "Keyturn", markup))
		cmd, err := Parse(act)
		checkResult(t, cmd, err)
		if act.IsGroup() && !strings.EqualFold(mentionedID, botID) && (cmd.Verb != NotForUs || err != nil) {
			t.Fatalf("group message not mentioning the bot parsed as %+v, %v", cmd, err)
		}
	})
}
