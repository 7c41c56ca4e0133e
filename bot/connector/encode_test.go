package connector

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/keyturn/keyturn/bot/activity"
)

// TestEncodeMeansWhatMarshalMeans holds encode to json.Marshal: for every
// shape of activity the two bodies decode to the same value.
func TestEncodeMeansWhatMarshalMeans(t *testing.T) {
	card := checked(t, `{"type":"AdaptiveCard","body":[{"type":"TextBlock","text":"<app> & \"q\" \u2028 é"}],"n":[1,2.5,-3e2,true,null]}`)
	spaced := " {\n \"a\" : [ 1 , 2 ] }\t"
	cases := map[string]Activity{
		"no raw parts":    {Type: TypeMessage, Text: "hello <b>", ReplyToID: "1:x", Conversation: &Conversation{ID: "19:a@thread.tacv2;messageid=1"}},
		"one card":        {Type: TypeMessage, Attachments: []Attachment{{ContentType: ContentTypeAdaptiveCard, Content: card}}, From: &Account{ID: "28:bot", Name: "Keyturn"}},
		"two attachments": {Attachments: []Attachment{{ContentType: "a\"b<", Content: card}, {ContentType: "text/plain"}}},
		"channel data":    {Type: TypeTyping, ChannelData: json.RawMessage(`{"notification":{"alert":true}}`)},
		"white space":     {Attachments: []Attachment{{ContentType: ContentTypeAdaptiveCard, Content: checked(t, spaced)}}, ChannelData: json.RawMessage(spaced)},
		"scalar content":  {Attachments: []Attachment{{ContentType: "x", Content: checked(t, `"just a string"`)}}},
		"empty":           {},
	}
	for name, act := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := encode(act)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(act)
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("encode made invalid JSON %s: %v", got, err)
			}
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("encode  %s\nmarshal %s", got, want)
			}
		})
	}
}

// TestInvalidRawJSONIsRefused: what json.Marshal refuses as attachment
// content NewJSON refuses, and as channel data encode refuses; neither
// error quotes the value.
func TestInvalidRawJSONIsRefused(t *testing.T) {
	for _, bad := range []string{`{"a":`, `{"a":1}{"b":2}`, `{'a':1}`, `canary-not-json`, " "} {
		if _, err := json.Marshal(json.RawMessage(bad)); err == nil {
			t.Fatalf("json.Marshal accepted %q: the test's premise is wrong", bad)
		}
		if _, err := NewJSON([]byte(bad)); err == nil || err.Error() != errInvalidRaw.Error() {
			t.Errorf("NewJSON(%q) = %v, want errInvalidRaw", bad, err)
		}
		if _, err := encode(Activity{ChannelData: json.RawMessage(bad)}); err == nil || err.Error() != errInvalidRaw.Error() {
			t.Errorf("encode with channel data %q = %v, want errInvalidRaw", bad, err)
		}
	}
}

// TestJSONIsACopy: changing the bytes a JSON was made from changes
// nothing that was checked.
func TestJSONIsACopy(t *testing.T) {
	src := []byte(`{"a":1}`)
	j := checked(t, string(src))
	j2, err := NewJSON(src)
	if err != nil {
		t.Fatal(err)
	}
	src[0] = 'x'
	if j2.String() != j.String() || !json.Valid([]byte(j2.String())) {
		t.Errorf("NewJSON kept the caller's bytes: %s", j2)
	}
}

func checked(tb testing.TB, s string) JSON {
	tb.Helper()
	j, err := NewJSON([]byte(s))
	if err != nil {
		tb.Fatal(err)
	}
	return j
}

// BenchmarkEncodeReply compares encode with json.Marshal on a reply
// carrying a 6 KB card, the shape of the help card reply.
func BenchmarkEncodeReply(b *testing.B) {
	card := []byte(`{"type":"AdaptiveCard","version":"1.5","body":[`)
	for i := 0; i < 60; i++ {
		if i > 0 {
			card = append(card, ',')
		}
		card = append(card, `{"type":"TextBlock","text":"rotate <app> [vault] — asks for a new secret","wrap":true}`...)
	}
	card = append(card, "]}"...)
	act := fill(activity.ConversationReference{BotID: "28:bot", BotName: "Keyturn", ConversationID: "19:ch@thread.tacv2;messageid=1"}, Activity{Attachments: []Attachment{{ContentType: ContentTypeAdaptiveCard, Content: checked(b, string(card))}}, ReplyToID: "1:abc"})
	for _, c := range []struct {
		name string
		f    func(Activity) ([]byte, error)
	}{{"encode", encode}, {"json.Marshal", func(a Activity) ([]byte, error) { return json.Marshal(a) }}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.f(act); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
