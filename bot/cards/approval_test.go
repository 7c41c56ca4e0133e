package cards

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// decode returns c's JSON as generic values.
func decode(t *testing.T, c Card) map[string]any {
	t.Helper()
	_, raw := Attachment(c)
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// texts returns what c shows, one string per TextBlock or RichTextBlock.
func texts(t *testing.T, c Card) []string {
	t.Helper()
	var out []string
	walk(decode(t, c), func(obj map[string]any) {
		switch obj["type"] {
		case "TextBlock":
			out = append(out, obj["text"].(string))
		case "RichTextBlock":
			var b strings.Builder
			for _, r := range obj["inlines"].([]any) {
				b.WriteString(r.(map[string]any)["text"].(string))
			}
			out = append(out, b.String())
		}
	})
	return out
}

// shows reports whether some block of c contains s.
func shows(t *testing.T, c Card, s string) bool {
	t.Helper()
	return slices.ContainsFunc(texts(t, c), func(x string) bool { return strings.Contains(x, s) })
}

// verbs lists the verbs of c's buttons, and whether it has the reason box.
func verbs(t *testing.T, c Card) ([]string, bool) {
	t.Helper()
	doc := decode(t, c)
	var vs []string
	actions, _ := doc["actions"].([]any)
	for _, a := range actions {
		vs = append(vs, a.(map[string]any)["verb"].(string))
	}
	input := false
	walk(doc["body"], func(obj map[string]any) { input = input || obj["type"] == "Input.Text" })
	return vs, input
}

// refreshUsers returns the card's refresh.userIds, or nil without refresh.
func refreshUsers(t *testing.T, c Card) []string {
	t.Helper()
	r, ok := decode(t, c)["refresh"].(map[string]any)
	if !ok {
		return nil
	}
	var ids []string
	for _, id := range r["userIds"].([]any) {
		ids = append(ids, id.(string))
	}
	return ids
}

func TestApprovalButtonsAndRefresh(t *testing.T) {
	sam := Viewer{ObjectID: strings.ToUpper(fxSam.ObjectID), CanDecide: true, Now: fxViewAt, RefreshFor: fxTeams}
	with := func(f func(*rotation.ApprovalRequest)) rotation.ApprovalRequest {
		r := fxApproval()
		f(&r)
		return r
	}
	pending := fxApproval()
	cases := []struct {
		name    string
		r       rotation.ApprovalRequest
		v       Viewer
		verbs   []string
		refresh []string
		title   string
	}{
		{"everyone", pending, Viewer{Now: fxViewAt, RefreshFor: fxTeams}, nil, fxTeams, "Approval needed"},
		{"everyone without refresh list", pending, Viewer{Now: fxViewAt}, nil, nil, "Approval needed"},
		{"approver", pending, sam, []string{"approve", "reject"}, fxTeams, "Approval needed"},
		{"approver who approved", with(func(r *rotation.ApprovalRequest) {
			r.Approvals = []rotation.Approval{{By: fxSam, At: t0}}
		}), sam, []string{"reject"}, fxTeams, "Approval needed"},
		{"another approver after one approval", with(func(r *rotation.ApprovalRequest) {
			r.Approvals = []rotation.Approval{{By: fxKim, At: t0}}
		}), sam, []string{"approve", "reject"}, fxTeams, "Approval needed"},
		{"requester marked as able to decide", pending, Viewer{ObjectID: fxAlex.ObjectID, CanDecide: true, Now: fxViewAt}, nil, nil, "Approval needed"},
		{"not allowed to decide", pending, Viewer{ObjectID: fxSam.ObjectID, Now: fxViewAt}, nil, nil, "Approval needed"},
		{"pending past its expiry", pending, Viewer{ObjectID: fxSam.ObjectID, CanDecide: true, Now: pending.ExpiresAt, RefreshFor: fxTeams}, nil, nil, "Request expired"},
		{"pending, no clock", pending, Viewer{ObjectID: fxSam.ObjectID, CanDecide: true}, []string{"approve", "reject"}, nil, "Approval needed"},
		{"approved", with(func(r *rotation.ApprovalRequest) { r.State = rotation.ApprovalApproved }), sam, nil, nil, "Approved — rotating"},
		{"running", with(func(r *rotation.ApprovalRequest) { r.State = rotation.ApprovalRunning }), sam, nil, nil, "Rotating…"},
		{"done", with(func(r *rotation.ApprovalRequest) { r.State = rotation.ApprovalDone }), sam, nil, nil, "Client secret rotated"},
		{"rejected", with(func(r *rotation.ApprovalRequest) { r.State = rotation.ApprovalRejected }), sam, nil, nil, "Rejected"},
		{"expired", with(func(r *rotation.ApprovalRequest) { r.State = rotation.ApprovalExpired }), sam, nil, nil, "Request expired"},
		{"failed", with(func(r *rotation.ApprovalRequest) { r.State = rotation.ApprovalFailed }), sam, nil, nil, "Rotation failed"},
		{"superseded", with(func(r *rotation.ApprovalRequest) { r.State = rotation.ApprovalSuperseded }), sam, nil, nil, "Superseded"},
		{"done, followed by those who clicked", with(func(r *rotation.ApprovalRequest) { r.State = rotation.ApprovalDone }),
			Viewer{Now: fxViewAt, RefreshFor: fxTeams, FollowFor: []string{"29:clicker"}}, nil, []string{"29:clicker"}, "Client secret rotated"},
		{"pending, approvers then those who clicked", pending,
			Viewer{Now: fxViewAt, RefreshFor: fxTeams, FollowFor: []string{"29:clicker", fxTeams[0]}}, nil, append(append([]string(nil), fxTeams...), "29:clicker"), "Approval needed"},
		{"unknown state", with(func(r *rotation.ApprovalRequest) { r.State = "paused" }), sam, nil, nil, "Approval request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Approval(tc.r, tc.v)
			got, input := verbs(t, c)
			if !slices.Equal(got, tc.verbs) {
				t.Errorf("buttons %v, want %v", got, tc.verbs)
			}
			if want := slices.Contains(tc.verbs, "reject"); input != want {
				t.Errorf("reason box shown %v, want %v", input, want)
			}
			if got := refreshUsers(t, c); !slices.Equal(got, tc.refresh) {
				t.Errorf("refresh.userIds %v, want %v", got, tc.refresh)
			}
			if got := texts(t, c)[0]; got != tc.title {
				t.Errorf("title %q, want %q", got, tc.title)
			}
		})
	}
}

