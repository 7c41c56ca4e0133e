package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keyturn/keyturn/bot"
	"github.com/keyturn/keyturn/sandbox"
)

// sandboxCmd is `keyturn sandbox`: the real bot on in-process stand-ins
// for Entra ID and Key Vault, and a local Teams-like page in front of it.
// It needs no Azure. With MicrosoftAppId set it authenticates requests and
// gets connector tokens exactly as serve does (for trying the real Teams
// path against the demo tenant); otherwise it runs in emulator mode.
func (c *cli) sandboxCmd(ctx context.Context, args []string) int {
	fs := c.flags("sandbox")
	stateDir := fs.String("state-dir", "", "state directory (default: <KEYTURN_STATE_DIR>/sandbox)")
	tenant := fs.String("tenant", "", "demo tenant file (default: <state-dir>/tenant.jsonc, written on first start)")
	policyFile := fs.String("policy", "", "policy file, in the format of docs/keyturn.example.yaml (default: <state-dir>/keyturn.yaml, written on first start)")
	addr := fs.String("addr", sandbox.DefaultAddr, "the page's listen address (loopback)")
	botAddr := fs.String("bot-addr", sandbox.DefaultBotAddr, "the bot's listen address (loopback)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return usageExit(err)
	}
	cfg, err := loadConfig(c.getenv)
	scfg, serr := loadServeConfig(c.getenv, cfg)
	if err := errors.Join(err, serr); err != nil {
		fmt.Fprintf(c.stderr, "configuration:\n%v\n", err)
		return exitUsage
	}
	if *stateDir == "" {
		*stateDir = filepath.Join(cfg.StateDir, "sandbox")
	}
	cfg.StateDir = *stateDir
	if cfg.LogLevel == "" {
		cfg.LogLevel = "warn" // the banner is the interface; logs only for trouble
	}
	log := newLogger(c.stderr, cfg.LogLevel)
	w, err := sandbox.Open(sandbox.Config{StateDir: *stateDir, TenantFile: *tenant, PolicyFile: *policyFile, Log: log})
	if err != nil {
		fmt.Fprintf(c.stderr, "error: %v\n", err)
		return exitUsage
	}
	defer func() {
		if err := w.Close(); err != nil {
			fmt.Fprintf(c.stderr, "error: saving the sandbox: %v\n", err)
		}
	}()
	t := w.Tenant()
	pc := w.Policy()
	if scfg.AppID != "" {
		// Real Teams against the demo tenant: activities come from the
		// bot's own tenant (MicrosoftAppTenantId, KEYTURN_ALLOWED_TENANTS).
		pc.Tenants = append(pc.Tenants, scfg.Tenants...)
	}
	scfg.PolicyPath = w.PolicyFile()                        // audited and logged as serve's is
	scfg.BotName, scfg.Schedule = t.Bot.Name, 2*time.Second // the audit channel follows within seconds
	scfg.Addr = *botAddr
	scfg.Emulator = emulatorIdentity(t)
	sb := &cli{getenv: c.getenv, stdout: c.stdout, stderr: c.stderr, newBackend: func(context.Context, config, *slog.Logger) (backend, error) {
		return backend{Apps: w.Applications(), Vault: w.Vault(), Verifier: w.Verifier(), Roles: w.Roles(), Caller: "keyturn sandbox", PrincipalID: w.PrincipalID(), Owned: w}, nil
	}}
	c.printDemoUsers(ctx, w)
	return sb.runBot(ctx, cfg, scfg, pc, func(ctx context.Context, srv *bot.Server, log *slog.Logger) error {
		return sandbox.Run(ctx, sandbox.Options{World: w, ServeBot: srv.Serve, Addr: *addr, BotAddr: *botAddr, Out: c.stdout, Log: log})
	})
}

// printDemoUsers says, on start, which demo users exist and what each may do.
func (c *cli) printDemoUsers(ctx context.Context, w *sandbox.World) {
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Demo users (choose one at the top of the page):")
	for _, u := range w.Tenant().Users {
		request, approve := w.Permissions(ctx, u)
		may := "may neither request nor approve"
		switch {
		case request && approve:
			may = "may request and approve"
		case request:
			may = "may request"
		case approve:
			may = "may approve"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", u.Name, jobTitle(u.Title), may)
	}
	_ = tw.Flush()
}

// jobTitle is a demo user's title without a trailing "(…)": the tenant
// file's titles say what the user may do in words, which the banner
// derives from the roles beside it and must not repeat.
func jobTitle(title string) string {
	title = strings.TrimSpace(title)
	if i := strings.LastIndex(title, " ("); i > 0 && strings.HasSuffix(title, ")") {
		return title[:i]
	}
	return title
}

// emulatorIdentity makes a Bot Framework Emulator sender, which carries no
// tenant or Entra object ID, one of the demo tenant's users (see
// sandbox.Tenant.EmulatorUser), in the demo tenant.
func emulatorIdentity(t *sandbox.Tenant) bot.EmulatorIdentity {
	return func(fromID, aadObjectID string) (bot.Caller, bool) {
		u, ok := t.EmulatorUser(fromID, aadObjectID)
		if !ok {
			return bot.Caller{}, false
		}
		return bot.Caller{ObjectID: u.ObjectID, TenantID: t.Tenant.ID, Name: u.Name}, true
	}
}
