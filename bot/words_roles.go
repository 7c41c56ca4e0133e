package bot

import (
	"slices"
	"sort"
	"strings"

	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/rotation"
)

// doing names each action as the subject of "… needs a role that may …".
var doing = map[rotation.Action]string{
	rotation.ActionRequest: "Asking for a rotation",
	rotation.ActionApprove: "Approving a rotation",
	policy.ActionStatus:    "Checking status",
	policy.ActionRetire:    "Retiring previous secrets",
	policy.ActionAuditHere: "Making a conversation the audit channel",
	policy.ActionRadarHere: "Making a conversation the radar channel",
	policy.ActionExpiring:  "Listing expiring secrets",
}

// able says what an action lets one do, for whoami.
var able = map[rotation.Action]string{
	rotation.ActionRequest: "ask for rotations",
	rotation.ActionApprove: "approve rotations",
	policy.ActionStatus:    "check status",
	policy.ActionRetire:    "retire previous secrets",
	policy.ActionAuditHere: "set the audit channel",
	policy.ActionRadarHere: "set the radar channel",
	policy.ActionExpiring:  "list expiring secrets",
}

// neededRole puts a decision refused by roles into words: what it needed,
// by the names the policy gives the roles, and what the caller holds.
// "Checking status needs a role that may ask for rotations or approve
// rotations (sg-keyturn-requesters, Application Administrator); you have:
// none."
func neededRole(d rotation.Decision) string {
	subject := doing[d.Action]
	if subject == "" {
		subject = "That"
	}
	return subject + " needs a role that may " + ruleWords(d.Rule) + " (" + roleNames(d.Needs) + "); you have: " +
		orNone(roleNames(d.Held)) + ". An administrator can give you one of those roles in Entra ID."
}

// ruleWords says what the policy rules a refusal names let one do:
// "roles.request or apps.payments-api.approvers" is "ask for rotations or
// approve rotations of payments-api".
func ruleWords(rule string) string {
	var out []string
	for _, part := range strings.Split(rule, " or ") {
		part = strings.TrimSuffix(part, " (approvals: 0)")
		w := part
		switch {
		case part == "roles.request":
			w = able[rotation.ActionRequest]
		case part == "roles.approve":
			w = able[rotation.ActionApprove]
		case strings.HasPrefix(part, "apps.") && strings.HasSuffix(part, ".approvers"):
			w = "approve rotations of " + strings.TrimSuffix(strings.TrimPrefix(part, "apps."), ".approvers")
		}
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	if len(out) <= 1 {
		return strings.Join(out, "")
	}
	return strings.Join(out[:len(out)-1], ", ") + " or " + out[len(out)-1]
}

// roleAbilities says, for each role the caller holds, what it lets them
// do, as the policy's one decision answers for that role alone: for every
// app when it is a global role, and for the apps that name it otherwise.
func roleAbilities(p *policy.Policy, held []rotation.RoleSource) []string {
	var out []string
	for _, h := range held {
		g := policy.Grants{Held: []rotation.RoleSource{h}}
		var can []string
		for _, a := range policy.Actions() {
			if able[a] == "" {
				continue
			}
			if d, err := p.Allow(g, rotation.Attempt{Action: a}); err == nil && d.Allowed {
				can = append(can, able[a])
			}
		}
		if len(can) == 0 {
			var apps []string
			for id := range p.Rules {
				if d, err := p.Allow(g, rotation.Attempt{Action: rotation.ActionApprove, ClientID: id}); err == nil && d.Allowed {
					name := id
					if a, ok := p.AppByClientID(id); ok {
						name = a.Alias
					}
					apps = append(apps, name)
				}
			}
			sort.Strings(apps)
			if len(apps) > 0 {
				can = append(can, "approve, check and retire rotations of "+strings.Join(apps, ", "))
			}
		}
		name := h.Name
		if name == "" {
			name = h.String()
		}
		if len(can) == 0 {
			can = []string{"nothing in Keyturn"}
		}
		out = append(out, name+": may "+strings.Join(can, ", "))
	}
	return out
}
