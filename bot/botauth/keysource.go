package botauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Defaults of KeySourceConfig.
const (
	// DefaultMetadataURL is the public cloud's OpenID metadata document for
	// channel → bot tokens (setting BotOpenIdMetadata in Microsoft's SDKs).
	DefaultMetadataURL = "https://login.botframework.com/v1/.well-known/openidconfiguration"

	// MaxKeyAge is the longest signing keys may be cached (protocol §1).
	MaxKeyAge = 24 * time.Hour

	// DefaultMinRefreshInterval is the default rate limit: at most one
	// fetch of the metadata per this interval, whatever triggers it.
	DefaultMinRefreshInterval = 5 * time.Minute

	// DefaultFetchTimeout bounds one refresh (metadata and JWKS together).
	DefaultFetchTimeout = 10 * time.Second

	// DefaultMaxDocumentBytes bounds each fetched document's body.
	DefaultMaxDocumentBytes = 1 << 20
)

// KeySourceConfig configures a KeySource. HTTPClient is required; zero
// values elsewhere mean the defaults.
type KeySourceConfig struct {
	// MetadataURL is the OpenID metadata document (BotOpenIdMetadata);
	// default DefaultMetadataURL. It, and the jwks_uri it names, must be
	// https (http only on a loopback host, for tests).
	MetadataURL string
	// HTTPClient fetches both documents. Its Timeout may be zero: each
	// refresh is bounded by FetchTimeout.
	HTTPClient *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
	// MaxAge is how long a fetched key set is used; default and maximum
	// MaxKeyAge.
	MaxAge time.Duration
	// MinRefreshInterval is the least time between two fetch attempts,
	// successful or not; default DefaultMinRefreshInterval, at most MaxAge.
	MinRefreshInterval time.Duration
	// FetchTimeout bounds one refresh; default DefaultFetchTimeout.
	FetchTimeout time.Duration
	// MaxDocumentBytes bounds each document; default DefaultMaxDocumentBytes.
	MaxDocumentBytes int64
	// Logger receives one line per refresh (never a token); default none.
	Logger *slog.Logger
}

// KeySource fetches the channel's signing keys from the OpenID metadata
// document and its jwks_uri, and caches them. It is safe for concurrent use.
//
// A key set is used for at most MaxAge. Two causes trigger a fetch, each
// rate-limited to one attempt per MinRefreshInterval: a kid missing from a
// fresh set (so forged kids cannot make it hammer the endpoint, while a key
// published just after the last fetch is still found at once), and the
// lack of a fresh set (first use, expiry, failed fetches; so an outage is
// not hammered either). Concurrent callers share the one fetch in flight.
// A failed refresh keeps the previous set for as long as it is fresh; a set
// older than MaxAge is never used.
type KeySource struct {
	metadataURL  string
	client       *http.Client
	now          func() time.Time
	maxAge       time.Duration
	minInterval  time.Duration
	fetchTimeout time.Duration
	maxBytes     int64
	log          *slog.Logger

	mu          sync.Mutex
	set         *keySet    // last successful fetch; nil before
	lastAttempt time.Time  // start of the last fetch attempt, any cause
	lastMiss    time.Time  // start of the last fetch caused by an unknown kid
	inflight    *fetchCall // the refresh in progress, if any
}

// keySet is one successful fetch; never modified after creation.
type keySet struct {
	keys      map[string]SigningKey
	fetchedAt time.Time
}

// fetchCall is a refresh in flight; err is set before done is closed.
type fetchCall struct {
	done chan struct{}
	err  error
}

