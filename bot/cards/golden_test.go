package cards

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden cards under testdata/")

// goldenBytes is a card's golden file content: indented JSON and a final
// newline, so diffs of the files are readable.
func goldenBytes(t *testing.T, c Card) []byte {
	t.Helper()
	_, raw := Attachment(c)
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		t.Fatalf("indent: %v", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

func TestGoldenCards(t *testing.T) {
	cards := goldens()
	for name, c := range cards {
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			got := goldenBytes(t, c)
			path := filepath.Join("testdata", name)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./bot/cards -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the builder's output; if the change is intended, run go test ./bot/cards -update\n--- got\n%s", path, got)
			}
		})
	}
	// Every file under testdata/ is a golden of the table: none is stale.
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := cards[filepath.Base(f)]; !ok {
			if *update {
				os.Remove(f)
				continue
			}
			t.Errorf("%s has no builder in goldens(): remove it or add its card", f)
		}
	}
}

func TestCardEnvelope(t *testing.T) {
	for name, c := range goldens() {
		ct, raw := Attachment(c)
		if ct != "application/vnd.microsoft.card.adaptive" {
			t.Fatalf("content type %q", ct)
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if doc["$schema"] != "http://adaptivecards.io/schemas/adaptive-card.json" || doc["type"] != "AdaptiveCard" || doc["version"] != "1.5" {
			t.Errorf("%s: envelope %v %v %v", name, doc["$schema"], doc["type"], doc["version"])
		}
		if body, _ := doc["body"].([]any); len(body) == 0 {
			t.Errorf("%s: empty body", name)
		}
		if len(raw) > 20000 {
			t.Errorf("%s: %d bytes, too close to Teams' message limit", name, len(raw))
		}
		// Deterministic: the same input gives the same bytes.
		if _, again := Attachment(goldens()[name]); !bytes.Equal(raw, again) {
			t.Errorf("%s: output differs between two builds", name)
		}
		// Every TextBlock wraps.
		walk(doc, func(obj map[string]any) {
			if obj["type"] == "TextBlock" && obj["wrap"] != true {
				t.Errorf("%s: TextBlock %q does not wrap", name, obj["text"])
			}
		})
	}
	if _, raw := Attachment(Card{}); string(raw) != `{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json","type":"AdaptiveCard","version":"1.5","body":[]}` {
		t.Errorf("zero card = %s", raw)
	}
}

// walk calls f on every JSON object in v, depth first.
func walk(v any, f func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		f(x)
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			walk(x[k], f)
		}
	case []any:
		for _, e := range x {
			walk(e, f)
		}
	}
}
