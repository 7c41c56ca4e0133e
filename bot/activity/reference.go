package activity

// ConversationReference is what Keyturn keeps of an authenticated activity
// to write back into its conversation later (a reply, a card update, a
// proactive message). Store one only after the activity's token was
// validated: the connector client sends a bearer token to ServiceURL.
type ConversationReference struct {
	// ServiceURL is the connector endpoint of the activity, as sent.
	ServiceURL string `json:"serviceUrl"`
	// ChannelID is the Bot Framework channel, "msteams".
	ChannelID string `json:"channelId"`
	// ConversationID is the conversation; in a channel thread it ends with
	// ";messageid=<root>", so posting to it answers in the thread.
	ConversationID   string `json:"conversationId"`
	ConversationType string `json:"conversationType,omitempty"`
	TenantID         string `json:"tenantId,omitempty"`
	// BotID and BotName are the bot's account in the conversation (the
	// activity's recipient): "28:<app id>".
	BotID   string `json:"botId"`
	BotName string `json:"botName,omitempty"`
	// ActivityID is the activity the reference was taken from, the target
	// of a threaded reply.
	ActivityID string `json:"activityId,omitempty"`
}

// FromActivity returns the reference to a's conversation, seen from the bot
// (a's recipient).
func FromActivity(a *Activity) ConversationReference {
	return ConversationReference{
		ServiceURL:       a.ServiceURL,
		ChannelID:        a.ChannelID,
		ConversationID:   a.Conversation.ID,
		ConversationType: a.Conversation.ConversationType,
		TenantID:         a.TenantID(),
		BotID:            a.Recipient.ID,
		BotName:          a.Recipient.Name,
		ActivityID:       a.ID,
	}
}
