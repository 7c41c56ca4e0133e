package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azpolicy "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/keyturn/keyturn/azure/identity"
	"github.com/keyturn/keyturn/bot"
	"github.com/keyturn/keyturn/bot/botauth"
	"github.com/keyturn/keyturn/bot/connector"
	"github.com/keyturn/keyturn/internal/outbound"
	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/radar"
	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/store/kvstore"
)

// serve runs the Teams bot until ctx is done.
func (c *cli) serve(ctx context.Context, args []string) int {
	fs := c.flags("serve")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return usageExit(err)
	}
	cfg, err := loadConfig(c.getenv)
	scfg, serr := loadServeConfig(c.getenv, cfg)
	var pc policy.Policy
	var perr error
	if err == nil && serr == nil {
		pc, perr = servePolicy(cfg, scfg)
	}
	if err := errors.Join(err, serr, perr, emulatorOptIn(c.getenv, scfg)); err != nil {
		fmt.Fprintf(c.stderr, "configuration:\n%v\n", err)
		return exitUsage
	}
	return c.runBot(ctx, cfg, scfg, pc, func(ctx context.Context, srv *bot.Server, log *slog.Logger) error {
		ln, err := net.Listen("tcp", scfg.Addr)
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		log.Info("keyturn listening", "addr", ln.Addr().String())
		return srv.Serve(ctx, ln)
	})
}

// emulatorOptInVar is the variable by which an operator allows serve to
// run in emulator mode (no MicrosoftAppId: nobody is authenticated, the
// caller is whoever the request body says) against real Graph and Key
// Vault; emulatorOptInValue is the only value it takes. The sandbox, whose
// Azure is simulated in-process, needs neither.
const (
	emulatorOptInVar   = "KEYTURN_EMULATOR_WITH_REAL_AZURE"
	emulatorOptInValue = "i-understand-requests-are-unauthenticated"
)

// emulatorOptIn refuses emulator mode on serve (whose backend is real
// Azure) unless the operator opted in explicitly.
func emulatorOptIn(getenv env, scfg serveConfig) error {
	if scfg.AppID != "" || getenv(emulatorOptInVar) == emulatorOptInValue {
		return nil
	}
	return fmt.Errorf("MicrosoftAppId is unset (Bot Framework Emulator mode): requests would not be authenticated and the caller "+
		"would be whoever the request says, while Graph and Key Vault are real. Set MicrosoftAppId, use `keyturn sandbox` "+
		"(simulated Azure), or opt in with %s=%s", emulatorOptInVar, emulatorOptInValue)
}

// botRunner serves a built bot until ctx is done.
type botRunner func(ctx context.Context, srv *bot.Server, log *slog.Logger) error

