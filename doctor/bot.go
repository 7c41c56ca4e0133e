package doctor

import (
	"context"
	"fmt"
)

// bot checks the Bot Framework side: the channel's signing keys can be
// fetched, a connector token can be had, and some tenant may talk to the
// bot.
func (r *run) bot(ctx context.Context) {
	const area = AreaBot
	if r.cfg.BotAppID == "" {
		r.rep.add(area, "Bot Framework", Skip, "MicrosoftAppId is not set: emulator mode, loopback only", "")
		return
	}
	ping(ctx, &r.rep, area, "OpenID metadata and signing keys", r.p.OpenID,
		"allow outbound HTTPS to the metadata URL and its jwks_uri (HTTPS_PROXY), or fix BotOpenIdMetadata for a sovereign cloud")
	fix := "check MicrosoftAppType and the credential it names (MicrosoftAppPassword or KEYTURN_APP_CERTIFICATE_FILE)"
	if r.cfg.BotAppType == "UserAssignedMSI" {
		fix = "MicrosoftAppId must be the client ID of the user-assigned managed identity attached to this container: " +
			"az identity show --name <identity> --resource-group <group> --query clientId -o tsv"
	}
	ping(ctx, &r.rep, area, "connector token for "+r.cfg.BotAppID, r.p.Connector, fix)
	if len(r.cfg.Tenants) == 0 {
		r.rep.add(area, "tenant allow-list", Fail, "empty: every activity will be refused",
			"set tenants: in the policy file, KEYTURN_ALLOWED_TENANTS, or MicrosoftAppTenantId")
	} else {
		r.rep.add(area, "tenant allow-list", Pass, fmt.Sprint(r.cfg.Tenants), "")
	}
}

// store checks the state store is reachable and, for Azure Tables, that
// the table exists (doctor does not create it).
func (r *run) store(ctx context.Context) {
	const area = AreaStore
	check := "state store " + r.cfg.StoreWhere
	if r.p.Store == nil {
		r.rep.add(area, check, Unknown, "no client could be built", "check KEYTURN_STORE and KEYTURN_TABLES_URL")
		return
	}
	err := r.p.Store.Ping(ctx)
	switch {
	case err == nil:
		r.rep.add(area, check, Pass, "", "")
	case notFound(err) && r.cfg.Store == StoreTables:
		r.rep.add(area, check, Fail, "the table "+r.cfg.Table+" does not exist",
			"az storage table create --name "+r.cfg.Table+" --account-name <storage-account> --auth-mode login (or let keyturn serve create it at start)")
	case forbidden(err) && r.cfg.Store == StoreTables:
		r.rep.add(area, check, Fail, err.Error(),
			fmt.Sprintf(`az role assignment create --role "Storage Table Data Contributor" --assignee-object-id %s --assignee-principal-type ServicePrincipal --scope <storage-account-resource-id>`, r.spID()))
	default:
		r.rep.add(area, check, Fail, err.Error(), "check KEYTURN_STORE, KEYTURN_TABLES_URL or KEYTURN_STATE_DIR, and network access")
	}
}

// ping runs one Pinger as one check.
func ping(ctx context.Context, rep *Report, area, check string, p Pinger, fix string) {
	if p == nil {
		rep.add(area, check, Unknown, "no client could be built", fix)
		return
	}
	if err := p.Ping(ctx); err != nil {
		rep.add(area, check, Fail, err.Error(), fix)
		return
	}
	rep.add(area, check, Pass, "", "")
}
