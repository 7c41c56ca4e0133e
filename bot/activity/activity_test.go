package activity

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// want lists what a fixture must decode to; zero fields are checked too.
type want struct {
	typ, id, channelID, serviceURL     string
	fromID, fromName, callerOID        string
	recipientID, recipientName         string
	convID, convType, convTenant       string
	isGroup                            bool
	tenant, text, replyToID, cardReply string
	mentions                           []Entity
	entityTypes                        []string
	membersAdded                       []string
	action, eventType, teamID          string
	channelDataChannelID, sourceName   string
	locale                             string
	timestamp                          time.Time
	value                              string // compact JSON; "" when absent
}

func TestDecodeFixtures(t *testing.T) {
	cases := map[string]want{
		"b_personal_message.msdocs.json": {
			typ: "message", id: "1485983408511", channelID: "msteams",
			serviceURL: "https://smba.trafficmanager.net/amer/",
			fromID:     "29:1XJKJMvc5GBtc2JwZq0oj8tHZmzrQgFmB39ATiQWA85gQtHieVkKilBZ9XHoq9j7Zaqt7CZ-NJWi7me2kHTL3Bw",
			fromName:   "Megan Bowen", callerOID: "7faf8ab2-3d56-4244-b585-20c8a42ed2b8",
			recipientID: "28:c9e8c047-2a74-40a2-b28a-b162d5f5327c", recipientName: "Teams TestBot",
			convID:      "a:17I0kl9EkpE1O9PH5TWrzrLNwnWWcfrU7QZjKR0WSfOpzbfcAg2IaydGElSo10tVr4C7Fc6GtieTJX663WuJCc1uA83n4CSrHSgGBj5XNYLcVlJAs2ZX8DbYBPck201w-",
			convType:    "personal",
			tenant:      "72f988bf-86f1-41af-91ab-2d7cd011db47",
			text:        "Hello Teams TestBot.Sending bold-italic rich text",
			entityTypes: []string{"clientInfo"},
			locale:      "en-US",
			timestamp:   time.Date(2017, 2, 1, 21, 10, 7, 437e6, time.UTC),
		},
		"e_conversationUpdate_bot_added_personal.msdocs.json": {
			typ: "conversationUpdate", id: "f:5f85c2ad", channelID: "msteams",
			serviceURL: "https://smba.trafficmanager.net/amer-client-ss.msg/",
			fromID:     "29:<USERID>", callerOID: "***",
			recipientID: "28:<BOT ID>", recipientName: "<BOT NAME>",
			convID: "***", convType: "personal",
			tenant:       "<TENANT ID>",
			membersAdded: []string{"28:f5d48856-5b42-41a0-8c3a-c5f944b679b0", "29:<userID>"},
			timestamp:    time.Date(2019, 4, 23, 10, 17, 44, 349e6, time.UTC),
		},
		"e_conversationUpdate_bot_added_to_team.msdocs.json": {
			typ: "conversationUpdate", id: "f:0b9079f4-d4d3-3d8e-b883-798298053c7e", channelID: "msteams",
			serviceURL: "https://smba.trafficmanager.net/amer/",
			fromID:     "29:1ljv6N86roXr5pjPrCJVIz6xHh5QxjI....", callerOID: "eddfa9d4-346e-4cce-a18f-fa6261ad776b",
			recipientID: "28:608cacfd-1cea-40c9-b678-4b93e69bb72b", recipientName: "Test Bot",
			convID: "19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2", convType: "channel",
			convTenant: "b28fdbfd-2b78-4f93-b0f8-8881793f0f8f", isGroup: true,
			tenant:       "b28fdbfd-2b78-4f93-b0f8-8881793f0f8f",
			membersAdded: []string{"28:608cacfd-1cea-40c9-b678-4b93e69bb72b"},
			eventType:    "teamMemberAdded",
			teamID:       "19:zFLSDFWsesfzcmKArqKJ-65aOXJz@sgf462H2wz41@thread.tacv2",
			timestamp:    time.Date(2021, 12, 7, 22, 34, 56, 534e6, time.UTC),
		},
		"f_installationUpdate_add.msdocs.json": {
			typ: "installationUpdate", id: "f:816eb23d-bfa1-afa3-dfeb-d2aa338e9541", channelID: "msteams",
			serviceURL: "https://smba.trafficmanager.net/amer/",
			fromID:     "29:1ljv6N86roXr5pjPrCJVIz6xHh5QxjI....", callerOID: "eddfa9d4-346e-4cce-a18f-fa6261ad776b",
			recipientID: "28:608cacfd-1cea-40c9-b678-4b93e69bb72b", recipientName: "Test Bot",
			convID: "19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2", convType: "channel",
			convTenant: "b28fdbfd-2b78-4f93-b0f8-8881793f0f8f", isGroup: true,
			tenant:               "b28fdbfd-2b78-4f93-b0f8-8881793f0f8f",
			entityTypes:          []string{"clientInfo"},
			action:               "add",
			teamID:               "19:zFLSDFWsesfzcmKArqKJ-65aOXJz@sgf462H2wz41@thread.tacv2",
			channelDataChannelID: "19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2",
			sourceName:           "message",
			locale:               "en-US",
			timestamp:            time.Date(2021, 11, 9, 4, 47, 30, 910e6, time.UTC),
		},
		"channel_mention.json": {
			typ: "message", id: "1771290107407", channelID: "msteams",
			serviceURL: "https://smba.trafficmanager.net/amer/<tenant-id>/",
			fromID:     "29:<user-mri>", fromName: "Test User", callerOID: "<user-object-id>",
			recipientID: "28:<bot-app-id>", recipientName: "Keyturn",
			convID: "19:<channel>@thread.tacv2;messageid=1771290107407", convType: "channel",
			convTenant: "<tenant-id>", isGroup: true, tenant: "<tenant-id>",
			text: "<at>Keyturn</at> rotate payments-api",
			mentions: []Entity{{Type: "mention", Text: "<at>Keyturn</at>",
				Mentioned: &ChannelAccount{ID: "28:<bot-app-id>", Name: "Keyturn"}}},
			entityTypes:          []string{"mention", "clientInfo"},
			teamID:               "19:<team>@thread.tacv2",
			channelDataChannelID: "19:<channel>@thread.tacv2",
		},
		"emulator_message.json": {
			typ: "message", id: "8c6ebe80-b26f-11f1-9a2b-3f4e5d6c7b8a", channelID: "emulator",
			serviceURL: "http://localhost:51234",
			fromID:     "5f3c1f7e-7d1f-4e57-9c7d-0b5a4a1e2f30", fromName: "User",
			recipientID: "8a4b7a11-b26f-11f1-a8b4-2b1c9f0e3d4c", recipientName: "Bot",
			convID:      "8a4b7a10-b26f-11f1-a8b4-2b1c9f0e3d4c|livechat",
			text:        "rotate payments-api",
			entityTypes: []string{"ClientCapabilities"},
			locale:      "en-US",
			timestamp:   time.Date(2026, 12, 4, 19, 55, 12, 345e6, time.UTC),
		},
		"action_submit.json": {
			typ: "message", id: "1771290200001", channelID: "msteams",
			serviceURL: "https://smba.trafficmanager.net/amer/<tenant-id>/",
			fromID:     "29:<user-mri>", fromName: "Test User", callerOID: "<user-object-id>",
			recipientID: "28:<bot-app-id>", recipientName: "Keyturn",
			convID: "19:<channel>@thread.tacv2;messageid=1771290107407", convType: "channel",
			convTenant: "<tenant-id>", isGroup: true, tenant: "<tenant-id>",
			replyToID: "1771290110000", cardReply: "1771290110000",
			entityTypes:          []string{"clientInfo"},
			teamID:               "19:<team>@thread.tacv2",
			channelDataChannelID: "19:<channel>@thread.tacv2",
			sourceName:           "message",
			locale:               "en-US",
			timestamp:            time.Date(2026, 2, 17, 1, 3, 20, 1e6, time.UTC),
			value:                `{"action":"approve","requestId":"req-0001","comment":"looks fine"}`,
		},
	}

	// Every fixture in testdata must be covered: a new file fails this test until
	// its expectations are written down.
	dir := teamsFixtures(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s (err %v)", dir, err)
	}
	paths := map[string]string{}
	for _, f := range files {
		if _, ok := cases[filepath.Base(f)]; !ok {
			t.Errorf("fixture %s has no expectations", filepath.Base(f))
		}
		paths[filepath.Base(f)] = f
	}

	for name, w := range cases {
		t.Run(name, func(t *testing.T) {
			path, ok := paths[name]
			if !ok {
				t.Fatalf("fixture %s missing", name)
			}
			a, err := Decode(readFixture(t, path))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			checks := []struct {
				field     string
				got, want any
			}{
				{"type", a.Type, w.typ}, {"id", a.ID, w.id}, {"channelId", a.ChannelID, w.channelID},
				{"serviceUrl", a.ServiceURL, w.serviceURL},
				{"from.id", a.From.ID, w.fromID}, {"from.name", a.From.Name, w.fromName},
				{"CallerObjectID", a.CallerObjectID(), w.callerOID},
				{"recipient.id", a.Recipient.ID, w.recipientID}, {"recipient.name", a.Recipient.Name, w.recipientName},
				{"conversation.id", a.Conversation.ID, w.convID},
				{"conversation.conversationType", a.Conversation.ConversationType, w.convType},
				{"conversation.tenantId", a.Conversation.TenantID, w.convTenant},
				{"conversation.isGroup", a.Conversation.IsGroup, w.isGroup},
				{"IsGroup", a.IsGroup(), w.isGroup},
				{"TenantID", a.TenantID(), w.tenant}, {"text", a.Text, w.text},
				{"replyToId", a.ReplyToID, w.replyToID}, {"CardReplyToID", a.CardReplyToID(), w.cardReply},
				{"action", a.Action, w.action}, {"channelData.eventType", a.ChannelData.EventType, w.eventType},
				{"channelData.team.id", a.ChannelData.Team.ID, w.teamID},
				{"channelData.channel.id", a.ChannelData.Channel.ID, w.channelDataChannelID},
				{"channelData.source.name", a.ChannelData.Source.Name, w.sourceName},
				{"locale", a.Locale, w.locale},
				{"timestamp", a.Timestamp.UTC(), w.timestamp},
				{"HasValue", a.HasValue(), w.value != ""},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %#v, want %#v", c.field, c.got, c.want)
				}
			}
			if got := compactJSON(t, a.Value); got != w.value {
				t.Errorf("value = %s, want %s", got, w.value)
			}
			var types []string
			for _, e := range a.Entities {
				types = append(types, e.Type)
			}
			if !slices.Equal(types, w.entityTypes) {
				t.Errorf("entity types = %v, want %v", types, w.entityTypes)
			}
			if got := a.Mentions(); !slices.EqualFunc(got, w.mentions, entityEqual) {
				t.Errorf("Mentions() = %+v, want %+v", got, w.mentions)
			}
			var added []string
			for _, m := range a.MembersAdded {
				added = append(added, m.ID)
			}
			if !slices.Equal(added, w.membersAdded) {
				t.Errorf("membersAdded = %v, want %v", added, w.membersAdded)
			}
		})
	}
}

func entityEqual(a, b Entity) bool {
	if a.Type != b.Type || a.Text != b.Text || (a.Mentioned == nil) != (b.Mentioned == nil) {
		return false
	}
	return a.Mentioned == nil || *a.Mentioned == *b.Mentioned
}

func compactJSON(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	if len(raw) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		t.Fatalf("value is not JSON: %v", err)
	}
	return buf.String()
}
