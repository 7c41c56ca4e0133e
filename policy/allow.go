package policy

import (
	"fmt"
	"strings"

	"github.com/keyturn/keyturn/rotation"
)

// The actions of the bot's commands; rotation declares ActionRequest and
// ActionApprove, which its approval flow asks about.
const (
	ActionStatus    rotation.Action = "status"                // read an app's credentials and schedule
	ActionRetire    rotation.Action = "retire"                // retire an app's previous secrets now
	ActionAuditHere rotation.Action = "audit here"            // make a conversation the audit channel
	ActionRadarHere rotation.Action = "radar here"            // make a conversation the radar channel
	ActionExpiring  rotation.Action = "list expiring secrets" // list the apps whose secrets expire soon
	ActionWhoAmI    rotation.Action = "whoami"                // read one's own roles
)

// Actions lists every action of the decision table, in the order people
// read them (for whoami: what each role lets one do).
func Actions() []rotation.Action {
	return []rotation.Action{rotation.ActionRequest, rotation.ActionApprove, ActionStatus, ActionRetire,
		ActionAuditHere, ActionRadarHere, ActionExpiring, ActionWhoAmI}
}

// Grants are the role sources a caller holds, of those the policy names.
type Grants struct {
	Held []rotation.RoleSource
}

func (g Grants) holds(s rotation.RoleSource) bool {
	for _, h := range g.Held {
		if h.Key() == s.Key() {
			return true
		}
	}
	return false
}

// grantRule is one line of the decision table: a rule of the policy file,
// by its path, and the role sources it names.
type grantRule struct {
	path    string
	sources []rotation.RoleSource
}

// rulesFor is who may do what, the one table Keyturn decides by. An action
// is allowed when the caller holds a source of any of its rules:
//
//	action      allowed by
//	request     roles.request; for an app whose approvals is 0, also
//	            whoever may approve it (the rotation then runs directly)
//	approve     roles.approve, apps.<alias>.approvers
//	status      roles.request, roles.approve, apps.<alias>.approvers
//	retire      roles.approve, apps.<alias>.approvers
//	audit here  roles.approve
//	radar here  roles.approve
//	expiring    roles.request, roles.approve
//	whoami      everyone
//
// A new action is a constant above, one more case here, and its column in
// TestDecisionTable.
func (p *Policy) rulesFor(action rotation.Action, clientID string) (rules []grantRule, everyone bool, err error) {
	request := grantRule{"roles.request", p.Roles.Request}
	approve := grantRule{"roles.approve", p.Roles.Approve}
	app := p.appApprovers(clientID)
	switch action {
	case rotation.ActionRequest:
		return []grantRule{request}, false, nil
	case rotation.ActionApprove, ActionRetire:
		return []grantRule{approve, app}, false, nil
	case ActionStatus:
		return []grantRule{request, approve, app}, false, nil
	case ActionAuditHere, ActionRadarHere:
		return []grantRule{approve}, false, nil
	case ActionExpiring:
		return []grantRule{request, approve}, false, nil
	case ActionWhoAmI:
		return nil, true, nil
	}
	return nil, false, fmt.Errorf("action %q is not in the policy's decision table", action)
}

// appApprovers is the per-app approvers rule of clientID.
func (p *Policy) appApprovers(clientID string) grantRule {
	path := "apps." + strings.ToLower(clientID) + ".approvers"
	if a, ok := p.AppByClientID(clientID); ok {
		path = joinPath("apps", a.Alias) + ".approvers"
	}
	return grantRule{path, p.Rule(clientID).Approvers}
}

// Allow decides whether a caller holding g may take the attempt's action
// on its app. It is pure: the same policy, grants and attempt always give
// the same decision. An action the table does not know is refused with an
// error.
func (p *Policy) Allow(g Grants, at rotation.Attempt) (rotation.Decision, error) {
	d := rotation.Decision{Attempt: at}
	rules, everyone, err := p.rulesFor(at.Action, at.ClientID)
	if err != nil {
		d.Why = "unknown action"
		return d, err
	}
	d.Held = p.held(g)
	if everyone {
		d.Allowed, d.Rule = true, "everyone"
		return d, nil
	}
	var names []string
	for _, r := range rules {
		if len(r.sources) == 0 {
			continue
		}
		names = append(names, r.path)
		d.Needs = append(d.Needs, r.sources...)
		for _, s := range r.sources {
			if g.holds(s) && !d.Allowed {
				d.Allowed, d.Rule = true, r.path
			}
		}
	}
	if at.Action == rotation.ActionRequest && p.Rule(at.ClientID).Required == 0 {
		// No approval needed: whoever may approve the app may rotate it
		// directly, and that wins over an ordinary request.
		approve, _ := p.Allow(g, rotation.Attempt{Who: at.Who, Action: rotation.ActionApprove, ClientID: at.ClientID})
		d.Needs = appendSources(d.Needs, approve.Needs...)
		if approve.Allowed {
			d.Allowed, d.Direct, d.Rule = true, true, approve.Rule+" (approvals: 0)"
		} else if approve.Rule != "" {
			names = append(names, approve.Rule+" (approvals: 0)")
		}
	}
	if !d.Allowed {
		d.Rule = strings.Join(names, " or ")
		if d.Rule == "" {
			d.Rule = "a role the policy does not name (nobody may " + string(at.Action) + ")"
		}
	}
	return d, nil
}

// held returns the sources of g, named as the policy names them.
func (p *Policy) held(g Grants) []rotation.RoleSource {
	var out []rotation.RoleSource
	for _, s := range p.Sources() {
		if g.holds(s) {
			out = appendSources(out, s)
		}
	}
	return out
}

// Sources returns every role source the policy names, once each.
func (p *Policy) Sources() []rotation.RoleSource {
	out := appendSources(nil, p.Roles.Request...)
	out = appendSources(out, p.Roles.Approve...)
	out = appendSources(out, p.DefaultRule.Approvers...)
	for _, id := range sortedKeys(p.Rules) {
		out = appendSources(out, p.Rules[id].Approvers...)
	}
	return out
}

func appendSources(list []rotation.RoleSource, add ...rotation.RoleSource) []rotation.RoleSource {
next:
	for _, s := range add {
		for _, x := range list {
			if x.Key() == s.Key() {
				continue next
			}
		}
		list = append(list, s)
	}
	return list
}
