package bot

import (
	"net/http"
	"time"
)

// Defaults for Limits: generous for Teams (which sends a few KB at once
// over a fast link and waits at most 15 s for an answer), tight for a
// client that trickles bytes to hold connections open.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	// DefaultMaxHeaderBytes fits a bearer token at its limit
	// (botauth.MaxTokenBytes, 16 KiB) several times over.
	DefaultMaxHeaderBytes = 64 << 10
)

// Limits bound what one HTTP client can make the server hold. Zero fields
// take the defaults above. The body limit is Config.MaxBodyBytes, and the
// JSON nesting limit activity.MaxDepth.
type Limits struct {
	// ReadHeaderTimeout is how long a connection may take to send a
	// request's headers, counted from its first byte: a client that
	// trickles them (slowloris) is cut off when it ends.
	ReadHeaderTimeout time.Duration
	// ReadTimeout is how long reading a whole request may take, body
	// included.
	ReadTimeout time.Duration
	// WriteTimeout is how long answering a request may take.
	WriteTimeout time.Duration
	// IdleTimeout is how long a kept-alive connection may wait for its
	// next request.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's headers; more gets 431.
	MaxHeaderBytes int
}

func (l Limits) withDefaults() Limits {
	l.ReadHeaderTimeout = orDefault(l.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	l.ReadTimeout = orDefault(l.ReadTimeout, DefaultReadTimeout)
	l.WriteTimeout = orDefault(l.WriteTimeout, DefaultWriteTimeout)
	l.IdleTimeout = orDefault(l.IdleTimeout, DefaultIdleTimeout)
	l.MaxHeaderBytes = orDefault(l.MaxHeaderBytes, DefaultMaxHeaderBytes)
	return l
}

// httpServer returns the server Serve runs, with the limits applied.
func (s *Server) httpServer() *http.Server {
	l := s.cfg.Limits
	return &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
	}
}