func TestApprovalActionData(t *testing.T) {
	r := fxApproval()
	doc := decode(t, Approval(r, Viewer{ObjectID: fxKim.ObjectID, CanDecide: true, Now: fxViewAt, RefreshFor: fxTeams}))
	data := map[string]any{"requestId": r.ID, "digest": r.Digest}
	for i, want := range []struct{ title, verb, inputs string }{{"Approve", "approve", "none"}, {"Reject", "reject", ""}} {
		a := doc["actions"].([]any)[i].(map[string]any)
		if a["type"] != "Action.Execute" || a["title"] != want.title || a["verb"] != want.verb || !reflect.DeepEqual(a["data"], data) {
			t.Errorf("action %d = %v", i, a)
		}
		fb, _ := a["fallback"].(map[string]any)
		fbData := map[string]any{"verb": want.verb, "requestId": r.ID, "digest": r.Digest}
		if fb["type"] != "Action.Submit" || fb["title"] != want.title || !reflect.DeepEqual(fb["data"], fbData) {
			t.Errorf("action %d fallback = %v", i, fb)
		}
		// Approve leaves the reason out; Reject sends it (the default).
		if got, _ := a["associatedInputs"].(string); got != want.inputs || fb["associatedInputs"] != a["associatedInputs"] {
			t.Errorf("action %d associatedInputs %q, fallback %v", i, got, fb["associatedInputs"])
		}
		// What an old client submits (data plus inputs) reads as ActionData.
		fbData[ReasonInputID] = "mid-release"
		raw, _ := json.Marshal(fbData)
		var got ActionData
		if err := json.Unmarshal(raw, &got); err != nil || got != (ActionData{Verb: want.verb, RequestID: r.ID, Digest: r.Digest, Reason: "mid-release"}) {
			t.Errorf("fallback data reads as %+v, %v", got, err)
		}
	}
	var input map[string]any
	walk(doc["body"], func(obj map[string]any) {
		if obj["type"] == "Input.Text" {
			input = obj
		}
	})
	if input["id"] != "reason" || input["placeholder"] != "Why? (optional)" || input["maxLength"] != 200.0 {
		t.Errorf("reason box = %v", input)
	}
	wantRefresh := map[string]any{
		"action":  map[string]any{"type": "Action.Execute", "verb": "refresh", "data": data},
		"userIds": []any{fxTeams[0], fxTeams[1]},
	}
	if !reflect.DeepEqual(doc["refresh"], wantRefresh) {
		t.Errorf("refresh = %v", doc["refresh"])
	}
}

