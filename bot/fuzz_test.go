package bot

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/bot/cards"
)

// fuzzCanary stands for a secret value pasted into a card (the reject
// reason box) or forged into its data; fuzzMarker in an input becomes it.
const (
	fuzzCanary = "Kq8Q~canaryCANARYcanary.0123456789abcdefgh"
	fuzzMarker = "~C~"
)

// goldenActions returns, for every Action.Execute and Action.Submit in the
// golden cards, the invoke value Teams sends for a click (Execute) or the
// message value (Submit), with the reason input merged in as clients do.
func goldenActions(t testing.TB) (execute, submit [][]byte) {
	files, err := filepath.Glob(filepath.Join("cards", "testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cards: %v", err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			data, _ := v["data"].(map[string]any)
			switch v["type"] {
			case "Action.Execute":
				withReason := map[string]any{cards.ReasonInputID: fuzzMarker}
				for k, x := range data {
					withReason[k] = x
				}
				for _, d := range []map[string]any{data, withReason} {
					b, _ := json.Marshal(map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": v["verb"], "data": d}, "trigger": "manual"})
					execute = append(execute, b)
				}
			case "Action.Submit":
				data[cards.ReasonInputID] = fuzzMarker
				b, _ := json.Marshal(data)
				submit = append(submit, b)
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var card any
		if err := json.Unmarshal(b, &card); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		walk(card)
	}
	if len(execute) == 0 || len(submit) == 0 {
		t.Fatal("the golden cards hold no actions")
	}
	return execute, submit
}

// FuzzCardAction feeds arbitrary invoke and submit values, seeded with the
// actions of every golden card, to the decoding the webhook does before it
// decides anything. It must not panic. A refused value comes back as
// errActionUnreadable with nothing read (never half-read data), and no
// error quotes the canary. Accepted data round-trips through the card's
// own encoding, and a Submit's verb is the one its data carries.
func FuzzCardAction(f *testing.F) {
	execute, submit := goldenActions(f)
	for _, v := range append(execute, submit...) {
		f.Add(v)
	}
	for _, s := range []string{
		`{"action":{"type":"Action.Execute","verb":"approve","data":{"requestId":"r","digest":5}}}`,
		`{"action":{"type":"Action.Execute","verb":"reject","data":{"requestId":"r","digest":"d","reason":["~C~"]}}}`,
		`{"action":{"type":"Action.Execute","verb":"approve","data":"~C~"}}`,
		`{"action":{"type":"Action.Execute","verb":"approve","data":null}}`,
		`{"action":{"type":"Action.Submit","verb":"approve"}}`, `{"action":null}`, `{"action":"~C~"}`,
		`{"verb":"approve","requestId":"r","digest":"d","reason":"~C~"}`, `{"verb":5}`, `null`, `[]`, `"~C~"`, ``,
		`{"verb":"approve","requestId":"r","digest":"d","Digest":"e"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		value = bytes.ReplaceAll(value, []byte(fuzzMarker), []byte(fuzzCanary))
		if a, err := decodeExecute(value); err != nil {
			refused(t, a, err)
		} else {
			if !isObject(value) {
				t.Fatalf("Execute accepted a value that is not an object: %q", value)
			}
			readData(t, a.Data)
		}
		a, err := decodeSubmit(value)
		if err != nil {
			refused(t, a, err)
			return
		}
		if !isObject(value) || !bytes.Equal(a.Data, value) {
			t.Fatalf("Submit accepted %q as %+v", value, a)
		}
		d, ok := readData(t, a.Data)
		if !ok {
			return
		}
		if d.Verb != a.Verb {
			t.Fatalf("verb %q read as %q", a.Verb, d.Verb)
		}
	})
}

func refused(t *testing.T, a cardAction, err error) {
	t.Helper()
	if !errors.Is(err, errActionUnreadable) || a.Verb != "" || a.Data != nil {
		t.Fatalf("refusal %v with %+v", err, a)
	}
	if strings.Contains(err.Error(), fuzzCanary) {
		t.Fatalf("error quotes the canary: %v", err)
	}
}

// readData decodes raw as the webhook does and checks the outcome: refused
// whole, or read so that the card's own encoding of it reads back the same.
func readData(t *testing.T, raw json.RawMessage) (cards.ActionData, bool) {
	t.Helper()
	d, err := actionData(raw)
	if err != nil {
		if !errors.Is(err, errActionUnreadable) || d != (cards.ActionData{}) {
			t.Fatalf("refused data %q as %+v, %v", raw, d, err)
		}
		if strings.Contains(err.Error(), fuzzCanary) {
			t.Fatalf("error quotes the canary: %v", err)
		}
		return d, false
	}
	if trimmed := bytes.TrimSpace(raw); len(trimmed) > 0 && !bytes.Equal(trimmed, []byte("null")) && !isObject(raw) {
		t.Fatalf("accepted data that is not an object: %q", raw)
	}
	enc, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	back, err := actionData(enc)
	if err != nil || back != d {
		t.Fatalf("data %+v round-tripped as %+v, %v", d, back, err)
	}
	return d, true
}

func isObject(b []byte) bool {
	t := bytes.TrimSpace(b)
	return len(t) > 0 && t[0] == '{' && json.Valid(t)
}
