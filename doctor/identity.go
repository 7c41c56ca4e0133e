package doctor

import (
	"context"
	"errors"
	"fmt"
)

// signInFix is what to do when no token can be had.
const signInFix = "sign in as the deployment's identity: in Azure, the managed identity (AZURE_CLIENT_ID names a user-assigned one); " +
	"elsewhere az login --tenant <tenant-id>, or AZURE_TENANT_ID, AZURE_CLIENT_ID and a credential for the app"

// identity gets a token for Graph and for Key Vault and says for whom.
func (r *run) identity(ctx context.Context) {
	if r.p.Tokens == nil {
		r.rep.add(AreaIdentity, "tokens", Unknown, "no credential could be built", signInFix)
		return
	}
	for _, t := range []struct{ what, scope string }{
		{"token for Microsoft Graph", r.cfg.GraphScope},
		{"token for Key Vault", r.cfg.VaultScope},
	} {
		c, err := r.p.Tokens.Claims(ctx, t.scope)
		if err != nil {
			r.rep.add(AreaIdentity, t.what, Fail, fmt.Sprintf("scope %s: %v", t.scope, err), signInFix)
			continue
		}
		if r.claims == nil {
			r.claims = &c
		}
		detail := fmt.Sprintf("for %s in tenant %s", c.Who(), c.TenantID)
		if !c.App {
			detail += "; a user, not Keyturn's identity: the checks below read Keyturn's service principal, but vault access is checked as this user"
		}
		r.rep.add(AreaIdentity, t.what, Pass, detail, "")
	}
}

// forbidden reports whether err says a permission is missing.
func forbidden(err error) bool { return errors.Is(err, ErrForbidden) }

// notFound reports whether err says the object is not there.
func notFound(err error) bool { return errors.Is(err, ErrNotFound) }