func TestApprovalRefreshUsersBounded(t *testing.T) {
	var ids, want []string
	for i := range 75 {
		id := fmt.Sprintf("29:user-%02d", i)
		ids = append(ids, id, " ", id) // blanks and repeats are dropped
		if len(want) < MaxRefreshUsers {
			want = append(want, id)
		}
	}
	before := slices.Clone(ids)
	got := refreshUsers(t, Approval(fxApproval(), Viewer{Now: fxViewAt, RefreshFor: ids}))
	if !slices.Equal(got, want) {
		t.Errorf("userIds (%d) = %v, want the first %d distinct", len(got), got, MaxRefreshUsers)
	}
	if !slices.Equal(ids, before) {
		t.Error("RefreshFor was modified")
	}
	if got := refreshUsers(t, Approval(fxApproval(), Viewer{Now: fxViewAt, RefreshFor: []string{"", "  "}})); got != nil {
		t.Errorf("blank IDs only: userIds %v, want no refresh", got)
	}
}

func TestApprovalShowsState(t *testing.T) {
	everyone := Viewer{Now: fxViewAt}
	cases := []struct {
		name   string
		edit   func(*rotation.ApprovalRequest)
		want   []string
		absent []string
	}{
		{"pending", func(r *rotation.ApprovalRequest) {}, []string{
			"Alex Doe asked to rotate the client secret of Payroll API.", "about 29 Aug 2026 09:30 UTC",
			fxPrevKey + " is retired 3 days after the new secret is verified", "0 of 2", "3 Mar 2026 09:30 UTC",
			"✓ Keyturn can change the application.", "✓ The vault is reachable.", "is soft-deleted and will be recovered",
			fxPrevKey + " · hint m2P · ends 2 Apr 2026 09:30 UTC · to be retired", "payroll-api-client-id holds the client ID",
			"Only approvers see Approve and Reject here.",
		}, []string{"Verifying", "(in "}},
		{"no previous secret", func(r *rotation.ApprovalRequest) { r.Plan.PreviousKeyID = "" }, []string{
			"No previous secret recorded: nothing will be retired.",
		}, []string{"to be retired"}},
		{"overlap from the plan", func(r *rotation.ApprovalRequest) { r.Overlap, r.Plan.Overlap = 0, 36*time.Hour }, []string{
			"is retired 1 day 12 hours after the new secret is verified",
		}, nil},
		{"lifetime clamped", func(r *rotation.ApprovalRequest) { r.Plan.LifetimeClamped = true }, []string{
			"(shortened to the tenant's credential policy)",
		}, nil},
		{"approved", func(r *rotation.ApprovalRequest) {
			r.State, r.Approvals = rotation.ApprovalApproved, []rotation.Approval{{By: fxSam, At: t0}, {By: fxKim, At: t0}}
		}, []string{"Approved by Sam Roe and Kim Lee. The rotation starts now", "2 of 2", "Kim Lee · " + fxKim.ObjectID}, []string{"Expires"}},
		{"approved without approvals needed", func(r *rotation.ApprovalRequest) {
			// The domain records the requester as the approver under a 0-approval policy.
			r.State, r.Required, r.Approvals = rotation.ApprovalApproved, 0, []rotation.Approval{{By: r.RequestedBy, At: t0}}
		}, []string{
			"No approval needed (policy). The rotation starts now", "no approval needed (policy)",
		}, []string{"1 of 0", "Approved by"}},
		{"running, verifying", func(r *rotation.ApprovalRequest) { r.State, r.Verified, r.Needed = rotation.ApprovalRunning, 2, 3 }, []string{
			"Verifying the new secret (2/3)",
		}, nil},
		{"running, before verifying", func(r *rotation.ApprovalRequest) { r.State = rotation.ApprovalRunning }, []string{
			"Creating the new secret and storing it in Key Vault.",
		}, []string{"Verifying"}},
		{"done", func(r *rotation.ApprovalRequest) { r.State, r.Result = rotation.ApprovalDone, fxDone() }, []string{
			fxDone().ClientIDURI, fxDone().SecretURI, fxKeyID, "Qx7", "2 Mar 2026 09:30 UTC – 2 Sep 2026 09:30 UTC", "5 Mar 2026 09:30 UTC",
		}, []string{"Checked when asked", "Expires", "New secret ends", "about "}},
		{"rejected with a reason", func(r *rotation.ApprovalRequest) {
			r.State, r.RejectedBy, r.Reason = rotation.ApprovalRejected, fxKim, "mid-release"
		}, []string{"Rejected by Kim Lee. Nothing was changed.", "mid-release"}, []string{"Checked when asked"}},
		{"rejected without a reason", func(r *rotation.ApprovalRequest) {
			r.State, r.RejectedBy = rotation.ApprovalRejected, rotation.Principal{ObjectID: fxKim.ObjectID}
		}, []string{"Rejected by " + fxKim.ObjectID + ".", "none given"}, nil},
		{"expired", func(r *rotation.ApprovalRequest) { r.State = rotation.ApprovalExpired }, []string{
			"It was not approved by 3 Mar 2026 09:30 UTC. Nothing was changed",
		}, []string{"Checked when asked", "(in "}},
		{"failed", func(r *rotation.ApprovalRequest) { r.State, r.Reason = rotation.ApprovalFailed, "not an owner" }, []string{
			"not an owner", "7f3a9c2e5b1d4e60", "Quote the reference",
		}, []string{"Checked when asked"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := fxApproval()
			tc.edit(&r)
			c := Approval(r, everyone)
			for _, s := range tc.want {
				if !shows(t, c, s) {
					t.Errorf("does not show %q; shows:\n%s", s, strings.Join(texts(t, c), "\n"))
				}
			}
			for _, s := range tc.absent {
				if shows(t, c, s) {
					t.Errorf("shows %q", s)
				}
			}
		})
	}
}

