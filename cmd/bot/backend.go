package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/keyturn/keyturn/azure/graphapps"
	"github.com/keyturn/keyturn/azure/graphroles"
	"github.com/keyturn/keyturn/azure/identity"
	"github.com/keyturn/keyturn/azure/keyvault"
	"github.com/keyturn/keyturn/internal/outbound"
	"github.com/keyturn/keyturn/radar"
	"github.com/keyturn/keyturn/rotation"
)

// backend is what a rotation talks to: the directory, the vault, the token
// endpoint, and who is asking.
type backend struct {
	Apps     rotation.Applications
	Vault    rotation.Vault
	Verifier rotation.Verifier
	// Caller names the identity running Keyturn, for the requested-by tag.
	Caller string
	// Clock is nil in production (the system clock); tests set a fake.
	Clock rotation.Clock
	// Roles answers role lookups (nil for the CLI, which needs none).
	Roles rotation.RoleDirectory
	// Cred is the Azure credential, for a shared state store (nil in tests).
	Cred azcore.TokenCredential
	// PrincipalID is the object ID of Keyturn's service principal, whose
	// ownership preflight checks; empty skips that check.
	PrincipalID string
	// Owned lists the apps Keyturn owns, for the radar (nil: no radar).
	Owned radar.OwnedApps
}

// backendFactory builds the backend for cfg.
type backendFactory func(ctx context.Context, cfg config, log *slog.Logger) (backend, error)

// azureBackend is the real backend: DefaultAzureCredential (az login,
// environment, workload or managed identity), Microsoft Graph and Key Vault,
// all through the proxy-aware transport.
func azureBackend(ctx context.Context, cfg config, log *slog.Logger) (backend, error) {
	hc := outbound.Client(outbound.Transport(outbound.ProxyFunc(cfg.Proxy)))
	idOpts := identity.Options{Cloud: cfg.Cloud.AzCore(), Transport: hc, TenantID: cfg.TenantID, Logger: log}
	cred, err := identity.Default(idOpts)
	if err != nil {
		return backend{}, fmt.Errorf("azure credential: %w", err)
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{cfg.Cloud.GraphScope()}})
	if err != nil {
		return backend{}, fmt.Errorf("sign in to Microsoft Graph (az login, or set AZURE_CLIENT_ID/AZURE_TENANT_ID and a credential): %w", err)
	}
	who := identity.ParseClaims(tok.Token)
	tenant := cfg.TenantID
	if tenant == "" {
		tenant = who.TenantID
	}
	if !rotation.IsGUID(tenant) {
		return backend{}, fmt.Errorf("tenant ID unknown: set AZURE_TENANT_ID")
	}
	apps, err := graphapps.New(cred, cfg.Cloud, hc, graphapps.Options{Logger: log, ServicePrincipalID: cfg.PrincipalID})
	if err != nil {
		return backend{}, fmt.Errorf("graph client: %w", err)
	}
	vault := keyvault.New(cred, keyvault.Options{Transport: hc, Logger: log, VaultSuffix: cfg.Cloud.VaultSuffix, PrincipalID: cfg.PrincipalID})
	verifier, err := identity.NewVerifier(tenant, cfg.Cloud.GraphScope(), identity.Options{Cloud: cfg.Cloud.AzCore(), Transport: hc, Logger: log})
	if err != nil {
		return backend{}, fmt.Errorf("verifier: %w", err)
	}
	// Keyturn's own service principal: app role lookups and the radar's
	// listing of the apps it owns read it.
	pid := principalID(cfg.PrincipalID, who)
	roles, err := graphroles.New(cred, cfg.Cloud, hc, graphroles.Options{Logger: log, ServicePrincipalID: pid})
	if err != nil {
		return backend{}, fmt.Errorf("graph role lookups: %w", err)
	}
	return backend{Apps: apps, Vault: vault, Verifier: verifier, Caller: who.Name(), Roles: roles, Cred: cred, Owned: roles,
		PrincipalID: pid}, nil
}

// principalID is the object ID of Keyturn's service principal: the one
// configured (KEYTURN_PRINCIPAL_ID), else the oid of Keyturn's own Graph
// token when that token is an application's (a managed identity or a
// service principal). A person's token (az login) gives none: the person's
// own directory roles may let them change apps they do not own, so
// ownership is then left to Graph to decide.
func principalID(configured string, who identity.Claims) string {
	if configured != "" {
		return strings.ToLower(configured)
	}
	if who.AppOnly() && rotation.IsGUID(who.ObjectID) {
		return strings.ToLower(who.ObjectID)
	}
	return ""
}
