package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/keyturn/keyturn/azure/armvault"
	"github.com/keyturn/keyturn/azure/graphroles"
	"github.com/keyturn/keyturn/azure/identity"
	"github.com/keyturn/keyturn/azure/keyvault"
	"github.com/keyturn/keyturn/bot/botauth"
	"github.com/keyturn/keyturn/doctor"
	"github.com/keyturn/keyturn/internal/outbound"
	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/store/tablekv"
)

// doctorSetup is everything doctor's probes are built from.
type doctorSetup struct {
	cfg   config
	serve serveConfig
	state stateConfig
}

// probesFactory builds doctor's live probes for a setup.
type probesFactory func(ctx context.Context, s doctorSetup, log *slog.Logger) doctor.Probes

// doctor checks the live setup the environment describes and prints the
// checklist; it exits 0 only when every check passes (or does not apply).
func (c *cli) doctor(ctx context.Context, args []string) int {
	fs := c.flags("doctor")
	writeProbe := fs.Bool("write-probe", false, "also write, read back and delete a marked secret in every allowed vault")
	asJSON := fs.Bool("json", false, "print the checklist as JSON")
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	cfg, err := loadConfig(c.getenv)
	scfg, serr := loadServeConfig(c.getenv, cfg)
	sc, sterr := loadStateConfig(c.getenv)
	if err := errors.Join(err, serr, sterr); err != nil {
		fmt.Fprintf(c.stderr, "configuration:\n%v\n", err)
		return exitUsage
	}
	s := doctorSetup{cfg: cfg, serve: scfg, state: sc}
	dc := doctorConfig(s)
	dc.WriteProbe = *writeProbe
	log := newLogger(c.stderr, cfg.LogLevel)
	newProbes := c.newProbes
	if newProbes == nil {
		newProbes = azureProbes
	}
	rep := doctor.Run(ctx, dc, newProbes(ctx, s, log))
	if *asJSON {
		err = rep.WriteJSON(c.stdout)
	} else {
		err = rep.WriteText(c.stdout)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "error: %v\n", err)
		return exitFailure
	}
	if !rep.Passed() {
		return exitFailure
	}
	return exitOK
}

// doctorConfig turns the loaded configuration and policy into what doctor
// checks. The policy is loaded exactly as serve loads it.
func doctorConfig(s doctorSetup) doctor.Config {
	cfg, scfg := s.cfg, s.serve
	dc := doctor.Config{
		GraphURL:     strings.TrimSuffix(cfg.Cloud.GraphURL, "/"),
		GraphScope:   cfg.Cloud.GraphScope(),
		VaultScope:   "https://" + cfg.Cloud.VaultSuffix + "/.default",
		PrincipalID:  strings.ToLower(cfg.PrincipalID),
		ClientID:     strings.ToLower(cfg.OwnClientID),
		PolicySource: "built-in",
		BotAppID:     scfg.AppID,
		BotAppType:   scfg.AppType,
		Store:        s.state.Kind,
		StoreWhere:   s.state.describe(cfg.StateDir),
		Table:        s.state.Table,
	}
	if dc.Table == "" {
		dc.Table = tablekv.DefaultTable
	}
	if scfg.PolicyPath != "" {
		dc.PolicySource = scfg.PolicyPath
	}
	pc, err := servePolicy(cfg, scfg)
	if err != nil {
		dc.PolicyErr = err
		return dc
	}
	dc.Vaults = pc.Rotation.AllowedVaults
	dc.Tenants = pc.Tenants
	for _, alias := range slices.Sorted(maps.Keys(pc.Apps)) {
		t := pc.Apps[alias]
		life := t.Lifetime
		if life == 0 {
			life = pc.Rotation.DefaultLifetime
		}
		dc.Apps = append(dc.Apps, doctor.App{Alias: alias, ClientID: t.ClientID, Lifetime: life})
	}
	seen := map[string]bool{}
	add := func(rs []rotation.RoleSource) {
		for _, r := range rs {
			if k := string(r.Kind) + " " + r.ID; !seen[k] {
				seen[k] = true
				dc.Roles = append(dc.Roles, r)
			}
		}
	}
	add(pc.Roles.Request)
	add(pc.Roles.Approve)
	ids := make([]string, 0, len(pc.Rules))
	for id := range pc.Rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		add(pc.Rules[id].Approvers)
	}
	return dc
}