// runBot wires the bot on the backend, state and policy, recovers what a
// crash left unfinished, and hands it to run: serve listens on its own,
// the sandbox serves it next to its page.
func (c *cli) runBot(ctx context.Context, cfg config, scfg serveConfig, pc policy.Policy, run botRunner) int {
	if cfg.LogLevel == "" {
		cfg.LogLevel = "info"
	}
	log := newLogger(c.stderr, cfg.LogLevel)
	tuneGC(c.getenv, log)
	if cfg.OwnClientID != "" {
		pc.Rotation.OwnClientID = cfg.OwnClientID
	}
	s, code := c.openWith(ctx, cfg, log, pc.Rotation)
	if s == nil {
		return code
	}
	defer s.close()
	if s.backend.Roles == nil {
		fmt.Fprintln(c.stderr, "error: no role directory: serve needs Entra ID role lookups")
		return exitFailure
	}
	clock := s.rot.Clock
	s.rot.KnownApps = pc.ClientIDs()
	s.rot.SweepEvery = sweepEvery
	if s.rot.PrincipalID == "" {
		log.Warn("Keyturn's service principal is unknown (set KEYTURN_PRINCIPAL_ID): requests for apps Keyturn does not own are refused only when the approved rotation runs")
	} else {
		log.Info("keyturn owner check", "principal_id", s.rot.PrincipalID)
	}
	if s.state.Kind == storeTables {
		s.rot.Holder = replicaName()
	}
	if err := auditPolicyChange(ctx, s.store, scfg.PolicyPath); err != nil {
		fmt.Fprintf(c.stderr, "error: %v\n", err)
		return exitFailure
	}
	authz := &policy.Authorizer{Policy: &pc, Dir: s.backend.Roles, Audit: s.store, Clock: clock, CacheFor: policy.MaxRoleCache}
	approvals := &rotation.Approvals{Store: s.store, Authz: authz, Rotator: s.rot, Audit: s.store, Clock: clock, Rule: pc.Rule, TTL: pc.RequestTTL}

	hc := outbound.Client(outbound.Transport(outbound.ProxyFunc(cfg.Proxy)))
	urls := &bot.ServiceURLs{Store: s.store} // shared by replicas, kept across restarts
	var auth bot.Authenticator
	ready := []func(context.Context) error{s.ping}
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
	holder := "" // bot.New names each replica
	if s.state.Kind == storeBolt {
		// The bbolt file is locked by one process at a time, so whoever
		// holds the scheduler lease is this process or a dead one: a fixed
		// name lets a restart take it at once instead of waiting it out.
		holder = "keyturn-single-process"
	}
	srv, err := bot.New(bot.Config{
		Radar: radarOf(s, pc, log), Holder: holder, SingleProcess: s.state.Kind == storeBolt,
		AppID: scfg.AppID, Auth: auth, Tenants: pc.Tenants, ServiceURLs: urls,
		Sender: sender, Members: sender, Rotations: s.rot, Approvals: approvals, Authz: authz,
		Audit: s.store, State: s.store, Dedup: s.store, Log: log,
		Catalog: &bot.StaticCatalog{Apps: catalogApps(pc.Apps), DefaultVault: pc.DefaultVault, VaultURI: cfg.Cloud.VaultURI},
		Now:     clock.Now, BotName: scfg.BotName, Schedule: scfg.Schedule, Emulator: scfg.Emulator,
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
	s.rot.Progress = srv.OnProgress
	logStartup(log, cfg, scfg, pc, s.state)
	// What a crash left unfinished is settled by the scheduler's first
	// tick, right after the server starts (on the bbolt file at once: its
	// lease is this process's). Not before serving: recovering a rotation
	// can wait a minute for a lagging directory listing, and a server that
	// does not answer its health probe meanwhile is restarted by its
	// orchestrator, again and again.
	if err := run(ctx, srv, log); err != nil {
		fmt.Fprintf(c.stderr, "error: %v\n", err)
		return exitFailure
	}
	log.Info("stopped")
	return exitOK
}

// sweepEvery is how often the scheduler looks for orphaned credentials:
// one Graph read per known app, for an event that needs a lost answer and
// a lagging directory at once.
const sweepEvery = 10 * time.Minute

// replicaName names this process among the replicas sharing the store.
func replicaName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rotation.RandomHex(4))
}

// auditPolicyChange records a config.changed event when the policy in
// force differs from the one the last start recorded (by the file's
// SHA-256, or "built-in"), before serving under it: no audit, no start.
func auditPolicyChange(ctx context.Context, st *kvstore.Store, path string) error {
	current := "built-in"
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read the policy file: %w", err)
		}
		sum := sha256.Sum256(b)
		current = path + " sha256:" + hex.EncodeToString(sum[:])
	}
	var last string
	if err := st.Setting(ctx, "policy", &last); err == nil && last == current {
		return nil
	}
	if err := st.Record(ctx, rotation.Event{Type: rotation.EventConfigChanged, Detail: "policy in force: " + current}); err != nil {
		return fmt.Errorf("audit the policy change: %w", err)
	}
	return st.SetSetting(ctx, "policy", current)
}

