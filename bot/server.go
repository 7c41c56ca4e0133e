package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/keyturn/keyturn/bot/cards"
	"github.com/keyturn/keyturn/bot/connector"
	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/rotation"
)

// Defaults for Config's optional fields.
const (
	DefaultMaxBodyBytes    = 256 << 10
	DefaultWorkers         = 16
	DefaultQueue           = 1024
	DefaultQueueWait       = time.Second
	DefaultJobTimeout      = 15 * time.Minute
	DefaultShutdownTimeout = 30 * time.Second
	DefaultSchedule        = 30 * time.Second
)

// Config configures a Server. Sender, Rotations, Approvals, Authz, Catalog,
// Audit, State and Dedup are required; so is Auth unless AppID
// is empty (emulator mode, loopback only).
type Config struct {
	// AppID is the bot's Microsoft App ID. Empty means emulator mode:
	// requests are not authenticated, so Serve refuses any listener that
	// is not loopback.
	AppID string
	Auth  Authenticator
	// Tenants lists the Entra tenants whose activities are served; others
	// are refused with 403 and audited. Empty allows any tenant only in
	// emulator mode.
	Tenants []string
	// Emulator, in emulator mode only (no AppID), says who sends an
	// activity from the Bot Framework Emulator (channelId "emulator"),
	// which carries no tenant and no Entra object ID: the sandbox maps it
	// to its demo tenant and a demo user. Nil leaves such activities
	// tenant-less, so the tenant allow-list refuses them.
	Emulator EmulatorIdentity
	// ServiceURLs is told every serviceUrl that arrived on an
	// authenticated activity; the connector posts only to those.
	ServiceURLs *ServiceURLs

	Sender    Sender
	Rotations Rotations
	Approvals *rotation.Approvals
	Authz     *policy.Authorizer
	Members   MemberLister // optional: without it approval buttons show to everyone
	Catalog   *StaticCatalog
	Audit     rotation.Auditor
	State     SharedState
	Dedup     Deduper

	// SingleProcess says no other process shares the state store (the
	// bbolt file, which one process locks): a request "running" that this
	// process is not running has a dead runner, and is settled at once
	// rather than after the job timeout.
	SingleProcess bool

	// Radar is the expiry radar, scanned by the scheduler when due; nil
	// switches it off.
	Radar *Radar

	// Schedule is how often the background scheduler runs (expire
	// requests, retire due credentials, post the audit channel); default
	// 30 s. Holder names this replica for the scheduler's lease.
	Schedule time.Duration
	Holder   string
	// Now is the clock for cards; nil uses time.Now.
	Now func() time.Time

	// BotName is how the help card names the bot ("Keyturn").
	BotName string
	// Ready reports whether dependencies (state store, signing keys) are
	// usable; GET /readyz calls it. Nil means always ready.
	Ready func(ctx context.Context) error
	// Log receives one line per request and per job: IDs, never bodies,
	// headers or tokens. Nil discards.
	Log *slog.Logger
	// NewID makes request IDs; nil uses rotation-style random hex.
	NewID func() string

	// Limits are the HTTP server's timeouts and header limit.
	Limits       Limits
	MaxBodyBytes int64
	Workers      int
	// Queue bounds the jobs waiting for a worker (and the activities
	// waiting for their de-duplication claim). When it is full the webhook
	// waits up to QueueWait for a place, then answers 503 so that Teams
	// retries; a negative QueueWait answers 503 at once.
	Queue           int
	QueueWait       time.Duration
	JobTimeout      time.Duration
	ShutdownTimeout time.Duration
}

// Server is Keyturn's Bot Framework endpoint and the worker pool behind it.
type Server struct {
	cfg     Config
	log     *slog.Logger
	echo    *echo.Echo
	pool    *pool
	tenants map[string]bool

	mu      sync.Mutex
	serving bool

	cardsMu   sync.Mutex
	cardLocks map[string]*cardLock

	runningMu sync.Mutex
	running   map[string]bool // request IDs this process is running

	// ticker makes the lease renewal's ticker (a test seam).
	ticker func(d time.Duration) (<-chan time.Time, func())

	help connector.Activity // the help card, encoded once: the commonest reply
	// notUnderstood is the help card that first says the message was no
	// command, encoded once too.
	notUnderstood connector.Activity
}

