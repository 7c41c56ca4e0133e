package command

import (
	"strings"
	"testing"
)

// TestCommandsAreTheGrammar proves Commands describes what Parse accepts:
// each usage line, with its placeholders filled in, parses to the verb it
// is listed under, and every summary fits the Teams command menu.
func TestCommandsAreTheGrammar(t *testing.T) {
	fill := strings.NewReplacer("<app>", "payments-api", "[into <vault>]", "into kv-payments")
	seen := map[Verb]bool{}
	for _, c := range Commands() {
		if seen[c.Verb] {
			t.Errorf("%q listed twice", c.Verb)
		}
		seen[c.Verb] = true
		if !strings.HasPrefix(c.Usage, string(c.Verb)) {
			t.Errorf("usage %q does not start with the verb %q", c.Usage, c.Verb)
		}
		if c.Summary == "" || len(c.Summary) > 128 {
			t.Errorf("%q: summary of %d characters, want 1..128", c.Verb, len(c.Summary))
		}
		got, err := ParseText(fill.Replace(c.Usage))
		if err != nil || got.Verb != c.Verb || got.Unknown {
			t.Errorf("usage %q parses to %+v, %v; want verb %q", c.Usage, got, err, c.Verb)
		}
	}
	for _, v := range []Verb{Help, Rotate, Status, Retire, WhoAmI, AuditHere} {
		if !seen[v] {
			t.Errorf("verb %q is missing from Commands", v)
		}
	}
	// A first word that names no command is help for an unknown verb.
	if got, err := ParseText("frobnicate payments-api"); err != nil || got.Verb != Help || !got.Unknown {
		t.Errorf("unknown verb: %+v, %v", got, err)
	}
}

// TestCommandsIsACopy proves a caller cannot change the grammar through
// the slice Commands returns.
func TestCommandsIsACopy(t *testing.T) {
	c := Commands()
	c[0].Verb = "mutated"
	if Commands()[0].Verb == "mutated" {
		t.Fatal("Commands returned the grammar itself")
	}
}
