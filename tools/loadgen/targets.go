package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
)

// target is one server under load, in its own process.
type target struct {
	name          string
	url           string // base URL; requests go to url + /api/messages
	cmd           *exec.Cmd
	expectReplies bool          // the connector must see one reply per request
	authenticates bool          // a forged token must be refused
	startup       time.Duration // process start to ready
	stateDir      string
	keep          bool
}

// stop ends the target's process (SIGTERM, then SIGKILL after 10 s).
func (t target) stop() {
	if t.cmd == nil || t.cmd.Process == nil {
		return
	}
	_ = t.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = t.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = t.cmd.Process.Kill()
		<-done
	}
	if t.stateDir != "" && !t.keep {
		_ = os.RemoveAll(t.stateDir)
	}
}

// pid is the target's process ID (0 when it has none).
func (t target) pid() int {
	if t.cmd == nil || t.cmd.Process == nil {
		return 0
	}
	return t.cmd.Process.Pid
}

// rssKB returns the process's resident set size in KiB, from
// /proc/<pid>/status (0 where that is not available).
func (t target) rssKB() int {
	if t.cmd == nil || t.cmd.Process == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", t.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	return 0
}

// serveBare is the child process of the "bare" target: an echo handler
// that reads the body and answers 200, with no logging, authentication or
// work. It prints its address on stdout.
func serveBare(stdout, stderr io.Writer) int {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST("/api/messages", func(c echo.Context) error {
		_, _ = io.Copy(io.Discard, c.Request().Body)
		return c.NoContent(http.StatusOK)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintln(stdout, ln.Addr().String())
	// The parent ends this process with SIGTERM.
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

func startBare(ctx context.Context) (target, error) {
	self, err := os.Executable()
	if err != nil {
		return target{}, err
	}
	cmd := exec.CommandContext(ctx, self, "-serve-bare")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return target{}, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return target{}, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return target{}, fmt.Errorf("bare handler: %w", err)
	}
	return target{name: "bare echo handler", url: "http://" + strings.TrimSpace(line), cmd: cmd, startup: time.Since(start)}, nil
}

// freePort returns a loopback port nobody listens on right now.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// startKeyturn runs `keyturn serve` as Teams would meet it: an App ID, a
// user-assigned managed identity for its connector token (the stand-in's
// /msi/token, reached the way App Service exposes it), the channel's
// OpenID metadata from the local issuer, a bbolt state file in a fresh
// directory. Startup is measured from exec to the first 200 of /readyz.
func startKeyturn(ctx context.Context, ch *channel, o options) (target, error) {
	port, err := freePort()
	if err != nil {
		return target{}, err
	}
	dir, err := os.MkdirTemp("", "keyturn-loadgen-")
	if err != nil {
		return target{}, err
	}
	logf, err := os.Create(filepath.Join(dir, "keyturn.log"))
	if err != nil {
		return target{}, err
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, o.keyturn, "serve")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"PORT=" + port,
		"KEYTURN_LISTEN_HOST=127.0.0.1",
		"KEYTURN_STATE_DIR=" + filepath.Join(dir, "state"),
		"KEYTURN_LOG_LEVEL=" + o.logLevel,
		"MicrosoftAppId=" + appID,
		"MicrosoftAppType=UserAssignedMSI",
		"MicrosoftAppTenantId=" + tenantID,
		"BotOpenIdMetadata=" + ch.iss.MetadataURL(),
		"IDENTITY_ENDPOINT=" + ch.connURL + "msi/token",
		"IDENTITY_HEADER=loadgen",
		"AZURE_TENANT_ID=" + tenantID,
	}
	for _, kv := range strings.Split(o.env, ",") {
		if kv = strings.TrimSpace(kv); kv != "" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	t := target{name: "keyturn serve", url: "http://127.0.0.1:" + port, cmd: cmd, expectReplies: true, authenticates: true, stateDir: dir, keep: o.keep}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return target{}, err
	}
	hc := &http.Client{Timeout: time.Second}
	ready := waitFor(ctx, 30*time.Second, func() bool {
		resp, err := hc.Get(t.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	t.startup = time.Since(start)
	if !ready {
		t.stop()
		return target{}, fmt.Errorf("keyturn not ready after 30 s; its log is %s", logf.Name())
	}
	if o.keep {
		fmt.Fprintf(os.Stderr, "keyturn log: %s\n", logf.Name())
	}
	return t, nil
}

// startJS runs the botbuilder-js CloudAdapter reference server in dir
// (node server.js), validating tokens against the same OpenID metadata.
func startJS(ctx context.Context, ch *channel, dir string) (target, error) {
	port, err := freePort()
	if err != nil {
		return target{}, err
	}
	cmd := exec.CommandContext(ctx, "node", "server.js")
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"PORT=" + port,
		"MicrosoftAppId=" + appID,
		"MicrosoftAppType=SingleTenant",
		"MicrosoftAppTenantId=" + tenantID,
		// Never used: the reference bot does not reply, so it never asks
		// for a connector token.
		"MicrosoftAppPassword=unused-by-the-reference-bot",
		"ToBotFromChannelOpenIdMetadataUrl=" + ch.iss.MetadataURL(),
		// With any endpoint overridden the SDK takes every one from the
		// configuration, so the public cloud's others are spelled out.
		"ToBotFromChannelTokenIssuer=https://api.botframework.com",
		"ToBotFromEmulatorOpenIdMetadataUrl=" + ch.iss.MetadataURL(),
		"ToChannelFromBotLoginUrl=https://login.microsoftonline.com/" + tenantID,
		"ToChannelFromBotOAuthScope=https://api.botframework.com",
		"OAuthUrl=https://api.botframework.com",
	}
	// Its output is dropped: the SDK prints a stack trace for the forged
	// token loadgen sends on purpose.
	t := target{name: "botbuilder-js CloudAdapter", url: "http://127.0.0.1:" + port, cmd: cmd, authenticates: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return target{}, err
	}
	ready := waitFor(ctx, 30*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	t.startup = time.Since(start)
	if !ready {
		t.stop()
		return target{}, errors.New("botbuilder-js reference server did not listen within 30 s (npm ci --prefix " + dir + "?)")
	}
	return t, nil
}
