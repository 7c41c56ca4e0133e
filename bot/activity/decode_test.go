package activity

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestDecodeRejects(t *testing.T) {
	huge := `{"type":"message","text":"` + strings.Repeat("a", MaxBodyBytes) + `"}`
	cases := []struct {
		name string
		body string
		is   error // nil: any error
	}{
		{"empty", "", ErrNotObject},
		{"white space", " \n\t ", ErrNotObject},
		{"null", "null", ErrNotObject},
		{"array", `[{"type":"message"}]`, ErrNotObject},
		{"string", `"message"`, ErrNotObject},
		{"number", `42`, ErrNotObject},
		{"bom", "\ufeff{\"type\":\"message\"}", ErrNotObject},
		{"two objects", `{"type":"message"} {"type":"message"}`, ErrNotObject},
		{"trailing garbage", `{"type":"message"}x`, ErrNotObject},
		{"truncated", `{"type":"message","text":`, nil},
		{"no type", `{"text":"hi"}`, ErrNoType},
		{"empty type", `{"type":""}`, ErrNoType},
		{"type not a string", `{"type":5}`, nil},
		{"entities not an array", `{"type":"message","entities":{"type":"mention"}}`, nil},
		{"bad timestamp", `{"type":"message","timestamp":"yesterday"}`, ErrMalformed},
		{"too large", huge, ErrTooLarge},
		{"too deep", `{"type":"message","value":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`, ErrTooDeep},
		{"too deep unbalanced", `{"type":"message","value":` + strings.Repeat(`{"a":`, 100000), ErrTooDeep},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Decode([]byte(c.body))
			if err != nil && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrNotObject) && !errors.Is(err, ErrTooDeep) && !errors.Is(err, ErrNoType) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v wraps no sentinel", err)
			}
			if err == nil {
				t.Fatalf("Decode accepted %q as %+v", c.name, a)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Fatalf("err = %v, want %v", err, c.is)
			}
		})
	}
}

func TestDecodeValueAnyJSON(t *testing.T) {
	cases := []struct {
		name, value string
		has         bool
	}{
		{"object", `{"verb":"approve"}`, true},
		{"string", `"approve"`, true},
		{"array", `[1,2,3]`, true},
		{"number", `3.5`, true},
		{"bool", `false`, true},
		{"null", `null`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Decode([]byte(`{"type":"message","value":` + c.value + `}`))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if string(a.Value) != c.value {
				t.Errorf("Value = %s, want %s", a.Value, c.value)
			}
			if a.HasValue() != c.has {
				t.Errorf("HasValue = %v, want %v", a.HasValue(), c.has)
			}
		})
	}
	a, err := Decode([]byte(`{"type":"message"}`))
	if err != nil || a.HasValue() || a.Value != nil {
		t.Fatalf("absent value: %v %v %q", err, a.HasValue(), a.Value)
	}
}

func TestDecodeIgnoresUnknownFields(t *testing.T) {
	a, err := Decode([]byte(`{"type":"message","text":"hi","surprise":{"deep":[1,{"x":null}]},
		"entities":[{"type":"mention","mentioned":{"id":"28:b","name":"B","role":"bot"},"text":"<at>B</at>","extra":1}],
		"channelData":{"tenant":{"id":"t1","other":true},"newThing":"x"}}`))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if a.Text != "hi" || a.TenantID() != "t1" {
		t.Fatalf("decoded %+v", a)
	}
	m := a.Mentions()
	if len(m) != 1 || m[0].Mentioned.ID != "28:b" || m[0].Text != "<at>B</at>" {
		t.Fatalf("Mentions = %+v", m)
	}
}

func TestMentionsSkipsIncomplete(t *testing.T) {
	a, err := Decode([]byte(`{"type":"message","entities":[{"type":"mention","text":"<at>x</at>"},
		{"type":"clientInfo"},{"type":"mention","mentioned":{"id":"29:u"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if m := a.Mentions(); len(m) != 1 || m[0].Mentioned.ID != "29:u" {
		t.Fatalf("Mentions = %+v", m)
	}
}

func TestRead(t *testing.T) {
	a, err := Read(strings.NewReader(`  {"type":"typing"}  `))
	if err != nil || a.Type != TypeTyping {
		t.Fatalf("Read = %+v, %v", a, err)
	}
	// An endless body stops at the limit.
	endless := io.MultiReader(strings.NewReader(`{"type":"message","text":"`), infinite{})
	if _, err := Read(endless); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("endless body: err = %v, want ErrTooLarge", err)
	}
	boom := errors.New("connection reset")
	if _, err := Read(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Fatalf("reader error: err = %v", err)
	}
}

// infinite is a reader of endless 'a's.
type infinite struct{}

func (infinite) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func TestTenantIDAndGroup(t *testing.T) {
	cases := []struct {
		name, body, tenant string
		group              bool
	}{
		{"channelData wins", `{"type":"message","channelData":{"tenant":{"id":"cd"}},"conversation":{"tenantId":"conv"}}`, "cd", false},
		{"conversation fallback", `{"type":"message","conversation":{"tenantId":"conv","conversationType":"groupChat"}}`, "conv", true},
		{"none", `{"type":"message","conversation":{"isGroup":true}}`, "", true},
		{"personal", `{"type":"message","conversation":{"conversationType":"personal"}}`, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Decode([]byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if a.TenantID() != c.tenant || a.IsGroup() != c.group {
				t.Fatalf("TenantID = %q IsGroup = %v, want %q %v", a.TenantID(), a.IsGroup(), c.tenant, c.group)
			}
		})
	}
}

func TestFromActivity(t *testing.T) {
	a, err := Decode(readFixture(t, "testdata/channel_mention.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := FromActivity(a)
	want := ConversationReference{
		ServiceURL:       "https://smba.trafficmanager.net/amer/<tenant-id>/",
		ChannelID:        "msteams",
		ConversationID:   "19:<channel>@thread.tacv2;messageid=1771290107407",
		ConversationType: "channel",
		TenantID:         "<tenant-id>",
		BotID:            "28:<bot-app-id>",
		BotName:          "Keyturn",
		ActivityID:       "1771290107407",
	}
	if got != want {
		t.Fatalf("FromActivity = %+v\nwant %+v", got, want)
	}
}

func TestDecodeDepthLimit(t *testing.T) {
	at := func(n int) string {
		return `{"type":"message","value":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}`
	}
	if _, err := Decode([]byte(at(MaxDepth))); err != nil {
		t.Fatalf("%d deep refused: %v", MaxDepth, err)
	}
	if _, err := Decode([]byte(at(MaxDepth + 1))); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("%d deep: %v", MaxDepth+1, err)
	}
	// Brackets in strings, escaped quotes included, do not count.
	s := `{"type":"message","text":"\"` + strings.Repeat("[{", 200) + `"}`
	if _, err := Decode([]byte(s)); err != nil {
		t.Fatalf("brackets in a string: %v", err)
	}
}
