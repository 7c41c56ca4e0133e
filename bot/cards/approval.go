package cards

import (
	"strings"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// The approval card's contract with the bot: the verbs of its buttons and
// of its refresh, the id of the reason box, and the data every action
// sends back (see ActionData).
const (
	// VerbApprove, VerbReject and VerbRefresh are the verbs of the
	// Action.Execute buttons and of the refresh; an Action.Submit fallback
	// carries the same verb in its data's "verb" field.
	VerbApprove = "approve"
	VerbReject  = "reject"
	VerbRefresh = "refresh"
	// ReasonInputID is the id of the text box where an approver may say
	// why they reject; its text arrives in the action's data under that
	// key ("reason").
	ReasonInputID = "reason"
	// MaxReasonLength is the reason box's maxLength. Clients enforce it
	// loosely (Action.Submit fallbacks not at all): the bot must bound what
	// arrives itself.
	MaxReasonLength = 200
	// MaxRefreshUsers is the most users whose Teams clients refresh a card
	// automatically (Teams ignores more in refresh.userIds).
	MaxRefreshUsers = 60
)

// ActionData is what the approval card's buttons send back: the data of an
// Action.Execute invoke (value.action.data), or the whole value of an
// Action.Submit message from a client without Universal Actions, which
// also carries Verb. Reason is the text typed in the reason box, if any;
// Approve does not send it. The bot must check RequestID and Digest
// against the stored request (rotation.ApprovalRequest.Digest): they come
// from the client.
type ActionData struct {
	Verb      string `json:"verb,omitempty"`
	RequestID string `json:"requestId,omitempty"`
	Digest    string `json:"digest,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// ClientID is the app a radar card's Request rotation button names.
	ClientID string `json:"clientId,omitempty"`
}

// Viewer is who an approval card is built for. The card sent to the whole
// conversation is built with CanDecide false and RefreshFor set to the
// approvers; their Teams clients then ask the bot for their own version
// (verb "refresh"), which the bot builds with that approver's Viewer and
// CanDecide true, so only approvers see Approve and Reject.
type Viewer struct {
	// ObjectID is the viewer's Entra object ID; empty for a card shown to
	// everyone. A viewer who asked for the rotation never gets buttons,
	// and one who approved already gets no Approve button, whatever
	// CanDecide says: the domain would refuse those decisions.
	ObjectID string
	// CanDecide reports whether the viewer may approve or reject, as the
	// bot's authorization decided. It must be false for the requester and
	// for the card sent to the whole conversation.
	CanDecide bool
	// Now is when the card is built. A pending request whose ExpiresAt is
	// not after Now is shown as expired, without buttons or refresh; the
	// zero Now skips that check and the "expires in" hint.
	Now time.Time
	// RefreshFor lists the users whose Teams clients fetch their own
	// version of a pending card as soon as they show it (the card's
	// refresh.userIds): Teams user IDs as the bot sees them in an
	// activity's from.id ("29:..."). Empty IDs and repeats are dropped and
	// only the first MaxRefreshUsers kept, since Teams refreshes no more:
	// put the approvers most likely to act first. With none, or for a
	// request that is not pending, the card has no refresh.
	RefreshFor []string
	// FollowFor lists users whose clients refresh the card in every state,
	// not only while it is pending: those who clicked a button and so see
	// their own version, which must follow the request to its end. They
	// come after RefreshFor in refresh.userIds, within MaxRefreshUsers.
	FollowFor []string
}

// Approval shows an approval request as v should see it: a header by state
// (pending, approved, running with the verification's progress, done with
// the new secret's vault URIs and the previous secret's retirement,
// rejected with the rejecter's reason, expired, failed with the reason and
// the reference), then what the rotation does (the app, the vault and
// the two secret names, the new secret's end, the previous secret's
// retirement), the preflight as checked when asked, who asked, the
// approvals so far and when the request expires.
//
// A pending request gets Approve and Reject buttons (Action.Execute, each
// with an Action.Submit fallback, both sending ActionData) and a reason box
// only when v may decide (see Viewer), and a refresh for v.RefreshFor.
// Everything shown comes from r, which holds no secret; outside text is
// shown only in TextRuns.
func Approval(r rotation.ApprovalRequest, v Viewer) Card {
	state := r.State
	if state == rotation.ApprovalPending && !v.Now.IsZero() && !r.ExpiresAt.IsZero() && !v.Now.Before(r.ExpiresAt) {
		state = rotation.ApprovalExpired // the domain refuses decisions now
	}
	approve, reject := decisions(r, v, state)

	body := header(r, state)
	body = append(body, details(r, v, state)...)
	if !state.Final() {
		body = append(body, preflight(r)...)
	}
	if state == rotation.ApprovalPending && !reject {
		body = append(body, note(noButtons(r, v)))
	}
	body = append(body, note(secretNote))
	var actions []executeAction
	if approve {
		actions = append(actions, execute("Approve", VerbApprove, "positive", "none", r))
	}
	if reject {
		// The reason box sits last, right above the buttons.
		hint := "Approve only if you expect this rotation. Your decision is recorded in Keyturn's audit log."
		if !approve {
			hint = "You approved this request already; it waits for the other approvals."
		}
		actions = append(actions, execute("Reject", VerbReject, "destructive", "", r))
		body = append(body,
			section("Your decision"),
			para(hint),
			inputText{Type: "Input.Text", ID: ReasonInputID, Label: "Reason, if you reject", Placeholder: "Why? (optional)", MaxLength: MaxReasonLength, Spacing: spacingSmall},
		)
	}
	c := card(body...)
	c.actions = actions
	users := v.FollowFor
	if state == rotation.ApprovalPending {
		users = append(append([]string(nil), v.RefreshFor...), v.FollowFor...)
	}
	c.refresh = refreshOf(r, users)
	return c
}

// decisions says which buttons v gets on r in state.
func decisions(r rotation.ApprovalRequest, v Viewer, state rotation.ApprovalState) (approve, reject bool) {
	if state != rotation.ApprovalPending || !v.CanDecide || isRequester(r, v) {
		return false, false
	}
	approved := v.ObjectID != "" && r.HasApproved(v.ObjectID)
	return !approved, true
}

func isRequester(r rotation.ApprovalRequest, v Viewer) bool {
	return v.ObjectID != "" && strings.EqualFold(v.ObjectID, r.RequestedBy.ObjectID)
}

// execute is one decision button with its fallback for old clients.
// inputs "none" keeps the reason box's text out of the action's data.
func execute(title, verb, style, inputs string, r rotation.ApprovalRequest) executeAction {
	return executeAction{
		Type: "Action.Execute", Title: title, Verb: verb, Style: style, AssociatedInputs: inputs,
		Data: ActionData{RequestID: r.ID, Digest: r.Digest},
		Fallback: &submitAction{
			Type: "Action.Submit", Title: title, Style: style, AssociatedInputs: inputs,
			Data: ActionData{Verb: verb, RequestID: r.ID, Digest: r.Digest},
		},
	}
}

// refreshOf is the refresh of a pending card for users, or nil for none.
func refreshOf(r rotation.ApprovalRequest, users []string) *refresh {
	ids := make([]string, 0, min(len(users), MaxRefreshUsers))
	seen := make(map[string]bool, len(users))
	for _, u := range users {
		if len(ids) == MaxRefreshUsers {
			break
		}
		if u = strings.TrimSpace(u); u == "" || seen[u] {
			continue
		}
		seen[u] = true
		ids = append(ids, u)
	}
	if len(ids) == 0 {
		return nil
	}
	return &refresh{
		Action:  refreshAction{Type: "Action.Execute", Verb: VerbRefresh, Data: ActionData{RequestID: r.ID, Digest: r.Digest}},
		UserIDs: ids,
	}
}

// noButtons tells a viewer of a pending request why they see no buttons.
func noButtons(r rotation.ApprovalRequest, v Viewer) string {
	if isRequester(r, v) {
		return "You asked for this rotation, so someone else must approve it."
	}
	return "Only approvers see Approve and Reject here."
}