// TestApprovalBounded fills every list to well past its bound with the
// longest text: the card lists ten of each and stays within Teams' limit.
func TestApprovalBounded(t *testing.T) {
	long := strings.Repeat("x", 5000)
	r := fxApproval()
	r.AppName, r.Reason = long, long
	r.RequestedBy.Name = long
	r.Plan.Passwords, r.Plan.Notes, r.Approvals = nil, nil, nil
	for i := range 25 {
		r.Plan.Passwords = append(r.Plan.Passwords, rotation.PasswordCredential{KeyID: fmt.Sprintf("key-%02d", i), Hint: "abc", End: t0})
		r.Plan.Notes = append(r.Plan.Notes, long)
		r.Approvals = append(r.Approvals, rotation.Approval{By: rotation.Principal{ObjectID: fmt.Sprintf("oid-%02d", i), Name: long}, At: t0})
	}
	c := Approval(r, Viewer{ObjectID: fxKim.ObjectID, CanDecide: true, Now: fxViewAt, RefreshFor: fxTeams})
	if !shows(t, c, "key-09") || shows(t, c, "key-10") || !shows(t, c, "…and 15 more client secrets") {
		t.Error("current secrets are not cut at ten")
	}
	if !shows(t, c, "…and 15 more notes") || !shows(t, c, "…and 15 more approvals") {
		t.Error("notes or approvals are not cut at ten")
	}
	if _, raw := Attachment(c); len(raw) > 27000 {
		t.Errorf("%d bytes: over Teams' message limit", len(raw))
	}
	for _, s := range texts(t, c) {
		if strings.Contains(s, strings.Repeat("x", maxText)) {
			t.Fatalf("outside text not clipped: %d runes", len(s))
		}
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                "less than a minute",
		59 * time.Second:                 "less than a minute",
		time.Minute:                      "1 minute",
		90 * time.Minute:                 "1 hour 30 minutes",
		72 * time.Hour:                   "3 days",
		24*time.Hour + 5*time.Minute:     "1 day",
		49*time.Hour + 30*time.Minute:    "2 days 1 hour",
		23*time.Hour + 59*time.Minute:    "23 hours 59 minutes",
		-time.Hour:                       "less than a minute",
		180 * 24 * time.Hour:             "180 days",
		2*time.Hour + 59*time.Second + 1: "2 hours",
	} {
		if got := duration(d); got != want {
			t.Errorf("duration(%s) = %q, want %q", d, got, want)
		}
	}
}

// TestOnlyTheOwnVersionCountsDown: the card everyone shares shows when a
// request expires; only a viewer's own version, rebuilt by its refresh,
// adds how long that is from now.
func TestOnlyTheOwnVersionCountsDown(t *testing.T) {
	r := fxApproval()
	if c := Approval(r, Viewer{Now: fxViewAt, RefreshFor: fxTeams}); !shows(t, c, "3 Mar 2026 09:30 UTC") || shows(t, c, "(in ") {
		t.Errorf("shared card: %s", strings.Join(texts(t, c), "\n"))
	}
	if c := Approval(r, Viewer{ObjectID: fxSam.ObjectID, CanDecide: true, Now: fxViewAt}); !shows(t, c, "3 Mar 2026 09:30 UTC (in 23 hours 50 minutes)") {
		t.Errorf("own version: %s", strings.Join(texts(t, c), "\n"))
	}
}