// azureProbes builds doctor's probes on the real adapters, with the
// credential serve would use (DefaultAzureCredential: the managed identity
// in Azure, az login elsewhere). A probe that cannot be built stays nil,
// and its checks say so.
func azureProbes(ctx context.Context, s doctorSetup, log *slog.Logger) doctor.Probes {
	cfg, scfg := s.cfg, s.serve
	var p doctor.Probes
	hc := outbound.Client(outbound.Transport(outbound.ProxyFunc(cfg.Proxy)))
	if scfg.AppID != "" {
		if keys, err := botauth.NewKeySource(botauth.KeySourceConfig{MetadataURL: scfg.OpenIDURL, HTTPClient: hc, Logger: log}); err == nil {
			p.OpenID = doctor.PingFunc(keys.Ready)
		}
		if tokens, err := connectorTokens(scfg, cfg, hc, log); err == nil {
			p.Connector = doctor.PingFunc(func(ctx context.Context) error {
				_, err := tokens.Token(ctx)
				return err
			})
		}
	}
	cred, err := identity.Default(identity.Options{Cloud: cfg.Cloud.AzCore(), Transport: hc, TenantID: cfg.TenantID, Logger: log})
	if err != nil {
		log.Warn("no azure credential", "error", err.Error())
		p.Store = stateProbe(s, nil)
		return p
	}
	p.Tokens = credentialTokens{cred}
	if g, err := graphroles.New(cred, cfg.Cloud, hc, graphroles.Options{Logger: log, ServicePrincipalID: cfg.PrincipalID}); err == nil {
		p.Principals, p.Apps, p.Directory = g, g, g
	}
	p.Vaults = keyvault.New(cred, keyvault.Options{Transport: hc, Logger: log, VaultSuffix: cfg.Cloud.VaultSuffix, PrincipalID: cfg.PrincipalID})
	if a, err := armvault.New(cred, cfg.Cloud, armvault.Options{Transport: hc, Logger: log}); err == nil {
		p.Resources = a
	}
	p.Store = stateProbe(s, cred)
	return p
}

// stateProbe reaches the state store without creating anything: the Azure
// table is read (a missing one is doctor.ErrNotFound), the bbolt file is
// looked at, not opened (serve holds its lock).
func stateProbe(s doctorSetup, cred azcore.TokenCredential) doctor.Pinger {
	sc := s.state
	if sc.Kind != storeTables {
		path := filepath.Join(s.cfg.StateDir, "keyturn.db")
		return doctor.PingFunc(func(context.Context) error {
			if st, err := os.Stat(path); err == nil {
				if !st.Mode().IsRegular() {
					return fmt.Errorf("%s is not a file", path)
				}
				return nil
			}
			if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
				return fmt.Errorf("state directory %s does not exist: create it, writable by Keyturn only", filepath.Dir(path))
			}
			return nil // serve creates the file at its first start
		})
	}
	opts := tablekv.Options{Table: sc.Table, Transport: outbound.Client(outbound.Transport(outbound.ProxyFunc(s.cfg.Proxy)))}
	var t *tablekv.Store
	var err error
	switch {
	case sc.ConnString != "":
		t, err = tablekv.NewFromConnectionString(sc.ConnString, opts)
	case cred == nil:
		err = errors.New("no Azure credential")
	default:
		t, err = tablekv.NewWithCredential(sc.TableURL, cred, opts)
	}
	if err != nil {
		return doctor.PingFunc(func(context.Context) error { return err })
	}
	return doctor.PingFunc(func(ctx context.Context) error {
		err := t.Ping(ctx)
		if errors.Is(err, tablekv.ErrTableNotFound) {
			return fmt.Errorf("%w: %w", doctor.ErrNotFound, err)
		}
		return err
	})
}

// credentialTokens implements doctor.Tokens: it gets a token and keeps
// only the claims that say for whom.
type credentialTokens struct{ cred azcore.TokenCredential }

// Claims implements doctor.Tokens.
func (t credentialTokens) Claims(ctx context.Context, scope string) (doctor.Claims, error) {
	tok, err := t.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		return doctor.Claims{}, err
	}
	return tokenClaims(tok.Token), nil
}

// tokenClaims reads the claims doctor reports from a token.
func tokenClaims(token string) doctor.Claims {
	c := identity.ParseClaims(token)
	name := c.UPN
	for _, n := range []string{c.Username, c.Unique} {
		if name == "" {
			name = n
		}
	}
	return doctor.Claims{TenantID: c.TenantID, ObjectID: c.ObjectID, AppID: c.AppID, Name: name,
		App: c.IDType == "app" || name == ""}
}
