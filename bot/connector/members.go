package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/keyturn/keyturn/bot/activity"
)

// Member is one member of a conversation, as the connector lists them.
type Member struct {
	ID          string `json:"id"` // the Teams user MRI, "29:..."
	Name        string `json:"name"`
	AADObjectID string `json:"aadObjectId"`
}

// ConversationMembers lists the members of ref's conversation (the channel
// or chat; a thread's members are its channel's). Keyturn uses it to learn
// which members' clients should refresh an approval card.
func (c *Client) ConversationMembers(ctx context.Context, ref activity.ConversationReference) ([]Member, error) {
	const op = "list members"
	if !serviceURLUsable(ref.ServiceURL) || !c.allowed(ref.ServiceURL) {
		return nil, fmt.Errorf("%s: %w", op, ErrServiceURLNotAllowed)
	}
	conv, _, _ := strings.Cut(ref.ConversationID, ";")
	if !segmentUsable(conv) {
		return nil, fmt.Errorf("%s: %w", op, ErrInvalidReference)
	}
	u := ref.ServiceURL
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	data, err := c.do(ctx, call{method: http.MethodGet, op: op}, u+"v3/conversations/"+url.PathEscape(conv)+"/members", nil)
	if err != nil {
		return nil, err
	}
	var members []Member
	if err := json.Unmarshal(data, &members); err != nil {
		return nil, fmt.Errorf("%s: decode: %w", op, err)
	}
	return members, nil
}
