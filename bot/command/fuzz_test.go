package command

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// canary stands for a secret value a user pastes into a command by
// mistake; canaryMarker in a fuzz input becomes it. Parse errors are
// posted in the chat, so they must never repeat it.
const (
	canary       = "Kq8Q~canaryCANARYcanary.0123456789abcdefgh"
	canaryMarker = "~C~"
)

// fixtureTexts returns the text of every Teams fixture that has one, with
// the markup of its mentions.
func fixtureTexts(f *testing.F) (texts, markups []string) {
	files, err := filepath.Glob(filepath.Join("..", "activity", "testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		var a struct {
			Text     string `json:"text"`
			Entities []struct {
				Text string `json:"text"`
			} `json:"entities"`
		}
		if json.Unmarshal(b, &a) != nil || a.Text == "" {
			continue
		}
		texts = append(texts, a.Text)
		for _, e := range a.Entities {
			markups = append(markups, e.Text)
		}
	}
	return texts, markups
}

// canonical writes an accepted command the way a person would type it.
func canonical(cmd Command) string {
	s := string(cmd.Verb)
	if cmd.App != "" {
		s += " " + cmd.App
	}
	if cmd.Vault != "" {
		s += " into " + cmd.Vault
	}
	return s
}

// checkCanonical asserts that an accepted command, written out again, parses
// to itself: normalisation is idempotent and loses nothing.
func checkCanonical(t *testing.T, cmd Command) {
	t.Helper()
	if cmd.Verb == NotForUs || cmd.Unknown {
		return
	}
	again, err := ParseText(canonical(cmd))
	if err != nil || again != cmd {
		t.Fatalf("%+v written as %q parses as %+v, %v", cmd, canonical(cmd), again, err)
	}
}

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
		if strings.Contains(pe.Reason, canary) {
			t.Fatalf("the reason repeats the canary: %q", pe.Reason)
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
		"rotate ~C~", "rotate payments-api into ~C~", "status ~C~", "retire a ~C~", "whoami ~C~", "audit ~C~", "~C~",
		"rotate payments-api into https://~C~.vault.azure.net/", "<at>~C~</at> help",
	} {
		f.Add(s)
	}
	texts, _ := fixtureTexts(f)
	for _, s := range texts {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cmd, err := ParseText(strings.ReplaceAll(s, canaryMarker, canary))
		checkResult(t, cmd, err)
		if err == nil {
			checkCanonical(t, cmd)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add("<at>Keyturn</at> rotate payments-api", "<at>Keyturn</at>", botID, "channel")
	f.Add("<at>K</at><at>K</at> status a", "<at>K</at>", botID, "groupChat")
	f.Add("rotate x", "", "", "personal")
	f.Add("<at>Other</at> rotate x", "<at>Other</at>", "28:other", "channel")
	f.Add("<at>Keyturn</at> rotate ~C~", "<at>Keyturn</at>", botID, "channel")
	texts, markups := fixtureTexts(f)
	for _, s := range texts {
		for _, m := range append(markups, "") {
			f.Add(s, m, botID, "channel")
		}
	}
	f.Fuzz(func(t *testing.T, text, markup, mentionedID, convType string) {
		text = strings.ReplaceAll(text, canaryMarker, canary)
		act := msg(convType, text, mention(mentionedID, "Keyturn", markup))
		cmd, err := Parse(act)
		checkResult(t, cmd, err)
		if err == nil {
			checkCanonical(t, cmd)
		}
		if act.IsGroup() && !strings.EqualFold(mentionedID, botID) && (cmd.Verb != NotForUs || err != nil) {
			t.Fatalf("group message not mentioning the bot parsed as %+v, %v", cmd, err)
		}
	})
}
