package command

import (
	"strings"
	"testing"
)

// TestCommandsAreTheGrammar proves Commands describes what Parse accepts:
// each usage line, with its placeholders filled in, parses to the verb it
// is listed under, and every summary fits the Teams command menu.
func TestCommandsAreTheGrammar(t *testing.T) {
	fill := strings.NewReplacer("<app>", "payments-api", "[into <vault>]", "into kv-payments", "[within <days>d]", "within 14d")
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
	for _, v := range []Verb{Help, Rotate, Status, Retire, WhoAmI, AuditHere, RadarHere, Expiring} {
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

func TestRadarCommands(t *testing.T) {
	for _, c := range []struct {
		text string
		verb Verb
		days int
		err  string
	}{
		{"radar here", RadarHere, 0, ""},
		{"Radar HERE", RadarHere, 0, ""},
		{"radar", "", 0, "works only for this conversation"},
		{"radar there", "", 0, "works only for this conversation"},
		{"expiring", Expiring, 0, ""},
		{"expiring within 14d", Expiring, 14, ""},
		{"expiring within 14", Expiring, 14, ""},
		{"expiring WITHIN 2w", Expiring, 14, ""},
		{"expiring within 365d", Expiring, 365, ""},
		{"expiring within 366d", "", 0, "between 1d and 365d"},
		{"expiring within 0d", "", 0, "between 1d and 365d"},
		{"expiring within d", "", 0, "number of days"},
		{"expiring within 99999999999999999999d", "", 0, "number of days"},
		{"expiring within -3d", "", 0, "number of days"},
		{"expiring soon", "", 0, "say how far ahead"},
		{"expiring within 3d please", "", 0, "say how far ahead"},
	} {
		got, err := ParseText(c.text)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: %+v %v, want an error saying %q", c.text, got, err, c.err)
			}
			continue
		}
		if err != nil || got.Verb != c.verb || got.WithinDays != c.days {
			t.Errorf("%q: %+v %v, want %q within %d", c.text, got, err, c.verb, c.days)
		}
	}
}
