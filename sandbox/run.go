package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Default listen addresses: the bot where the Bot Framework tools expect
// it, the page next to it. Both are loopback: the bot runs in emulator mode
// (no authentication), and the page acts as Teams for anyone who can reach
// it.
const (
	DefaultBotAddr = "127.0.0.1:3978"
	DefaultAddr    = "127.0.0.1:3979"
)

// Options configures Run.
type Options struct {
	// World is the demo tenant, from Open. Required.
	World *World
	// ServeBot serves the bot on ln until ctx is done and returns once it
	// has shut down: (*bot.Server).Serve, for a bot built in emulator mode
	// (no App ID) on World's stand-ins, whose connector client accepts the
	// loopback serviceUrl the sandbox sends. Required.
	ServeBot func(ctx context.Context, ln net.Listener) error
	// BotURL is the base URL of a bot that is already serving on loopback
	// ("http://127.0.0.1:3978"), for callers that run the bot themselves.
	// Exactly one of ServeBot and BotURL is required.
	BotURL string
	// BotAddr is the bot's listen address (DefaultBotAddr when empty;
	// port 0 picks a free port). It must be loopback.
	BotAddr string
	// Addr is the page's and the connector emulator's listen address
	// (DefaultAddr when empty). It must be loopback.
	Addr string
	// Out receives the banner with the page's URL. Nil discards.
	Out io.Writer
	// Log receives IDs and outcomes, never bodies or values. Nil discards.
	Log *slog.Logger
	// Ready, when set, is called with the page's URL once everything
	// listens and the bot knows the channels.
	Ready func(pageURL string)
}

// Run serves the bot (through ServeBot) and the page until ctx is done,
// then shuts both down and returns once every goroutine it started has
// ended. On first start it tells the bot it was installed in each channel.
func Run(ctx context.Context, opts Options) (err error) {
	if opts.World == nil || (opts.ServeBot == nil) == (opts.BotURL == "") {
		return errors.New("sandbox: Options.World and exactly one of ServeBot and BotURL are required")
	}
	if opts.BotURL != "" && !loopbackHTTP(opts.BotURL) {
		return fmt.Errorf("sandbox: BotURL %q: %w", opts.BotURL, errNotLoopback)
	}
	if opts.BotAddr == "" {
		opts.BotAddr = DefaultBotAddr
	}
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	botURL := strings.TrimSuffix(opts.BotURL, "/")
	var botLn net.Listener
	if opts.ServeBot != nil {
		if botLn, err = listenLoopback(opts.BotAddr); err != nil {
			return fmt.Errorf("sandbox: bot: %w", err)
		}
		defer botLn.Close() // Serve closes it; this is for early returns
		botURL = "http://" + botLn.Addr().String()
	}
	pageLn, err := listenLoopback(opts.Addr)
	if err != nil {
		return fmt.Errorf("sandbox: page: %w", err)
	}
	defer pageLn.Close()
	w := opts.World
	c, err := openChat(filepath.Join(w.StateDir(), chatFileName), time.Now)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	pageURL := "http://" + pageLn.Addr().String() + "/"
	s := &server{
		world: w, tenant: w.Tenant(), tenantFile: w.TenantFile(), chat: c, hub: newHub(), log: opts.Log,
		client: loopbackClient(), botURL: botURL, serviceURL: pageURL + "connector/",
		hosts: loopbackHosts(pageLn.Addr()), mention: mentionPattern(w.Tenant().Bot.Name),
	}
	w.setOnChange(func() { s.hub.publish(event{Type: "state"}) })
	defer w.setOnChange(nil)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	pageErr, botErr := make(chan error, 1), make(chan error, 1)
	go func() { pageErr <- srv.Serve(pageLn) }()
	if opts.ServeBot != nil {
		go func() { botErr <- opts.ServeBot(ctx, botLn) }()
	} else {
		botErr = nil // an external bot: nothing to wait for
	}
	s.greet(ctx)
	fmt.Fprintf(opts.Out, "Keyturn sandbox: the real bot, with Azure simulated in this process. Nothing leaves this machine.\n"+
		"  open     %s\n  bot      %s/api/messages (emulator mode)\n  tenant   %s\n  state    %s\n",
		pageURL, s.botURL, w.TenantFile(), w.StateDir())
	if opts.Ready != nil {
		opts.Ready(pageURL)
	}

	var pErr, bErr error
	gotPage, gotBot := false, false
	select {
	case <-ctx.Done():
	case pErr = <-pageErr:
		gotPage = true
	case bErr = <-botErr:
		gotBot = true
	}
	cancel()
	s.hub.close()
	shutCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	shutErr := srv.Shutdown(shutCtx)
	if !gotPage {
		pErr = <-pageErr
	}
	if !gotBot && botErr != nil {
		bErr = <-botErr
	}
	if errors.Is(pErr, http.ErrServerClosed) {
		pErr = nil
	}
	if pErr != nil {
		pErr = fmt.Errorf("sandbox: page: %w", pErr)
	}
	if bErr != nil {
		bErr = fmt.Errorf("sandbox: bot: %w", bErr)
	}
	return errors.Join(pErr, bErr, shutErr, w.Close())
}

// listenLoopback listens on addr, which must be a loopback address.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%s: %w", addr, errNotLoopback)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		_ = ln.Close()
		return nil, fmt.Errorf("%s: %w", ln.Addr(), errNotLoopback)
	}
	return ln, nil
}

// loopbackClient is the HTTP client for calls to the bot: no proxy, no
// redirects, loopback addresses only, bounded like Teams' webhook timeout.
func loopbackClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, _, err := net.SplitHostPort(addr)
				if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
					return nil, fmt.Errorf("dial %s: %w", addr, errNotLoopback)
				}
				return dialer.DialContext(ctx, network, addr)
			},
			MaxIdleConns: 4, IdleConnTimeout: 30 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// greet tells the bot about the channels: installed (first start), present
// (every start), and which one is the audit channel (first start). A
// failure is logged; the next start tries again.
func (s *server) greet(ctx context.Context) {
	for _, ch := range s.tenant.Channels {
		if err := s.install(ctx, ch); err != nil {
			s.log.Warn("sandbox: the bot was not told it is in this channel", "channel", ch.Name, "error", err)
		}
		if err := s.announce(ctx, ch); err != nil {
			s.log.Warn("sandbox: the bot was not told about this channel", "channel", ch.Name, "error", err)
		}
	}
	ch, ok := s.tenant.AuditChannel()
	if err := s.sayHere(ctx, ch, ok, "audit here"); err != nil {
		s.log.Warn("sandbox: the audit channel was not set", "error", err)
	}
	ch, ok = s.tenant.RadarChannel()
	if err := s.sayHere(ctx, ch, ok, "radar here"); err != nil {
		s.log.Warn("sandbox: the radar channel was not set", "error", err)
	}
}

// loopbackHTTP reports whether raw is an http URL on a loopback address.
func loopbackHTTP(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback())
}
