package graphapps

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/applicationswithappid"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/keyturn/keyturn/azure/internal/graphcore"
	"github.com/keyturn/keyturn/rotation"
)

// appFields is the $select of GetApp.
var appFields = []string{"id", "appId", "displayName", "passwordCredentials", "signInAudience"}

// appExpand is the $expand of GetApp: the owners, for the approval card.
var appExpand = []string{"owners($select=id,displayName,userPrincipalName,appId)"}

// maxDisplayNameLength bounds a credential's display name. Keyturn's names
// are short and unique; a long one is a caller bug.
const maxDisplayNameLength = 256

// GetApp implements rotation.Applications: GET
// /applications(appId='{clientID}')?$select=id,appId,displayName,passwordCredentials,signInAudience.
// A malformed clientID returns ErrInvalid before anything is sent.
func (c *Client) GetApp(ctx context.Context, clientID string) (rotation.App, error) {
	id, ok := graphcore.CanonicalGUID(clientID)
	if !ok {
		return rotation.App{}, fmt.Errorf("get app: client id is not a GUID: %w", rotation.ErrInvalid)
	}
	var got models.Applicationable
	op := call{name: "get app", app: id, appKey: "client_id", idempotent: true}
	err := c.do(ctx, op, func(ctx context.Context) error {
		b := applicationswithappid.NewApplicationsWithAppIdRequestBuilderInternal(map[string]string{}, c.adapter, &id)
		res, err := b.Get(ctx, &applicationswithappid.ApplicationsWithAppIdRequestBuilderGetRequestConfiguration{
			QueryParameters: &applicationswithappid.ApplicationsWithAppIdRequestBuilderGetQueryParameters{Select: appFields, Expand: appExpand},
			Options:         c.reqOptions,
		})
		got = res
		return err
	})
	if err != nil {
		return rotation.App{}, fmt.Errorf("get app %s: %w", id, err)
	}
	if got == nil {
		return rotation.App{}, fmt.Errorf("get app %s: empty answer from graph: %w", id, rotation.ErrAmbiguous)
	}
	app := toApp(got)
	if !strings.EqualFold(app.ClientID, id) {
		return rotation.App{}, fmt.Errorf("get app %s: graph answered with another application", id)
	}
	return app, nil
}

// AddPassword implements rotation.Applications: POST
// /applications/{objectID}/addPassword, sent at most once per attempt (the
// SDK's retry handler is off). Only 429 and "concurrent requests" are
// retried; a timeout, a dropped connection or a 5xx returns ErrAmbiguous.
func (c *Client) AddPassword(ctx context.Context, objectID, displayName string, end time.Time) (rotation.NewPassword, error) {
	id, ok := graphcore.CanonicalGUID(objectID)
	if !ok {
		return rotation.NewPassword{}, fmt.Errorf("add password: application object id is not a GUID: %w", rotation.ErrInvalid)
	}
	if !validDisplayName(displayName) {
		return rotation.NewPassword{}, fmt.Errorf("add password to application %s: display name must be 1-%d printable characters: %w",
			id, maxDisplayNameLength, rotation.ErrInvalid)
	}
	if end.IsZero() {
		return rotation.NewPassword{}, fmt.Errorf("add password to application %s: end time is zero: %w", id, rotation.ErrInvalid)
	}
	end = end.UTC()

	var got models.PasswordCredentialable
	op := call{name: "add password", app: id, appKey: "app_object_id"}
	err := c.do(ctx, op, func(ctx context.Context) error {
		cred := models.NewPasswordCredential()
		cred.SetDisplayName(&displayName)
		cred.SetEndDateTime(&end)
		body := applications.NewItemAddPasswordPostRequestBody()
		body.SetPasswordCredential(cred)
		res, err := c.application(id).AddPassword().Post(ctx, body,
			&applications.ItemAddPasswordRequestBuilderPostRequestConfiguration{Options: c.reqOptions})
		got = res
		return err
	})
	if err != nil {
		return rotation.NewPassword{}, fmt.Errorf("add password to application %s: %w", id, err)
	}
	secret := takeSecret(got)
	if got == nil || got.GetKeyId() == nil || secret.IsZero() {
		return rotation.NewPassword{}, fmt.Errorf("add password to application %s: graph answered without a key id or secret; the credential may exist: %w",
			id, rotation.ErrAmbiguous)
	}
	p := graphcore.Credential(got)
	if p.DisplayName == "" {
		p.DisplayName = displayName
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "graph password added",
		slog.String("app_object_id", id), slog.String("key_id", p.KeyID), slog.Time("end", p.End))
	return rotation.NewPassword{PasswordCredential: p, Secret: secret}, nil
}

