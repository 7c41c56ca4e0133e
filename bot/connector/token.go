package connector

import (
	"context"
	"errors"
	"sync"
	"time"
)

// TokenSource supplies bearer tokens for the Bot Framework connector (scope
// https://api.botframework.com/.default in the public cloud).
type TokenSource interface {
	// Token returns a token, or a non-nil error; never an empty token
	// with a nil error. It returns the context's error when ctx ends.
	Token(ctx context.Context) (string, error)
}

// TokenFunc fetches a new token and its expiry, as azidentity credentials
// do (azcore.AccessToken's Token and ExpiresOn).
type TokenFunc func(ctx context.Context) (token string, expiresOn time.Time, err error)

// RefreshMargin is how long before its expiry CachingTokenSource replaces a
// cached token.
const RefreshMargin = 5 * time.Minute

// Errors CachingTokenSource returns when the TokenFunc misbehaves.
var (
	// ErrEmptyToken means a token source returned an empty token without
	// an error.
	ErrEmptyToken = errors.New("token source returned an empty token")
	// ErrExpiredToken means a fetched token had already expired.
	ErrExpiredToken  = errors.New("token source returned an expired token")
	errFetchPanicked = errors.New("token fetch panicked")
)

// CachingTokenSource is a TokenSource that caches the token of a TokenFunc
// until RefreshMargin before its expiry. Concurrent callers that find no
// valid token share one fetch. Failures are not cached: the next call
// fetches again. It is safe for concurrent use.
type CachingTokenSource struct {
	fetch TokenFunc
	now   func() time.Time

	mu        sync.Mutex
	token     string
	expiresOn time.Time
	flight    *flight // the fetch in progress, if any
}

// flight is one fetch that several callers wait for; its fields are
// written before done is closed.
type flight struct {
	done      chan struct{}
	token     string
	expiresOn time.Time
	err       error
}

var _ TokenSource = (*CachingTokenSource)(nil)

// NewCachingTokenSource returns a CachingTokenSource over fetch. now is the
// clock (nil: time.Now).
func NewCachingTokenSource(fetch TokenFunc, now func() time.Time) *CachingTokenSource {
	if now == nil {
		now = time.Now
	}
	return &CachingTokenSource{fetch: fetch, now: now}
}

// Token returns the cached token or fetches a new one. Errors: the
// TokenFunc's error, ErrEmptyToken, ErrExpiredToken, or ctx's error. A
// caller waiting for another caller's fetch stops waiting when its own ctx
// ends, and fetches again itself if the other caller's context ended.
func (s *CachingTokenSource) Token(ctx context.Context) (string, error) {
	for {
		s.mu.Lock()
		if s.token != "" && s.now().Before(s.expiresOn.Add(-RefreshMargin)) {
			tok := s.token
			s.mu.Unlock()
			return tok, nil
		}
		f := s.flight
		if f == nil {
			f = &flight{done: make(chan struct{})}
			s.flight = f
			s.mu.Unlock()
			s.lead(ctx, f)
			if f.err != nil {
				return "", f.err
			}
			return f.token, nil
		}
		s.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		if f.err == nil {
			return f.token, nil
		}
		if ctx.Err() == nil && (errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) {
			continue // the leader's context ended, not ours: try again
		}
		return "", f.err
	}
}

// lead runs the fetch for f and publishes its result, even if fetch panics.
func (s *CachingTokenSource) lead(ctx context.Context, f *flight) {
	f.err = errFetchPanicked
	defer func() {
		s.mu.Lock()
		s.flight = nil
		if f.err == nil {
			s.token, s.expiresOn = f.token, f.expiresOn
		}
		s.mu.Unlock()
		close(f.done)
	}()
	tok, exp, err := s.fetch(ctx)
	switch {
	case err != nil:
		f.err = err
	case tok == "":
		f.err = ErrEmptyToken
	case !exp.After(s.now()):
		f.err = ErrExpiredToken
	default:
		f.token, f.expiresOn, f.err = tok, exp, nil
	}
}
