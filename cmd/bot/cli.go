package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/store/kvstore"
)

// cli runs the command-line subcommands.
type cli struct {
	getenv     env
	stdout     io.Writer
	stderr     io.Writer
	newBackend backendFactory
	// newProbes builds doctor's probes; nil means azureProbes.
	newProbes probesFactory
}

// session is an opened state directory and backend, ready to rotate.
type session struct {
	cfg     config
	rot     *rotation.Rotator
	backend backend
	store   *kvstore.Store
	ping    func(context.Context) error
	state   stateConfig
	close   func()
	// radarWindow is the policy file's radar.warn_before, when a policy
	// file is named (knowPolicyApps); zero otherwise.
	radarWindow time.Duration
}

// open loads the configuration, opens the state directory and builds the
// backend. vaults are vault URIs given on the command line.
func (c *cli) open(ctx context.Context, vaults ...string) (*session, int) {
	cfg, err := loadConfig(c.getenv)
	if err != nil {
		fmt.Fprintf(c.stderr, "configuration:\n%v\n", err)
		return nil, exitUsage
	}
	log := newLogger(c.stderr, cfg.LogLevel)
	return c.openWith(ctx, cfg, log, cfg.policy(vaults...))
}

// openWith is open for a loaded configuration and policy.
func (c *cli) openWith(ctx context.Context, cfg config, log *slog.Logger, policy rotation.Policy) (*session, int) {
	if err := policy.Validate(); err != nil {
		fmt.Fprintf(c.stderr, "policy:\n%v\n", err)
		return nil, exitUsage
	}
	sc, err := loadStateConfig(c.getenv)
	if err != nil {
		fmt.Fprintf(c.stderr, "configuration:\n%v\n", err)
		return nil, exitUsage
	}
	b, err := c.newBackend(ctx, cfg, log)
	if err != nil {
		code, msg := explain(err)
		fmt.Fprintln(c.stderr, msg)
		return nil, max(code, exitFailure)
	}
	b = crashBackend(b)
	store, ping, closeAll, err := openState(ctx, cfg, sc, b.Cred)
	if err != nil {
		fmt.Fprintf(c.stderr, "error: state store: %v\n", err)
		return nil, exitFailure
	}
	clock := b.Clock
	if clock == nil {
		clock = rotation.SystemClock{}
	}
	rot := &rotation.Rotator{
		Apps: b.Apps, Vault: b.Vault, Verifier: b.Verifier, Store: store, Audit: store,
		Clock: clock, Policy: policy, Log: log, PrincipalID: b.PrincipalID,
		ParallelVaultCalls: true,
	}
	return &session{cfg: cfg, rot: rot, backend: b, store: store, ping: ping, state: sc, close: closeAll}, exitOK
}

// usageExit is the exit code after a command's flags did not parse (or
// held extra arguments: err nil): 0 when help was asked for (-h, --help),
// whose usage the flag set printed, else 2.
func usageExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	return fs
}

// fail prints err's explanation and returns its exit code.
func (c *cli) fail(err error) int {
	code, msg := explain(err)
	fmt.Fprintln(c.stderr, msg)
	return code
}