// servePolicy is the policy file named by KEYTURN_POLICY, or the built-in
// policy with the simple variables (KEYTURN_ALLOWED_VAULTS, KEYTURN_APPS,
// KEYTURN_DEFAULT_VAULT); tenants default to MicrosoftAppTenantId.
func servePolicy(cfg config, scfg serveConfig) (policy.Policy, error) {
	pc := policy.Builtin()
	if scfg.PolicyPath != "" {
		var err error
		if pc, err = loadPolicyFile(scfg.PolicyPath, cfg.Cloud, rotation.DefaultPolicy()); err != nil {
			return pc, fmt.Errorf("KEYTURN_POLICY %s:\n%w", scfg.PolicyPath, err)
		}
	} else {
		pc.Rotation.AllowedVaults = cfg.AllowedVaults
		pc.Apps = scfg.Apps
		pc.DefaultVault = scfg.DefaultVault
	}
	if len(pc.Tenants) == 0 {
		pc.Tenants = scfg.Tenants
	}
	return pc, nil
}

// logStartup says what the server is using, so an operator reading the
// first lines knows its mode, identity, tenants, cloud and state.
func logStartup(log *slog.Logger, cfg config, s serveConfig, pc policy.Policy, sc stateConfig) {
	mode := "teams"
	if s.AppID == "" {
		mode = "emulator (no MicrosoftAppId: unauthenticated, loopback only)"
	}
	log.Info("keyturn starting", "addr", s.Addr, "mode", mode, "app_id", s.AppID, "app_type", s.AppType,
		"tenants", strings.Join(s.Tenants, ","), "cloud", cfg.Cloud.Name, "openid_metadata", s.OpenIDURL)
	log.Info("keyturn state", "store", sc.describe(cfg.StateDir), "audit", "hash-chained, in the store")
	source := "built-in default (no KEYTURN_POLICY)"
	if s.PolicyPath != "" {
		source = s.PolicyPath
	}
	log.Info("keyturn policy", "source", source, "allowed_vaults", strings.Join(pc.Rotation.AllowedVaults, ","), "default_vault", pc.DefaultVault,
		"aliases", len(pc.Apps), "request_roles", len(pc.Roles.Request), "approve_roles", len(pc.Roles.Approve), "request_ttl", pc.RequestTTL.String())
	if len(pc.Rotation.AllowedVaults) == 0 {
		log.Warn("no vault is allowed: every rotation will be refused until the policy lists one")
	}
	if len(pc.Roles.Request) == 0 || len(pc.Roles.Approve) == 0 {
		log.Warn("the policy names no request or no approve role: nobody can ask for or approve rotations")
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
		tok, err := cred.GetToken(ctx, azpolicy.TokenRequestOptions{Scopes: []string{scope}})
		if err != nil {
			return "", time.Time{}, err
		}
		return tok.Token, tok.ExpiresOn, nil
	}, nil), nil
}

// azcoreTransport is the HTTP client azidentity sends through.
type azcoreTransport = azpolicy.Transporter

// radarOf is the expiry radar over the session's backend and store, or nil
// (off) when the backend cannot list the apps Keyturn owns, which needs
// Keyturn's service principal (KEYTURN_PRINCIPAL_ID) in Azure.
func radarOf(s *session, pc policy.Policy, log *slog.Logger) *bot.Radar {
	if s.backend.Owned == nil || s.backend.PrincipalID == "" {
		log.Warn("expiry radar off: it lists the apps Keyturn's service principal owns, so set KEYTURN_PRINCIPAL_ID")
		return nil
	}
	auto := map[string]time.Duration{}
	for _, a := range pc.Apps {
		if a.AutoRequestBefore > 0 {
			auto[a.ClientID] = a.AutoRequestBefore
		}
	}
	return &bot.Radar{
		Scanner: &radar.Scanner{Apps: s.backend.Owned, Vault: s.backend.Vault, Journal: s.store,
			Vaults: s.rot.Policy.AllowedVaults, Window: pc.Radar.WarnBefore},
		Marks:             s.store,
		Thresholds:        pc.Radar.Thresholds,
		Every:             pc.Radar.ScanEvery,
		AutoRequestBefore: func(clientID string) time.Duration { return auto[clientID] },
	}
}
