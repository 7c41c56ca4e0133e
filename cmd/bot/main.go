// Command bot is Keyturn: a Teams bot and a command line that rotate Entra
// ID application secrets into Azure Key Vault without a person ever seeing
// them.
//
// It is the only package that reads the environment and flags, builds
// credentials and wires the other packages together.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `Keyturn rotates Entra ID application secrets into Azure Key Vault.

Usage:
  keyturn rotate  --app <client-id> --vault <vault-name-or-URI> [flags]
  keyturn rotate  --resume <request-id>
  keyturn retire  [--app <client-id>] [--early]
  keyturn status  --app <client-id> [--vault <vault> --secret-name <name>]
  keyturn recover
  keyturn audit   verify | show [--app <client-id>] [--since <time>] [--until <time>]
  keyturn serve   (the Teams bot on :3978; see the README for its variables)
  keyturn sandbox (the bot on simulated Azure, with a local Teams-like page)
  keyturn manifest --app-id <bot-app-id> [--name N] [--domain H] [--out keyturn.zip]
                  (the Teams app package to upload)
  keyturn doctor  [--write-probe] [--json]  (is this tenant set up right?)
  keyturn radar   [--within 30d] [--json] [--scan]  (client secrets that expire soon)
  keyturn help

Run "keyturn <command> -h" for a command's flags.

Exit codes: 0 ok, 1 failure, 2 bad input (nothing changed), 3 app not found,
4 missing permission, 5 refused by policy, 6 another rotation in progress,
7 failed and rolled back, 8 incomplete (run recover), 9 throttled,
unreachable or no answer (try later; the message says whether anything may
have changed); radar: 10 a client secret ends within the window.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, azureBackend)
	stop()
	os.Exit(code)
}

// run is main without the process: arguments, environment, output and the
// backend factory are parameters so tests drive it whole.
func run(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer, newBackend backendFactory) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cli := &cli{getenv: getenv, stdout: stdout, stderr: stderr, newBackend: newBackend}
	switch args[0] {
	case "rotate":
		return cli.rotate(ctx, args[1:])
	case "retire":
		return cli.retire(ctx, args[1:])
	case "status":
		return cli.status(ctx, args[1:])
	case "recover":
		return cli.recover(ctx, args[1:])
	case "serve":
		return cli.serve(ctx, args[1:])
	case "audit":
		return cli.audit(ctx, args[1:])
	case "sandbox":
		return cli.sandboxCmd(ctx, args[1:])
	case "manifest":
		return cli.manifestCmd(args[1:])
	case "radar":
		return cli.radarCmd(ctx, args[1:])
	case "doctor":
		return cli.doctor(ctx, args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}