func (c *cli) rotate(ctx context.Context, args []string) int {
	fs := c.flags("rotate")
	app := fs.String("app", "", "application (client) ID to rotate")
	vault := fs.String("vault", "", "Key Vault name or URI to store the secret in")
	idName := fs.String("client-id-name", "", "vault secret name for the client ID (default <app-name>-client-id)")
	secretName := fs.String("secret-name", "", "vault secret name for the client secret (default <app-name>-client-secret)")
	lifetime := fs.String("lifetime", "", "secret lifetime, e.g. 180d or 4320h (default 180d, clamped to 1d..365d)")
	overlap := fs.String("overlap", "", "how long the previous secret lives on after verification (default 7d)")
	resume := fs.String("resume", "", "finish or undo the unfinished rotation with this request ID")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if *resume != "" {
		if *app != "" || *vault != "" {
			fmt.Fprintln(c.stderr, "--resume takes no other flags: the journal holds the request")
			return exitUsage
		}
		s, code := c.open(ctx)
		if s == nil {
			return code
		}
		defer s.close()
		res, err := s.rot.Resume(ctx, *resume)
		if err != nil {
			return c.fail(err)
		}
		c.printResult(res, *asJSON)
		return exitOK
	}
	var problems []string
	if !rotation.IsGUID(*app) {
		problems = append(problems, fmt.Sprintf("--app %q must be the application (client) ID, a GUID", *app))
	}
	lt, err := parseDays(*lifetime)
	if err != nil {
		problems = append(problems, "--lifetime: "+err.Error())
	}
	ov, err := parseDays(*overlap)
	if err != nil {
		problems = append(problems, "--overlap: "+err.Error())
	}
	cfg, cerr := loadConfig(c.getenv)
	var vaultURI string
	if *vault == "" {
		problems = append(problems, "--vault is required")
	} else if cerr == nil {
		if vaultURI, err = cfg.Cloud.VaultURI(*vault); err != nil {
			problems = append(problems, "--vault: "+err.Error())
		}
	}
	if len(problems) > 0 {
		fmt.Fprintln(c.stderr, "error: "+strings.Join(problems, "\nerror: "))
		return exitUsage
	}
	s, code := c.open(ctx, vaultURI)
	if s == nil {
		return code
	}
	defer s.close()
	c.recoverFirst(ctx, s)
	res, err := s.rot.Rotate(ctx, rotation.Request{
		ClientID: strings.ToLower(*app), VaultURI: vaultURI, ClientIDName: *idName, SecretName: *secretName,
		Lifetime: lt, Overlap: ov, RequestedBy: s.backend.Caller,
	})
	if err != nil {
		if res.RequestID != "" {
			fmt.Fprintf(c.stderr, "request %s\n", res.RequestID)
		}
		return c.fail(err)
	}
	c.printResult(res, *asJSON)
	return exitOK
}

// recoverFirst settles rotations a crashed run left unfinished, as every
// start does, and says what it did.
func (c *cli) recoverFirst(ctx context.Context, s *session) {
	results, err := s.rot.Recover(ctx)
	for _, r := range results {
		fmt.Fprintf(c.stderr, "recovered unfinished rotation %s of %s: %s\n", r.RequestID, r.ClientID, r.State)
	}
	if err != nil {
		_, msg := explain(err)
		fmt.Fprintln(c.stderr, msg)
	}
}

func (c *cli) recover(ctx context.Context, args []string) int {
	fs := c.flags("recover")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return usageExit(err)
	}
	s, code := c.open(ctx)
	if s == nil {
		return code
	}
	defer s.close()
	if code := c.knowPolicyApps(s); code != exitOK {
		return code
	}
	results, err := s.rot.Recover(ctx)
	// Then sweep: credentials named by Keyturn that no live journal
	// record owns (a lagging directory, a crash, a lost journal write).
	orphans, serr := s.rot.Sweep(ctx)
	if *asJSON {
		c.printJSON(recoverJSON{Recovered: results, Orphans: orphans})
	} else if len(results) == 0 && len(orphans) == 0 {
		fmt.Fprintln(c.stdout, "nothing to recover")
	}
	if !*asJSON {
		for _, r := range results {
			fmt.Fprintf(c.stdout, "%s %s: %s %s\n", r.RequestID, r.ClientID, r.State, r.Error)
		}
		for _, o := range orphans {
			verb := "kept"
			if o.Removed {
				verb = "removed"
			}
			fmt.Fprintf(c.stdout, "%s orphaned credential %s of %s (request %s): %s\n", verb, o.KeyID, o.ClientID, o.RequestID, o.Reason)
		}
	}
	if err := errors.Join(err, serr); err != nil {
		return c.fail(err)
	}
	return exitOK
}

