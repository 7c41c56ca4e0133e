package sandbox

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/keyturn/keyturn/rotation"
)

var (
	userKeyPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	vaultNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,22}[a-z0-9]$`)
)

// Limits of the tenant file.
const (
	maxUsers       = 50
	maxApps        = 50
	maxPropagation = 60
	maxDaysLeft    = 730
)

// Validate reports every problem of t at once, each naming where it is.
func (t *Tenant) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if !rotation.IsGUID(t.Tenant.ID) {
		bad("tenant.id %q is not a GUID", t.Tenant.ID)
	}
	if strings.TrimSpace(t.Bot.Name) == "" {
		bad("bot.name is required")
	}
	if !rotation.IsGUID(t.Bot.AppID) {
		bad("bot.appId %q is not a GUID", t.Bot.AppID)
	}
	if t.Team.ID == "" || t.Team.Name == "" {
		bad("team.id and team.name are required")
	}
	if t.Team.AADGroupID != "" && !rotation.IsGUID(t.Team.AADGroupID) {
		bad("team.aadGroupId %q is not a GUID", t.Team.AADGroupID)
	}
	t.validateChannels(bad)
	names := t.validateDirectory(bad)
	t.validateUsers(bad, names)
	vaults := map[string]bool{}
	for i, v := range t.Vaults {
		switch {
		case !vaultNamePattern.MatchString(v.Name):
			bad("vaults[%d]: %q is not a Key Vault name (3-24 of a-z, 0-9 and -)", i, v.Name)
		case vaults[v.Name]:
			bad("vaults[%d]: %q is listed twice", i, v.Name)
		}
		vaults[v.Name] = true
	}
	if len(t.Vaults) == 0 {
		bad("vaults: at least one vault is required")
	}
	t.validateApps(bad)
	if t.PropagationSeconds < 0 || t.PropagationSeconds > maxPropagation {
		bad("propagationSeconds %d is outside 0..%d", t.PropagationSeconds, maxPropagation)
	}
	return errors.Join(errs...)
}

func (t *Tenant) validateChannels(bad func(string, ...any)) {
	ids := map[string]bool{}
	audits, radars, posts := 0, 0, 0
	for i, c := range t.Channels {
		switch {
		case c.ID == "" || c.Name == "":
			bad("channels[%d]: id and name are required", i)
		case strings.ContainsAny(c.ID, "/;?#% ") || len(c.ID) > 200:
			bad("channels[%d]: id %q must not contain / ; ? # %% or spaces", i, c.ID)
		case ids[c.ID]:
			bad("channels[%d]: id %q is listed twice", i, c.ID)
		}
		ids[c.ID] = true
		switch {
		case c.Audit && c.Radar:
			bad("channels[%d]: %q cannot be both the audit and the radar channel", i, c.Name)
		case c.Audit:
			audits++
		case c.Radar:
			radars++
		default:
			posts++
		}
	}
	if posts == 0 {
		bad("channels: at least one channel that is neither the audit nor the radar channel is required")
	}
	if radars > 1 {
		bad("channels: at most one channel can be the radar channel")
	}
	if audits > 1 {
		bad("channels: at most one channel can be the audit channel")
	}
}

// validateDirectory checks the directory entries and returns their names.
func (t *Tenant) validateDirectory(bad func(string, ...any)) map[string]bool {
	names, ids := map[string]bool{}, map[string]bool{}
	for kind, list := range map[string][]DirEntry{"groups": t.Directory.Groups, "directoryRoles": t.Directory.DirectoryRoles, "appRoles": t.Directory.AppRoles} {
		for i, e := range list {
			if !rotation.IsGUID(e.ID) {
				bad("directory.%s[%d]: id %q is not a GUID", kind, i, e.ID)
			}
			if strings.TrimSpace(e.Name) == "" {
				bad("directory.%s[%d]: name is required", kind, i)
			}
			if names[e.Name] {
				bad("directory.%s[%d]: name %q is used twice", kind, i, e.Name)
			}
			if ids[strings.ToLower(e.ID)] {
				bad("directory.%s[%d]: id %s is used twice", kind, i, e.ID)
			}
			names[e.Name], ids[strings.ToLower(e.ID)] = true, true
			if kind != "groups" && len(e.MemberOf) > 0 {
				bad("directory.%s[%d] (%s): only groups can be members of something", kind, i, e.Name)
			}
		}
	}
	for i, g := range t.Directory.Groups {
		for _, m := range g.MemberOf {
			if !names[m] || m == g.Name {
				bad("directory.groups[%d] (%s): memberOf %q is not another entry of directory", i, g.Name, m)
			}
		}
	}
	return names
}

func (t *Tenant) validateUsers(bad func(string, ...any), names map[string]bool) {
	keys, oids := map[string]bool{}, map[string]bool{}
	if len(t.Users) == 0 || len(t.Users) > maxUsers {
		bad("users: between 1 and %d users are required", maxUsers)
	}
	for i, u := range t.Users {
		if !userKeyPattern.MatchString(u.Key) {
			bad("users[%d]: key %q must be 1-32 of a-z, 0-9 and -", i, u.Key)
		}
		if keys[u.Key] {
			bad("users[%d]: key %q is used twice", i, u.Key)
		}
		if !rotation.IsGUID(u.ObjectID) {
			bad("users[%d] (%s): objectId %q is not a GUID", i, u.Key, u.ObjectID)
		}
		if oids[strings.ToLower(u.ObjectID)] {
			bad("users[%d] (%s): objectId %s is used twice", i, u.Key, u.ObjectID)
		}
		if strings.TrimSpace(u.Name) == "" {
			bad("users[%d] (%s): name is required", i, u.Key)
		}
		for _, m := range u.MemberOf {
			if !names[m] {
				bad("users[%d] (%s): memberOf %q is not in directory", i, u.Key, m)
			}
		}
		keys[u.Key], oids[strings.ToLower(u.ObjectID)] = true, true
	}
}

func (t *Tenant) validateApps(bad func(string, ...any)) {
	ids := map[string]bool{}
	if len(t.Apps) > maxApps {
		bad("apps: at most %d apps", maxApps)
	}
	for i, a := range t.Apps {
		where := fmt.Sprintf("apps[%d] (%s)", i, a.DisplayName)
		for _, id := range []string{a.ClientID, a.ObjectID} {
			if !rotation.IsGUID(id) {
				bad("%s: %q is not a GUID", where, id)
			}
			if ids[strings.ToLower(id)] {
				bad("%s: %s is used twice", where, id)
			}
			ids[strings.ToLower(id)] = true
		}
		if strings.EqualFold(a.ClientID, t.Bot.AppID) {
			bad("%s: Keyturn's own app cannot be rotated by Keyturn", where)
		}
		if strings.TrimSpace(a.DisplayName) == "" {
			bad("%s: displayName is required", where)
		}
		for j, s := range a.Secrets {
			if strings.TrimSpace(s.DisplayName) == "" || s.DaysLeft < 1 || s.DaysLeft > maxDaysLeft {
				bad("%s: secrets[%d] needs a displayName and daysLeft in 1..%d", where, j, maxDaysLeft)
			}
		}
	}
}

func (t *Tenant) noAccess(vault string) bool {
	for _, v := range t.Vaults {
		if v.Name == vault {
			return v.NoAccess
		}
	}
	return false
}
