package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/keyturn/keyturn/azure/identity"
	"github.com/keyturn/keyturn/bot"
	"github.com/keyturn/keyturn/bot/botauth"
	"github.com/keyturn/keyturn/bot/connector"
	"github.com/keyturn/keyturn/internal/outbound"
)

// serve runs the Teams bot until ctx is done.
func (c *cli) serve(ctx context.Context, args []string) int {
	fs := c.flags("serve")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitUsage
	}
	cfg, err := loadConfig(c.getenv)
	scfg, serr := loadServeConfig(c.getenv, cfg)
	if err := errors.Join(err, serr); err != nil {
		fmt.Fprintf(c.stderr, "configuration:\n%v\n", err)
		return exitUsage
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "info"
	}
	log := newLogger(c.stderr, cfg.LogLevel)
	s, code := c.openWith(ctx, cfg, log, cfg.policy())
	if s == nil {
		return code
	}
	defer s.close()

	hc := outbound.Client(outbound.Transport(outbound.ProxyFunc(cfg.Proxy)))
	urls := &bot.ServiceURLs{}
	var auth bot.Authenticator
	ready := []func(context.Context) error{s.store.Ping}
	if scfg.AppID != "" {
		keys, err := botauth.NewKeySource(botauth.KeySourceConfig{MetadataURL: scfg.OpenIDURL, HTTPClient: hc, Logger: log})
		if err != nil {
			fmt.Fprintf(c.stderr, "configuration:\nBotOpenIdMetadata: %v\n", err)
			return exitUsage
		}
		v, err := botauth.NewValidator(botauth.Config{AppID: scfg.AppID, Issuer: cfg.Cloud.BotTokenIssuer, Keys: keys})
		if err != nil {
			fmt.Fprintf(c.stderr, "error: %v\n", err)
			return exitFailure
		}
		auth = v
		ready = append(ready, keys.Ready)
	}
	tokens, err := connectorTokens(scfg, cfg, hc, log)
	if err != nil {
		fmt.Fprintf(c.stderr, "error: connector credential: %v\n", err)
		return exitFailure
	}
	allowed := urls.Allowed
	if scfg.AppID == "" {
		allowed = func(u string) bool { return urls.Allowed(u) && strings.HasPrefix(u, "http://") }
	}
	sender, err := connector.New(connector.Config{HTTP: hc, Tokens: tokens, AllowedServiceURL: allowed, Logger: log})
	if err != nil {
		fmt.Fprintf(c.stderr, "error: %v\n", err)
		return exitFailure
	}
	srv, err := bot.New(bot.Config{
		AppID: scfg.AppID, Auth: auth, Tenants: scfg.Tenants, ServiceURLs: urls,
		Sender: sender, Rotations: s.rot, Audit: s.audit, Log: log,
		Catalog:    &bot.StaticCatalog{Apps: scfg.Apps, DefaultVault: scfg.DefaultVault, VaultURI: cfg.Cloud.VaultURI},
		Authorizer: &bot.AllowList{Operators: scfg.Operators},
		References: &bot.MemoryReferences{}, Dedup: &bot.MemoryDedup{},
		Ready: func(ctx context.Context) error {
			var errs []error
			for _, r := range ready {
				errs = append(errs, r(ctx))
			}
			return errors.Join(errs...)
		},
	})
	if err != nil {
		fmt.Fprintf(c.stderr, "error: %v\n", err)
		return exitFailure
	}
	ln, err := net.Listen("tcp", scfg.Addr)
	if err != nil {
		fmt.Fprintf(c.stderr, "error: listen: %v\n", err)
		return exitFailure
	}
	scfg.Addr = ln.Addr().String()
	logStartup(log, cfg, scfg)
	c.recoverFirst(ctx, s)
	if err := srv.Serve(ctx, ln); err != nil {
		fmt.Fprintf(c.stderr, "error: %v\n", err)
		return exitFailure
	}
	log.Info("stopped")
	return exitOK
}

// logStartup says what the server is using, so an operator reading the
// first lines knows its mode, identity, tenants, cloud and state.
func logStartup(log *slog.Logger, cfg config, s serveConfig) {
	mode := "teams"
	if s.AppID == "" {
		mode = "emulator (no MicrosoftAppId: unauthenticated, loopback only)"
	}
	log.Info("keyturn serving", "addr", s.Addr, "mode", mode, "app_id", s.AppID, "app_type", s.AppType,
		"tenants", strings.Join(s.Tenants, ","), "cloud", cfg.Cloud.Name, "openid_metadata", s.OpenIDURL)
	log.Info("keyturn state", "state_dir", cfg.StateDir, "store", "bbolt (single replica)", "audit", "audit.jsonl in the state directory")
	log.Info("keyturn policy", "allowed_vaults", strings.Join(cfg.AllowedVaults, ","), "default_vault", s.DefaultVault,
		"aliases", len(s.Apps), "operators", len(s.Operators))
	if len(cfg.AllowedVaults) == 0 {
		log.Warn("no vault is allowed (KEYTURN_ALLOWED_VAULTS): every rotation will be refused")
	}
	if len(s.Operators) == 0 {
		log.Warn("no operator is listed (KEYTURN_OPERATORS): every rotation will be refused")
	}
}

// connectorTokens returns the token source for Bot Framework connector
// calls, by MicrosoftAppType. In emulator mode there is no identity: a fixed
// placeholder goes only to loopback service URLs.
func connectorTokens(s serveConfig, cfg config, hc azcoreTransport, log *slog.Logger) (connector.TokenSource, error) {
	if s.AppID == "" {
		return connector.NewCachingTokenSource(func(context.Context) (string, time.Time, error) {
			return "emulator-no-auth", time.Now().Add(time.Hour), nil
		}, nil), nil
	}
	opts := identity.Options{Cloud: cfg.Cloud.AzCore(), Transport: hc, Logger: log}
	var cred azcore.TokenCredential
	var err error
	switch s.AppType {
	case appTypeMSI:
		cred, err = identity.ManagedIdentity(s.AppID, opts)
	case appTypeSingleTenant:
		if s.AppCertPEM != nil {
			cred, err = identity.ClientCertificate(s.AppTenantID, s.AppID, s.AppCertPEM, opts)
		} else {
			cred, err = identity.ClientSecret(s.AppTenantID, s.AppID, s.AppPassword, opts)
		}
	case appTypeMultiTenant:
		cred, err = identity.ClientSecret("botframework.com", s.AppID, s.AppPassword, opts)
	}
	if err != nil {
		return nil, err
	}
	scope := cfg.Cloud.BotScope
	return connector.NewCachingTokenSource(func(ctx context.Context) (string, time.Time, error) {
		tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
		if err != nil {
			return "", time.Time{}, err
		}
		return tok.Token, tok.ExpiresOn, nil
	}, nil), nil
}

// azcoreTransport is the HTTP client azidentity sends through.
type azcoreTransport = policy.Transporter