// RemovePassword implements rotation.Applications: POST
// /applications/{objectID}/removePassword. When Graph refuses with 404 or a
// 400 that is not contention, it reads the application: gone means
// ErrAppNotFound, and a key it no longer lists means success. Graph's "No
// password credential found with keyId" has been reported both as 400
// Request_BadRequest and as 404 Request_ResourceNotFound; the read settles
// it without parsing the message.
func (c *Client) RemovePassword(ctx context.Context, objectID, keyID string) error {
	id, ok := graphcore.CanonicalGUID(objectID)
	if !ok {
		return fmt.Errorf("remove password: application object id is not a GUID: %w", rotation.ErrInvalid)
	}
	kid, ok := graphcore.CanonicalGUID(keyID)
	if !ok {
		return fmt.Errorf("remove password from application %s: key id is not a GUID: %w", id, rotation.ErrInvalid)
	}
	key := uuid.MustParse(kid)

	op := call{name: "remove password", app: id, appKey: "app_object_id", idempotent: true}
	err := c.do(ctx, op, func(ctx context.Context) error {
		body := applications.NewItemRemovePasswordPostRequestBody()
		body.SetKeyId(&key)
		return c.application(id).RemovePassword().Post(ctx, body,
			&applications.ItemRemovePasswordRequestBuilderPostRequestConfiguration{Options: c.reqOptions})
	})
	if err == nil {
		c.log.LogAttrs(ctx, slog.LevelInfo, "graph password removed", slog.String("app_object_id", id), slog.String("key_id", kid))
		return nil
	}
	var ge *graphError
	if !errors.As(err, &ge) || !(ge.Kind == kindNotFound || ge.Kind == kindRejected && ge.Facts.Status == 400) {
		return fmt.Errorf("remove password %s from application %s: %w", kid, id, err)
	}
	app, gerr := c.passwordsOf(ctx, id)
	switch {
	case errors.Is(gerr, rotation.ErrAppNotFound):
		return fmt.Errorf("remove password %s from application %s: %w", kid, id, gerr)
	case gerr != nil:
		return fmt.Errorf("remove password %s from application %s: %w (checking whether the key is gone: %w)", kid, id, err, gerr)
	}
	if _, still := app.Password(kid); still {
		return fmt.Errorf("remove password %s from application %s: %w", kid, id, err)
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "graph password already absent", slog.String("app_object_id", id), slog.String("key_id", kid))
	return nil
}

// passwordsOf reads the application object id with its password
// credentials: GET /applications/{id}?$select=id,passwordCredentials.
func (c *Client) passwordsOf(ctx context.Context, id string) (rotation.App, error) {
	var got models.Applicationable
	op := call{name: "get app by object id", app: id, appKey: "app_object_id", idempotent: true}
	err := c.do(ctx, op, func(ctx context.Context) error {
		res, err := c.application(id).Get(ctx, &applications.ApplicationItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &applications.ApplicationItemRequestBuilderGetQueryParameters{Select: []string{"id", "passwordCredentials"}},
			Options:         c.reqOptions,
		})
		got = res
		return err
	})
	if err != nil {
		return rotation.App{}, fmt.Errorf("get application %s: %w", id, err)
	}
	if got == nil {
		return rotation.App{}, fmt.Errorf("get application %s: empty answer from graph: %w", id, rotation.ErrAmbiguous)
	}
	return toApp(got), nil
}

// application returns the request builder of /applications/{id}; id is a
// validated GUID.
func (c *Client) application(id string) *applications.ApplicationItemRequestBuilder {
	return applications.NewApplicationsRequestBuilderInternal(map[string]string{}, c.adapter).ByApplicationId(id)
}

// takeSecret moves the secret text out of an addPassword answer into a
// Secret and clears it from the model, so no other copy stays reachable.
func takeSecret(p models.PasswordCredentialable) rotation.Secret {
	if p == nil {
		return rotation.Secret{}
	}
	v := p.GetSecretText()
	p.SetSecretText(nil)
	if v == nil {
		return rotation.Secret{}
	}
	return rotation.NewSecret(*v)
}

func toApp(a models.Applicationable) rotation.App {
	app := rotation.App{
		ObjectID:       strings.ToLower(graphcore.Deref(a.GetId())),
		ClientID:       strings.ToLower(graphcore.Deref(a.GetAppId())),
		DisplayName:    graphcore.Deref(a.GetDisplayName()),
		SignInAudience: graphcore.Deref(a.GetSignInAudience()),
	}
	for _, p := range a.GetPasswordCredentials() {
		if p != nil {
			app.Passwords = append(app.Passwords, graphcore.Credential(p))
		}
	}
	for _, o := range a.GetOwners() {
		if o != nil {
			app.Owners = append(app.Owners, toOwner(o))
		}
	}
	return app
}

// toOwner names an owner: a user by display name and UPN, a service
// principal by display name and app ID.
func toOwner(o models.DirectoryObjectable) rotation.Principal {
	p := rotation.Principal{ObjectID: strings.ToLower(graphcore.Deref(o.GetId()))}
	switch v := o.(type) {
	case models.Userable:
		p.Name = graphcore.Deref(v.GetDisplayName())
		if upn := graphcore.Deref(v.GetUserPrincipalName()); upn != "" {
			p.Name += " <" + upn + ">"
		}
	case models.ServicePrincipalable:
		p.Name = graphcore.Deref(v.GetDisplayName()) + " (app " + graphcore.Deref(v.GetAppId()) + ")"
	default:
		if n, ok := o.GetAdditionalData()["displayName"].(*string); ok {
			p.Name = graphcore.Deref(n)
		}
	}
	return p
}

func validDisplayName(s string) bool {
	if s == "" || len([]rune(s)) > maxDisplayNameLength {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
