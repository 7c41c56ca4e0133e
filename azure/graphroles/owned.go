package graphroles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/keyturn/keyturn/azure/internal/graphcore"
	"github.com/keyturn/keyturn/rotation"
)

// tmplOwnedApps lists the applications Keyturn's service principal owns.
const tmplOwnedApps = "{+baseurl}/servicePrincipals/{servicePrincipal%2Did}/ownedObjects/microsoft.graph.application{?%24select,%24top}"

// ownedPageSize is the $top of the owned-apps listing: Graph's largest page
// for directory objects, so 2,000 apps take three requests.
const ownedPageSize = 999

// ownedFields is the $select of the owned-apps listing: what the radar
// needs and nothing more (no owners, no key credentials).
var ownedFields = []string{"id", "appId", "displayName", "passwordCredentials"}

// OwnedApps lists the applications Keyturn's service principal owns, page
// by page, each with its password credentials (never a secret: Graph
// returns secretText only from addPassword): GET
// /servicePrincipals/{spId}/ownedObjects/microsoft.graph.application
// ?$select=id,appId,displayName,passwordCredentials&$top=999, following
// @odata.nextLink within the base URL. 429 is retried after Retry-After by
// graphcore's loop and, when it persists, returns rotation.ErrThrottled.
// It stops at the first error fn returns. Without
// Options.ServicePrincipalID it fails before sending anything.
func (c *Client) OwnedApps(ctx context.Context, fn func([]rotation.App) error) error {
	if c.spID == "" {
		return errors.New("owned apps: keyturn's service principal object id is not configured (KEYTURN_PRINCIPAL_ID)")
	}
	op := call{name: "list owned applications", target: c.spID, targetKey: keySP, perm: permOwned}
	top := int32(ownedPageSize)
	first := c.get(tmplOwnedApps, map[string]string{"servicePrincipal%2Did": c.spID}, listQuery{Select: ownedFields, Top: &top}, nil)
	pages, apps := 0, 0
	err := c.list(ctx, op, first, nil, models.CreateApplicationCollectionResponseFromDiscriminatorValue,
		func(p absser.Parsable) error {
			page, ok := p.(models.ApplicationCollectionResponseable)
			if !ok {
				return fmt.Errorf("graph answered with %T, not applications", p)
			}
			out := make([]rotation.App, 0, len(page.GetValue()))
			for _, a := range page.GetValue() {
				if a == nil || a.GetAppId() == nil {
					continue
				}
				out = append(out, appOf(a))
			}
			pages++
			apps += len(out)
			return fn(out)
		})
	c.log.LogAttrs(ctx, slog.LevelDebug, "graph owned applications read",
		slog.String(keySP, c.spID), slog.Int("pages", pages), slog.Int("apps", apps))
	if err != nil {
		return fmt.Errorf("owned applications of service principal %s (after %s apps): %w", c.spID, strconv.Itoa(apps), err)
	}
	return nil
}

// appOf copies the public fields of an application; Graph sends no secret
// in a listing, and none is read.
func appOf(a models.Applicationable) rotation.App {
	app := rotation.App{
		ObjectID:    strings.ToLower(graphcore.Deref(a.GetId())),
		ClientID:    strings.ToLower(graphcore.Deref(a.GetAppId())),
		DisplayName: graphcore.Deref(a.GetDisplayName()),
	}
	for _, p := range a.GetPasswordCredentials() {
		if p != nil {
			app.Passwords = append(app.Passwords, graphcore.Credential(p))
		}
	}
	return app
}
