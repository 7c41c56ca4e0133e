package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/keyturn/keyturn/rotation"
)

// vaults checks every allowed vault: it answers, Keyturn may read secret
// properties, it uses Azure RBAC and keeps deleted secrets; with the write
// probe, a marked secret goes in, comes back and is deleted.
//
// RBAC mode is a management-plane property (enableRbacAuthorization): the
// data plane answers the same to a permitted caller either way, so it is
// read from Azure Resource Manager when the identity may. Soft delete shows
// on the data plane too: every secret's recoveryLevel says whether deleted
// secrets are kept (Recoverable...) or not (Purgeable), so it is read from
// Resource Manager, else from a secret the vault holds or the probe wrote.
func (r *run) vaults(ctx context.Context) {
	if len(r.cfg.Vaults) == 0 {
		r.rep.add(AreaVaults, "allowed vaults", Fail, "the policy allows no vault: every rotation will be refused",
			"list vaults under vaults: in the policy file (or KEYTURN_ALLOWED_VAULTS)")
		return
	}
	for _, uri := range r.cfg.Vaults {
		r.vault(ctx, uri)
	}
}

func (r *run) vault(ctx context.Context, uri string) {
	const area = AreaVaults
	name := vaultName(uri)
	grant := fmt.Sprintf(`az role assignment create --role "Key Vault Secrets Officer" --assignee-object-id %s --assignee-principal-type ServicePrincipal --scope $(az keyvault show --name %s --query id -o tsv)`,
		r.spID(), name)
	level := ""
	if r.p.Vaults == nil {
		r.rep.add(area, name+" answers", Unknown, "no Key Vault client could be built", signInFix)
	} else {
		info, err := r.p.Vaults.Inspect(ctx, uri)
		switch {
		case errors.Is(err, rotation.ErrVaultUnreachable):
			r.rep.add(area, name+" answers", Fail, err.Error(),
				"check the vault's name in the policy, DNS (private endpoints) and the proxy (HTTPS_PROXY)")
		case errors.Is(err, rotation.ErrVaultForbidden):
			r.rep.add(area, name+" answers", Pass, "", "")
			r.rep.add(area, name+" secret properties readable", Fail, err.Error(), grant)
		case err != nil:
			r.rep.add(area, name+" answers", Fail, err.Error(), "retry; if it persists, check the vault in the Azure portal")
		default:
			r.rep.add(area, name+" answers", Pass, uri, "")
			r.rep.add(area, name+" secret properties readable", Pass, fmt.Sprintf("%d secret(s) listed, no value read", info.Secrets), "")
			level = info.RecoveryLevel
		}
	}
	if r.cfg.WriteProbe && r.p.Vaults != nil {
		probe := r.probeName()
		res, err := r.p.Vaults.Probe(ctx, uri, probe)
		if err != nil {
			r.rep.add(area, name+" write probe", Fail, err.Error(), grant)
		} else {
			after := "purged"
			if !res.Purged {
				after = "deleted; purge protection keeps it, deleted, until the retention period ends"
			}
			r.rep.add(area, name+" write probe", Pass, fmt.Sprintf("wrote, read back and removed %s (%s)", res.Name, after), "")
			if level == "" {
				level = res.RecoveryLevel
			}
		}
	}
	r.vaultSettings(ctx, uri, level)
}

// vaultSettings checks RBAC mode and soft delete.
func (r *run) vaultSettings(ctx context.Context, uri, level string) {
	const area = AreaVaults
	name := vaultName(uri)
	var set VaultSettings
	err := errors.New("no Azure Resource Manager client")
	if r.p.Resources != nil {
		set, err = r.p.Resources.Settings(ctx, uri)
	}
	if err != nil {
		r.rep.add(area, name+" uses Azure RBAC", Unknown, "could not read the vault resource: "+err.Error(),
			"give the identity running doctor Reader on the vault (or run doctor with az login as an operator who has it), or look: "+
				"az keyvault show --name "+name+" --query properties.enableRbacAuthorization")
	} else if !set.RBAC {
		r.rep.add(area, name+" uses Azure RBAC", Fail, "the vault uses access policies: Keyturn's role assignment (Key Vault Secrets Officer) does not apply",
			"grant the vault's users RBAC roles first, then: az keyvault update --name "+name+" --enable-rbac-authorization true")
	} else {
		r.rep.add(area, name+" uses Azure RBAC", Pass, set.ResourceID, "")
		r.vaultRoles(ctx, name, set)
	}

	check := name + " soft delete on"
	fix := "az keyvault update --name " + name + " --enable-soft-delete true (and consider --enable-purge-protection true)"
	switch {
	case err == nil && set.SoftDelete:
		d := "purge protection off"
		if set.PurgeProtection {
			d = "purge protection on"
		}
		r.rep.add(area, check, Pass, d, "")
	case err == nil:
		r.rep.add(area, check, Fail, "deleted secrets are purged at once: a mistaken delete loses a live secret", fix)
	case strings.Contains(level, "Recoverable"):
		r.rep.add(area, check, Pass, "a secret's recovery level is "+level, "")
	case level != "":
		r.rep.add(area, check, Fail, "a secret's recovery level is "+level+": deleted secrets are purged at once", fix)
	default:
		r.rep.add(area, check, Unknown, "neither the vault resource nor a secret could be read to tell",
			"run doctor with --write-probe, or look: az keyvault show --name "+name+" --query properties.enableSoftDelete")
	}
}
