package cards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The adaptivecards library reads an action's "fallback" only while parsing,
// and only when it cannot use the action itself (the fallback replaces it);
// its toJSON never writes "fallback" back. tools/cardcheck/validate.mjs
// reports every property missing from the round trip, so a card whose
// Action.Execute carries the Action.Submit fallback Teams recommends for
// old clients would fail, and the fallback itself would never be checked
// (a 1.5 parser never needs it). liftFallbacks therefore gives the
// validator a copy of the card in which each action's fallback stands in
// the same actions list right after its action: both are then parsed,
// validated and round-tripped in full. Nothing else changes, so a
// "fallback" anywhere but on an action in an actions list (on a body
// element, say) still fails.

// liftFallbacks returns raw with every object fallback of an action moved
// out to follow that action, and how many it moved.
func liftFallbacks(raw []byte) ([]byte, int, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, 0, err
	}
	n := 0
	var lift func(v any)
	lift = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if list, ok := x["actions"].([]any); ok {
				out := make([]any, 0, len(list))
				for _, a := range list {
					out = append(out, a)
					obj, _ := a.(map[string]any)
					typ, _ := obj["type"].(string)
					if fb, ok := obj["fallback"].(map[string]any); ok && strings.HasPrefix(typ, "Action.") {
						delete(obj, "fallback")
						out = append(out, fb)
						n++
					}
				}
				x["actions"] = out
			}
			for _, e := range x {
				lift(e)
			}
		case []any:
			for _, e := range x {
				lift(e)
			}
		}
	}
	lift(doc)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), n, nil
}

// validatorInputs returns the files to give the validator for files
// (relative to root): the file itself, or a copy with its fallbacks lifted
// written to dir under the same name.
func validatorInputs(t *testing.T, root, dir string, files []string) []string {
	t.Helper()
	out := make([]string, len(files))
	for i, f := range files {
		raw, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		lifted, n, err := liftFallbacks(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[i] = f
		if n > 0 {
			out[i] = filepath.Join(dir, filepath.Base(f))
			if err := os.WriteFile(out[i], lifted, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

func TestLiftFallbacks(t *testing.T) {
	in := `{"type":"AdaptiveCard","body":[{"type":"TextBlock","text":"<b>","fallback":"drop"},{"type":"ActionSet","actions":[{"type":"Action.Execute","verb":"x","fallback":{"type":"Action.Submit","title":"X"}}]}],` +
		`"actions":[{"type":"Action.Execute","verb":"a","fallback":{"type":"Action.Submit","data":{"n":1.50}}},{"type":"Action.Execute","verb":"b","fallback":"drop"}]}`
	got, n, err := liftFallbacks([]byte(in))
	if err != nil || n != 2 {
		t.Fatalf("lifted %d, %v", n, err)
	}
	var doc, want any
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"type":"AdaptiveCard","body":[{"type":"TextBlock","text":"<b>","fallback":"drop"},{"type":"ActionSet","actions":[{"type":"Action.Execute","verb":"x"},{"type":"Action.Submit","title":"X"}]}],` +
		`"actions":[{"type":"Action.Execute","verb":"a"},{"type":"Action.Submit","data":{"n":1.50}},{"type":"Action.Execute","verb":"b","fallback":"drop"}]}`
	if err := json.Unmarshal([]byte(wantJSON), &want); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(doc) != fmt.Sprint(want) {
		t.Errorf("lifted:\n%s\nwant %s", got, wantJSON)
	}
	if !bytes.Contains(got, []byte(`1.50`)) || !bytes.Contains(got, []byte(`"<b>"`)) {
		t.Errorf("numbers or text changed:\n%s", got)
	}
}

// TestOfficialValidatorChecksFallbacks proves lifting hides nothing: a
// fault inside a fallback, or a fallback where none belongs, still fails.
func TestOfficialValidatorChecksFallbacks(t *testing.T) {
	root, script := cardcheck(t)
	const head = `{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json","type":"AdaptiveCard","version":"1.5",`
	cases := []struct {
		name, card, want string
	}{
		{"valid", head + `"body":[{"type":"TextBlock","text":"x","wrap":true}],"actions":[{"type":"Action.Execute","title":"A","verb":"a","fallback":{"type":"Action.Submit","title":"A","data":{"verb":"a"}}}]}`, ""},
		{"misspelled in fallback", head + `"body":[{"type":"TextBlock","text":"x","wrap":true}],"actions":[{"type":"Action.Execute","title":"A","verb":"a","fallback":{"type":"Action.Submit","title":"A","dataa":{"verb":"a"}}}]}`, "UnknownProperty: $.actions[1].dataa"},
		{"unknown fallback type", head + `"body":[{"type":"TextBlock","text":"x","wrap":true}],"actions":[{"type":"Action.Execute","title":"A","verb":"a","fallback":{"type":"Action.Nope","title":"A"}}]}`, "Action.Nope"},
		{"fallback on an element", head + `"body":[{"type":"TextBlock","text":"x","wrap":true,"fallback":{"type":"TextBlock","text":"y"}}]}`, "UnknownProperty: $.body[0].fallback"},
	}
	dir := t.TempDir()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".json")
			if err := os.WriteFile(f, []byte(tc.card), 0o644); err != nil {
				t.Fatal(err)
			}
			rel, err := filepath.Rel(root, f)
			if err != nil {
				t.Fatal(err)
			}
			out, code := runValidator(t, root, script, validatorInputs(t, root, t.TempDir(), []string{rel})...)
			switch {
			case tc.want == "" && code != 0:
				t.Errorf("exit %d, want 0:\n%s", code, out)
			case tc.want != "" && (code != 1 || !strings.Contains(out, tc.want)):
				t.Errorf("exit %d, want 1 with %q:\n%s", code, tc.want, out)
			}
		})
	}
}