// recoverJSON is `recover --json`'s output.
type recoverJSON struct {
	Recovered []rotation.Result `json:"recovered"`
	Orphans   []rotation.Orphan `json:"orphans"`
}

// knowPolicyApps tells s's Rotator the apps and vaults of the policy file
// named by KEYTURN_POLICY, if any, so that a sweep looks at them too.
func (c *cli) knowPolicyApps(s *session) int {
	path := c.getenv.first("KEYTURN_POLICY")
	if path == "" {
		return exitOK
	}
	pc, err := loadPolicyFile(path, s.cfg.Cloud, rotation.DefaultPolicy())
	if err != nil {
		fmt.Fprintf(c.stderr, "configuration:\nKEYTURN_POLICY %s:\n%v\n", path, err)
		return exitUsage
	}
	s.rot.KnownApps = pc.ClientIDs()
	s.rot.Policy.AllowedVaults = append(s.rot.Policy.AllowedVaults, pc.Rotation.AllowedVaults...)
	s.radarWindow = pc.Radar.WarnBefore
	return exitOK
}

func (c *cli) retire(ctx context.Context, args []string) int {
	fs := c.flags("retire")
	app := fs.String("app", "", "only this application (client) ID")
	early := fs.Bool("early", false, "retire before the overlap window ends (the new secret is verified already)")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return usageExit(err)
	}
	if *app != "" && !rotation.IsGUID(*app) {
		fmt.Fprintf(c.stderr, "error: --app %q must be the application (client) ID, a GUID\n", *app)
		return exitUsage
	}
	s, code := c.open(ctx)
	if s == nil {
		return code
	}
	defer s.close()
	got, err := s.rot.Retire(ctx, rotation.RetireOptions{ClientID: strings.ToLower(*app), Early: *early})
	if *asJSON {
		c.printJSON(got)
	} else {
		if len(got) == 0 {
			fmt.Fprintln(c.stdout, "no retirements scheduled")
		}
		for _, r := range got {
			fmt.Fprintf(c.stdout, "%s key %s of %s (request %s) %s\n", r.Outcome, r.KeyID, r.ClientID, r.RequestID, r.Reason)
		}
	}
	if err != nil {
		return c.fail(err)
	}
	return exitOK
}

func (c *cli) status(ctx context.Context, args []string) int {
	fs := c.flags("status")
	app := fs.String("app", "", "application (client) ID")
	vault := fs.String("vault", "", "also show this vault's secret (with --secret-name)")
	secretName := fs.String("secret-name", "", "vault secret name of the client secret")
	asJSON := fs.Bool("json", false, "print the status as JSON")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return usageExit(err)
	}
	if !rotation.IsGUID(*app) {
		fmt.Fprintf(c.stderr, "error: --app %q must be the application (client) ID, a GUID\n", *app)
		return exitUsage
	}
	s, code := c.open(ctx)
	if s == nil {
		return code
	}
	defer s.close()
	var refs []rotation.SecretRef
	if *vault != "" {
		uri, err := s.cfg.Cloud.VaultURI(*vault)
		if err != nil || *secretName == "" || !rotation.ValidSecretName(*secretName) {
			fmt.Fprintln(c.stderr, "error: --vault needs a valid vault and --secret-name")
			return exitUsage
		}
		refs = append(refs, rotation.SecretRef{VaultURI: uri, Name: *secretName})
	}
	st, err := s.rot.Status(ctx, strings.ToLower(*app), refs...)
	if err != nil {
		return c.fail(err)
	}
	if *asJSON {
		c.printJSON(statusJSON(st))
		return exitOK
	}
	c.printStatus(st)
	return exitOK
}

// parseDays parses a positive duration such as 180d, 2w or 4320h; empty
// is zero.
func parseDays(s string) (time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return 0, nil
	}
	d, err := policy.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration such as 180d, 2w or 4320h", s)
	}
	return d, nil
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil || level == "" {
		l = slog.LevelWarn
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func (c *cli) printJSON(v any) {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintln(c.stderr, errors.New("encode output: "+err.Error()))
	}
}
