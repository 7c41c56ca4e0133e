package doctor

import (
	"context"
	"fmt"
	"strings"
)

// Azure built-in role definition IDs (the same in every tenant).
const (
	roleSecretsOfficer = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7" // Key Vault Secrets Officer
	roleKVAdmin        = "00482a5a-887f-4fb3-b363-3b7fe8e74483" // Key Vault Administrator
)

// broaderRoles are roles on a vault beyond what Keyturn needs.
var broaderRoles = []struct{ id, name string }{
	{roleKVAdmin, "Key Vault Administrator"},
	{"8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner"},
	{"b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor"},
	{"18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator"},
}

// vaultRoles checks, from Resource Manager, which roles Keyturn's service
// principal holds on the vault, whoever runs doctor: Key Vault Secrets
// Officer is needed, broader roles break least privilege.
func (r *run) vaultRoles(ctx context.Context, name string, set VaultSettings) {
	const area = AreaVaults
	check := name + " Keyturn holds Key Vault Secrets Officer"
	if r.sp == nil {
		r.rep.add(area, check, Unknown, "Keyturn's service principal is not known (see graph above)", "set KEYTURN_PRINCIPAL_ID")
		return
	}
	grant := fmt.Sprintf(`az role assignment create --role "Key Vault Secrets Officer" --assignee-object-id %s --assignee-principal-type ServicePrincipal --scope %s`,
		r.sp.ObjectID, set.ResourceID)
	roles, err := r.p.Resources.RolesOf(ctx, set.ResourceID, r.sp.ObjectID)
	if err != nil {
		r.rep.add(area, check, Unknown, "could not read role assignments: "+err.Error(),
			"look: az role assignment list --assignee "+r.sp.ObjectID+" --scope "+set.ResourceID+" --include-inherited")
		return
	}
	held := map[string]bool{}
	for _, id := range roles {
		held[strings.ToLower(id)] = true
	}
	switch {
	case held[roleSecretsOfficer]:
		r.rep.add(area, check, Pass, "", "")
	case held[roleKVAdmin]:
		r.rep.add(area, check, Warn, "only Key Vault Administrator, which also manages keys, certificates and access", grant)
	default:
		r.rep.add(area, check, Fail, "no role that lets Keyturn write secrets", grant)
	}
	for _, b := range broaderRoles {
		if !held[b.id] || b.id == roleKVAdmin && !held[roleSecretsOfficer] {
			continue // not held, or already the warning above
		}
		r.rep.add(area, name+" Keyturn holds "+b.name, Warn, "more than Keyturn needs: least privilege is Keyturn's promise",
			fmt.Sprintf("az role assignment delete --assignee %s --role %q --scope %s (check inherited assignments too)", r.sp.ObjectID, b.name, set.ResourceID))
	}
}
