package policy

import (
	"fmt"
	"strings"

	"github.com/keyturn/keyturn/rotation"
)

// Role sources in the policy file, and the built-in directory roles Keyturn
// knows by name.

// roleSources resolves a list of role entries.
func (c *policyCheck) roleSources(path string, rs []policyRole) []rotation.RoleSource {
	var out []rotation.RoleSource
	for i, r := range rs {
		at := fmt.Sprintf("%s[%d]", path, i)
		src := rotation.RoleSource{Name: strings.TrimSpace(r.Name)}
		set := 0
		for _, f := range []struct {
			kind      rotation.SourceKind
			key, v, w string
		}{
			{rotation.SourceGroup, "group", r.Group, "a group object ID"},
			{rotation.SourceAppRole, "app_role", r.AppRole, "an app role ID of Keyturn's app"},
			{rotation.SourceDirectoryRole, "directory_role", r.DirectoryRole, ""},
		} {
			v := strings.TrimSpace(f.v)
			if v == "" {
				continue
			}
			set++
			src.Kind = f.kind
			switch {
			case rotation.IsGUID(v):
				src.ID = strings.ToLower(v)
				if f.kind == rotation.SourceDirectoryRole && src.Name == "" {
					src.Name = builtinRoleName(src.ID)
				}
			case f.kind == rotation.SourceDirectoryRole:
				id, name, ok := builtinRoleByName(v)
				if !ok {
					c.addf(at+".directory_role", "%q is not a built-in role Keyturn knows by name; give its template ID (GUID) instead, as for custom roles", v)
					continue
				}
				src.ID = id
				if src.Name == "" {
					src.Name = name
				}
			default:
				c.addf(at+"."+f.key, "%q is not %s (GUID)", v, f.w)
			}
		}
		switch {
		case set == 0:
			c.addf(at, "set one of group, app_role or directory_role")
		case set > 1:
			c.addf(at, "set only one of group, app_role or directory_role")
		case src.ID != "":
			out = append(out, src)
		}
	}
	return out
}

// builtinRoles lists Entra built-in roles by display name and template ID
// (the same in every tenant), from Microsoft's "Microsoft Entra built-in
// roles" reference. Custom roles are given by template ID.
func builtinRoles() [][2]string {
	return [][2]string{
		{"Global Administrator", "62e90394-69f5-4237-9190-012177145e10"},
		{"Application Administrator", "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"},
		{"Cloud Application Administrator", "158c047a-c907-4556-b7ef-446551a6b5f7"},
		{"Application Developer", "cf1c38e5-3621-4004-a7cb-879624dced7c"},
		{"Privileged Role Administrator", "e8611ab8-c189-46e8-94e1-60213ab1f814"},
		{"Privileged Authentication Administrator", "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"},
		{"Security Administrator", "194ae4cb-b126-40b2-bd5b-6091b380977d"},
		{"Security Operator", "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f"},
		{"Security Reader", "5d6b6bb7-de71-4623-b4af-96380a352509"},
		{"Global Reader", "f2ef992c-3afb-46b9-b7cf-a126ee74c451"},
		{"Helpdesk Administrator", "729827e3-9c14-49f7-bb1b-9608f156bbb8"},
		{"User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1"},
		{"Conditional Access Administrator", "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"},
		{"Hybrid Identity Administrator", "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2"},
	}
}

// builtinRoleByName finds a built-in role by display name, ignoring case
// and runs of spaces.
func builtinRoleByName(name string) (id, display string, ok bool) {
	want := strings.Join(strings.Fields(strings.ToLower(name)), " ")
	for _, r := range builtinRoles() {
		if strings.ToLower(r[0]) == want {
			return r[1], r[0], true
		}
	}
	return "", "", false
}

// builtinRoleName returns the display name of a built-in role template
// ID, or "" for roles the table does not hold.
func builtinRoleName(id string) string {
	for _, r := range builtinRoles() {
		if strings.EqualFold(r[1], id) {
			return r[0]
		}
	}
	return ""
}
