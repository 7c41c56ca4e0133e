// Command loadgen measures Keyturn's webhook under load, side by side with
// a bare echo handler (the ceiling) and, optionally, Microsoft's
// botbuilder-js CloudAdapter (the reference SDK).
//
// It plays the Bot Framework channel and the Teams connector on loopback:
// a local issuer (bot/botauthtest) signs the channel's token and serves the
// OpenID metadata every bot under test validates against; a connector
// stand-in is the activities' serviceUrl and counts the replies Keyturn
// posts; a managed-identity endpoint stand-in gives Keyturn its connector
// token. It replays the Teams payloads of bot/activity/testdata as "help"
// messages, each with its own activity ID, and reports requests/s, p50,
// p99, errors and replies for each target.
//
//	go build -o /tmp/keyturn ./cmd/bot
//	go run ./tools/loadgen -keyturn /tmp/keyturn -js tools/botbuilder-ref -n 20000 -c 64
//	go run ./tools/loadgen -keyturn /tmp/keyturn -targets keyturn -rate 1000 -n 20000
//
// It is a measuring tool, not a test: it asserts no timing. With -check it
// exits 1 when a request failed or a reply is missing (CI's smoke run).
// Nothing here is wired into the product.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are loadgen's flags.
type options struct {
	keyturn  string
	js       string
	targets  string
	n        int
	warmup   int
	c        int
	rate     float64
	testdata string
	check    bool
	logLevel string
	keep     bool
	env      string
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "-serve-bare" {
		return serveBare(stdout, stderr)
	}
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.keyturn, "keyturn", "", "path to a built keyturn binary (go build -o /tmp/keyturn ./cmd/bot); empty skips it")
	fs.StringVar(&o.js, "js", "", "directory of the botbuilder-js reference server (tools/botbuilder-ref, after npm ci); empty skips it")
	fs.StringVar(&o.targets, "targets", "bare,keyturn,js", "comma-separated targets to run, in this order: bare, keyturn, js")
	fs.IntVar(&o.n, "n", 20000, "measured requests per target")
	fs.IntVar(&o.warmup, "warmup", 1000, "requests per target before measuring")
	fs.IntVar(&o.c, "c", 64, "concurrent requests (connections)")
	fs.Float64Var(&o.rate, "rate", 0, "requests/s to offer (open loop, latency from the scheduled send time); 0: as fast as -c allows")
	fs.StringVar(&o.testdata, "testdata", "bot/activity/testdata", "directory of the Teams payloads to replay")
	fs.BoolVar(&o.check, "check", false, "exit 1 if any request failed or any reply is missing")
	fs.StringVar(&o.logLevel, "log-level", "info", "KEYTURN_LOG_LEVEL for the keyturn under test")
	fs.BoolVar(&o.keep, "keep", false, "keep the keyturn state directory and log")
	fs.StringVar(&o.env, "keyturn-env", "", "extra environment for keyturn, comma-separated KEY=VALUE (GOGC=200, ...)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.n <= 0 || o.c <= 0 || o.warmup < 0 || o.rate < 0 {
		fmt.Fprintln(stderr, "loadgen: -n and -c must be positive, -warmup and -rate not negative")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	code, err := measureAll(ctx, o, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return 1
	}
	return code
}

// measureAll runs each selected target in turn and prints the table.
func measureAll(ctx context.Context, o options, stdout, stderr io.Writer) (int, error) {
	env, err := newChannel(o.testdata)
	if err != nil {
		return 1, err
	}
	defer env.close()
	var results []result
	failed := false
	for _, t := range strings.Split(o.targets, ",") {
		var tg target
		switch strings.TrimSpace(t) {
		case "bare":
			tg, err = startBare(ctx)
		case "keyturn":
			if o.keyturn == "" {
				continue
			}
			tg, err = startKeyturn(ctx, env, o)
		case "js":
			if o.js == "" {
				continue
			}
			tg, err = startJS(ctx, env, o.js)
		default:
			return 2, fmt.Errorf("unknown target %q", t)
		}
		if err != nil {
			return 1, err
		}
		r, err := measure(ctx, env, tg, o)
		tg.stop()
		if err != nil {
			return 1, fmt.Errorf("%s: %w", tg.name, err)
		}
		fmt.Fprintln(stderr, r.line())
		results = append(results, r)
		if r.errors > 0 || (r.expectReplies && r.replies != r.sent) {
			failed = true
		}
	}
	printTable(stdout, o, results)
	if o.check && failed {
		fmt.Fprintln(stderr, "loadgen: -check: a request failed or a reply is missing")
		return 1, nil
	}
	return 0, nil
}

// waitFor polls ok until it is true or d has passed.
func waitFor(ctx context.Context, d time.Duration, ok func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ok() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(2 * time.Millisecond):
		}
	}
	return ok()
}