// NewKeySource returns a KeySource for cfg, or an error naming every
// problem in cfg. It fetches nothing until first asked for a key.
func NewKeySource(cfg KeySourceConfig) (*KeySource, error) {
	if cfg.MetadataURL == "" {
		cfg.MetadataURL = DefaultMetadataURL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = MaxKeyAge
	}
	if cfg.MinRefreshInterval == 0 {
		cfg.MinRefreshInterval = DefaultMinRefreshInterval
	}
	if cfg.FetchTimeout == 0 {
		cfg.FetchTimeout = DefaultFetchTimeout
	}
	if cfg.MaxDocumentBytes == 0 {
		cfg.MaxDocumentBytes = DefaultMaxDocumentBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if _, err := checkFetchURL(cfg.MetadataURL); err != nil {
		errs = append(errs, fmt.Errorf("metadata url: %w", err))
	}
	if cfg.HTTPClient == nil {
		errs = append(errs, errors.New("http client is required"))
	}
	if cfg.MaxAge < 0 || cfg.MaxAge > MaxKeyAge {
		errs = append(errs, fmt.Errorf("max age %v not in (0, %v]", cfg.MaxAge, MaxKeyAge))
	}
	if cfg.MinRefreshInterval < 0 || cfg.MinRefreshInterval > cfg.MaxAge {
		errs = append(errs, fmt.Errorf("min refresh interval %v not in (0, max age]", cfg.MinRefreshInterval))
	}
	if cfg.FetchTimeout < 0 {
		errs = append(errs, errors.New("fetch timeout is negative"))
	}
	if cfg.MaxDocumentBytes < 0 {
		errs = append(errs, errors.New("max document bytes is negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("key source config: %w", err)
	}
	return &KeySource{
		metadataURL:  cfg.MetadataURL,
		client:       cfg.HTTPClient,
		now:          cfg.Now,
		maxAge:       cfg.MaxAge,
		minInterval:  cfg.MinRefreshInterval,
		fetchTimeout: cfg.FetchTimeout,
		maxBytes:     cfg.MaxDocumentBytes,
		log:          cfg.Logger,
	}, nil
}

// SigningKey returns the signing key named kid, refreshing the cache first
// if the set is stale or lacks kid and the rate limit allows. It returns
// an error wrapping ErrUnknownKeyID when a fresh set lacks kid (after the
// one refresh allowed), ErrKeysUnavailable when there is no fresh set to
// look in (the fetch error is joined), or ctx's error when ctx ends while
// waiting for a refresh started by another caller.
func (s *KeySource) SigningKey(ctx context.Context, kid string) (SigningKey, error) {
	if kid == "" {
		return SigningKey{}, fmt.Errorf("%w: empty kid", ErrUnknownKeyID)
	}
	s.mu.Lock()
	if k, ok := s.lookupLocked(kid); ok {
		s.mu.Unlock()
		return k, nil
	}
	call, err := s.awaitRefreshLocked(ctx, s.freshLocked())
	if err != nil {
		if call == nil {
			err = fmt.Errorf("%w (refresh rate-limited)", s.missLocked(kid, nil))
			s.mu.Unlock()
		}
		return SigningKey{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.lookupLocked(kid); ok {
		return k, nil
	}
	return SigningKey{}, s.missLocked(kid, call.err)
}

// lookupLocked finds kid in the cached set if that set is fresh.
func (s *KeySource) lookupLocked(kid string) (SigningKey, bool) {
	if !s.freshLocked() {
		return SigningKey{}, false
	}
	k, ok := s.set.keys[kid]
	if !ok {
		return SigningKey{}, false
	}
	return k.clone(), true
}

func (s *KeySource) freshLocked() bool {
	if s.set == nil {
		return false
	}
	age := s.now().Sub(s.set.fetchedAt)
	return age >= 0 && age < s.maxAge
}

// mayFetchLocked applies the rate limit for a fetch caused by a kid
// missing from a fresh set (fresh) or by the lack of a fresh set. A clock
// that went backwards does not block refreshes forever.
func (s *KeySource) mayFetchLocked(fresh bool) bool {
	last := s.lastAttempt
	if fresh {
		last = s.lastMiss
	}
	if last.IsZero() {
		return true
	}
	since := s.now().Sub(last)
	return since >= s.minInterval || since < 0
}

// missLocked builds the error for a kid not found.
func (s *KeySource) missLocked(kid string, fetchErr error) error {
	if !s.freshLocked() {
		if fetchErr != nil {
			return fmt.Errorf("%w: %w", ErrKeysUnavailable, fetchErr)
		}
		return ErrKeysUnavailable
	}
	if fetchErr != nil {
		return fmt.Errorf("%w %q (refresh failed: %w)", ErrUnknownKeyID, clip(kid), fetchErr)
	}
	return fmt.Errorf("%w %q", ErrUnknownKeyID, clip(kid))
}

// refresh runs call as the single fetch in flight. It is detached from the
// caller's cancellation (other callers wait on it) but bounded by the fetch
// timeout.
func (s *KeySource) refresh(ctx context.Context, call *fetchCall) {
	var set *keySet
	defer func() {
		s.mu.Lock()
		if call.err == nil && set != nil {
			s.set = set
		}
		s.inflight = nil
		s.mu.Unlock()
		close(call.done)
	}()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.fetchTimeout)
	defer cancel()
	set, call.err = s.fetch(ctx)
	if call.err != nil {
		s.log.WarnContext(ctx, "bot signing key refresh failed",
			slog.String("metadata_url", s.metadataURL), slog.Any("error", call.err))
		return
	}
	s.log.InfoContext(ctx, "bot signing keys refreshed",
		slog.String("metadata_url", s.metadataURL), slog.Int("key_count", len(set.keys)))
}

// Ready reports whether a fresh key set is held, fetching one first when
// none is and the rate limit allows; readiness probes call it. It never
// counts as a fetch for an unknown kid.
func (s *KeySource) Ready(ctx context.Context) error {
	s.mu.Lock()
	if s.freshLocked() {
		s.mu.Unlock()
		return nil
	}
	call, err := s.awaitRefreshLocked(ctx, false)
	if err != nil {
		if call == nil {
			s.mu.Unlock()
			return fmt.Errorf("%w (refresh rate-limited)", ErrKeysUnavailable)
		}
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.freshLocked() {
		return nil
	}
	if call.err != nil {
		return fmt.Errorf("%w: %w", ErrKeysUnavailable, call.err)
	}
	return ErrKeysUnavailable
}

// awaitRefreshLocked joins the refresh in flight, or starts one when the
// rate limit for its cause (fresh: a kid missing from a fresh set) allows,
// and waits for it. Called with s.mu held. When the rate limit refuses, it
// returns a nil call and an error with s.mu still held; otherwise it
// returns with s.mu released, and an error only if ctx ended first.
func (s *KeySource) awaitRefreshLocked(ctx context.Context, fresh bool) (*fetchCall, error) {
	call := s.inflight
	if call == nil {
		if !s.mayFetchLocked(fresh) {
			return nil, errRateLimited
		}
		call = &fetchCall{done: make(chan struct{})}
		s.inflight = call
		s.lastAttempt = s.now()
		if fresh {
			s.lastMiss = s.lastAttempt
		}
		s.mu.Unlock()
		s.refresh(ctx, call)
	} else {
		s.mu.Unlock()
	}
	select {
	case <-call.done:
		return call, nil
	case <-ctx.Done():
		return call, fmt.Errorf("wait for key refresh: %w", ctx.Err())
	}
}

// errRateLimited is awaitRefreshLocked's refusal; callers replace it with
// their own error.
var errRateLimited = errors.New("refresh rate-limited")