// New checks cfg and returns a Server; it starts nothing.
func New(cfg Config) (*Server, error) {
	var errs []error
	if cfg.AppID != "" && cfg.Auth == nil {
		errs = append(errs, errors.New("bot: an App ID needs an authenticator"))
	}
	if cfg.AppID != "" && len(cfg.Tenants) == 0 {
		errs = append(errs, errors.New("bot: an App ID needs at least one allowed tenant"))
	}
	for name, missing := range map[string]bool{
		"sender": cfg.Sender == nil, "rotations": cfg.Rotations == nil, "catalog": cfg.Catalog == nil,
		"approvals": cfg.Approvals == nil, "authz": cfg.Authz == nil, "state": cfg.State == nil, "audit": cfg.Audit == nil,
		"dedup": cfg.Dedup == nil, "service URLs": cfg.ServiceURLs == nil,
	} {
		if missing {
			errs = append(errs, fmt.Errorf("bot: %s is required", name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.BotName == "" {
		cfg.BotName = "Keyturn"
	}
	if cfg.NewID == nil {
		cfg.NewID = randomID
	}
	cfg.Limits = cfg.Limits.withDefaults()
	cfg.MaxBodyBytes = orDefault(cfg.MaxBodyBytes, DefaultMaxBodyBytes)
	cfg.Workers = orDefault(cfg.Workers, DefaultWorkers)
	cfg.Queue = orDefault(cfg.Queue, DefaultQueue)
	if cfg.QueueWait == 0 {
		cfg.QueueWait = DefaultQueueWait
	}
	cfg.JobTimeout = orDefault(cfg.JobTimeout, DefaultJobTimeout)
	cfg.ShutdownTimeout = orDefault(cfg.ShutdownTimeout, DefaultShutdownTimeout)
	cfg.Schedule = orDefault(cfg.Schedule, DefaultSchedule)
	if cfg.Holder == "" {
		cfg.Holder = "keyturn-" + randomID()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, log: cfg.Log, tenants: map[string]bool{}, ticker: realTicker}
	for _, t := range cfg.Tenants {
		s.tenants[strings.ToLower(t)] = true
	}
	s.help = cardActivity(cards.Help(cfg.BotName, helpItems()))
	s.notUnderstood = cardActivity(cards.NotUnderstood(cfg.BotName, helpItems()))
	s.pool = newPool(cfg.Workers, cfg.Queue, cfg.Log)
	s.echo = s.routes()
	return s, nil
}

func (s *Server) now() time.Time { return s.cfg.Now() }

func orDefault[T int | int64 | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		code := http.StatusInternalServerError
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code = he.Code
		}
		if !c.Response().Committed {
			_ = c.NoContent(code)
		}
	}
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: s.cfg.NewID}))
	e.Use(s.accessLog)
	e.Use(s.limitBody)
	e.POST("/api/messages", s.messages, s.emulatorGuard)
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", s.readyz)
	return e
}

// messages is POST /api/messages, the edge between HTTP and the handlers:
// receive authenticates the activity, handle decides what to answer, and
// only this function writes it.
func (s *Server) messages(c echo.Context) error {
	in, status := s.receive(c.Request(), c.Response().Header().Get(echo.HeaderXRequestID))
	if in == nil {
		return c.NoContent(status)
	}
	// Every audit record of this interaction carries its reference.
	a := s.handle(rotation.WithRef(c.Request().Context(), in.rid), in)
	if a.body != nil {
		return c.JSON(a.status, a.body)
	}
	return c.NoContent(a.status)
}

// emulatorGuard answers 403 to what emulatorRefusal refuses, before the
// body is read.
func (s *Server) emulatorGuard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		why := s.emulatorRefusal(c.Request())
		if why == "" {
			return next(c)
		}
		s.log.Warn("activity refused", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
			"status", http.StatusForbidden, "reason", "emulator mode: "+why)
		return c.NoContent(http.StatusForbidden)
	}
}

// limitBody refuses a body longer than MaxBodyBytes: at once when its
// Content-Length says so, else when reading passes the limit (a chunked
// body), which the handler turns into 413. http.MaxBytesReader also makes
// the server close the connection rather than drain the rest.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength > s.cfg.MaxBodyBytes {
			return c.NoContent(http.StatusRequestEntityTooLarge)
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, s.cfg.MaxBodyBytes)
		return next(c)
	}
}

// accessLog writes one line per request: method, path, status, latency and
// the request ID. Never bodies, headers or tokens.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		s.log.Info("http request", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
			"method", c.Request().Method, "path", c.Path(), "status", c.Response().Status,
			"duration_ms", time.Since(start).Milliseconds())
		return nil
	}
}

func (s *Server) readyz(c echo.Context) error {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			s.log.Warn("not ready", "error", err)
			return c.String(http.StatusServiceUnavailable, "not ready\n")
		}
	}
	return c.String(http.StatusOK, "ready\n")
}

// Serve answers on ln until ctx is done, then shuts down gracefully: it
// stops accepting, finishes in-flight requests, lets queued and running
// jobs finish within ShutdownTimeout (then cancels them: an interrupted
// rotation is journaled and recovered at the next start), and returns
// once every goroutine it started has ended. In emulator mode ln must be
// a loopback address.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.cfg.AppID == "" && !isLoopbackAddr(ln.Addr()) {
		return fmt.Errorf("bot: emulator mode (no MicrosoftAppId) accepts unauthenticated requests, so it listens on loopback only, not %s", ln.Addr())
	}
	s.mu.Lock()
	if s.serving {
		s.mu.Unlock()
		return errors.New("bot: already serving")
	}
	s.serving = true
	s.mu.Unlock()

	s.pool.start()
	schedCtx, stopSched := context.WithCancel(context.Background())
	schedDone := make(chan struct{})
	go func() { defer close(schedDone); s.schedule(schedCtx) }()
	srv := s.httpServer()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		s.log.Warn("http shutdown", "error", err)
	}
	if serveErr == nil {
		serveErr = <-errc
	}
	stopSched()
	<-schedDone
	// The next start (or another replica) need not wait for the
	// scheduler's lease to run out.
	if err := s.cfg.State.Release(shutCtx, "scheduler", s.cfg.Holder); err != nil {
		s.log.Warn("releasing the scheduler lease", "error", err)
	}
	s.pool.stop(shutCtx)
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return serveErr
}

func isLoopbackAddr(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
