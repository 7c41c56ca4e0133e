// Package connector is Keyturn's client for the Bot Framework connector: it
// posts, threads and updates activities in Teams conversations and shows
// the typing indicator.
//
// It sends a bearer token only to a serviceUrl that is https (or http on a
// loopback address, for tests) and that the caller's AllowedServiceURL hook
// accepts: the caller allows only serviceUrls that arrived on authenticated
// activities. A token failure is an error before any request is made; the
// client never sends an empty bearer and never follows redirects. Throttling
// (429, 503) is retried after the connector's Retry-After, a bounded number
// of times.
//
// The package imports only the standard library and bot/activity; tokens
// come through the TokenSource interface, built by cmd/bot from azidentity.
// It never imports an Azure adapter.
package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keyturn/keyturn/bot/activity"
)

// Defaults for Config's optional limits.
const (
	DefaultMaxAttempts   = 4
	DefaultMaxRetryAfter = 60 * time.Second
)

// Errors the client returns (wrapped); test with errors.Is.
var (
	// ErrServiceURLNotAllowed means the reference's serviceUrl is not https
	// (or loopback http), is malformed, or the AllowedServiceURL hook
	// refused it. No token was requested and no request sent.
	ErrServiceURLNotAllowed = errors.New("service url not allowed")
	// ErrInvalidReference means a conversation or activity ID is missing
	// or unusable as a path segment. No request was sent.
	ErrInvalidReference = errors.New("invalid conversation reference")
)

// StatusError is a connector answer other than 2xx after retries, if any.
// Code is the connector's error code when its body named one (for example
// "BotNotInConversationRoster"); the body is otherwise not kept.
type StatusError struct {
	Method     string
	StatusCode int
	Code       string
}

// Error describes the status without the request URL or any header.
func (e *StatusError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("connector answered %s with %d (%s)", e.Method, e.StatusCode, e.Code)
	}
	return fmt.Sprintf("connector answered %s with %d", e.Method, e.StatusCode)
}

// Config configures a Client. HTTP, Tokens and AllowedServiceURL are
// required.
type Config struct {
	// HTTP sends the requests: outbound.Client in production. The client
	// uses a copy that does not follow redirects.
	HTTP *http.Client
	// Tokens supplies bearer tokens, typically a CachingTokenSource.
	Tokens TokenSource
	// AllowedServiceURL reports whether serviceURL (verbatim from the
	// conversation reference) arrived on an authenticated activity.
	AllowedServiceURL func(serviceURL string) bool
	// Logger receives request outcomes (default: discarded). Tokens,
	// headers and bodies are never logged.
	Logger *slog.Logger
	// Now is the clock for Retry-After dates (default time.Now).
	Now func() time.Time
	// Sleep waits d or until ctx ends (default: a timer).
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxAttempts bounds the requests per call (default 4).
	MaxAttempts int
	// MaxRetryAfter caps one wait for a throttled request (default 60 s).
	MaxRetryAfter time.Duration
}

// Client sends activities to Bot Framework connectors. It is safe for
// concurrent use.
type Client struct {
	http          *http.Client
	tokens        TokenSource
	allowed       func(string) bool
	log           *slog.Logger
	now           func() time.Time
	sleep         func(context.Context, time.Duration) error
	maxAttempts   int
	maxRetryAfter time.Duration
}

// New returns a Client for cfg, or an error naming every missing field.
func New(cfg Config) (*Client, error) {
	var errs []error
	if cfg.HTTP == nil {
		errs = append(errs, errors.New("connector: HTTP client is required"))
	}
	if cfg.Tokens == nil {
		errs = append(errs, errors.New("connector: token source is required"))
	}
	if cfg.AllowedServiceURL == nil {
		errs = append(errs, errors.New("connector: AllowedServiceURL is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	hc := *cfg.HTTP
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &Client{
		http: &hc, tokens: cfg.Tokens, allowed: cfg.AllowedServiceURL,
		log: cfg.Logger, now: cfg.Now, sleep: cfg.Sleep,
		maxAttempts: cfg.MaxAttempts, maxRetryAfter: cfg.MaxRetryAfter,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepContext
	}
	if c.maxAttempts < 1 {
		c.maxAttempts = DefaultMaxAttempts
	}
	if c.maxRetryAfter <= 0 {
		c.maxRetryAfter = DefaultMaxRetryAfter
	}
	return c, nil
}

// SendToConversation posts act to the reference's conversation (in a
// channel thread when the conversation ID names one) and returns the new
// activity's ID ("" if the connector named none).
func (c *Client) SendToConversation(ctx context.Context, ref activity.ConversationReference, act Activity) (string, error) {
	return c.send(ctx, call{method: http.MethodPost, op: "send activity"}, ref, fill(ref, act))
}

// ReplyToActivity posts act as a reply to activity replyToID and returns the
// new activity's ID.
func (c *Client) ReplyToActivity(ctx context.Context, ref activity.ConversationReference, replyToID string, act Activity) (string, error) {
	act = fill(ref, act)
	if act.ReplyToID == "" {
		act.ReplyToID = replyToID
	}
	return c.send(ctx, call{method: http.MethodPost, op: "reply to activity", id: replyToID, withID: true}, ref, act)
}

// UpdateActivity replaces activity activityID (a card the bot sent) with act.
func (c *Client) UpdateActivity(ctx context.Context, ref activity.ConversationReference, activityID string, act Activity) error {
	act = fill(ref, act)
	act.ID = activityID
	_, err := c.send(ctx, call{method: http.MethodPut, op: "update activity", id: activityID, withID: true}, ref, act)
	return err
}

// SendTyping shows the bot's typing indicator in the conversation. It is not
// retried when throttled: a late indicator is worse than none.
func (c *Client) SendTyping(ctx context.Context, ref activity.ConversationReference) error {
	_, err := c.send(ctx, call{method: http.MethodPost, op: "send typing", noRetry: true}, ref, fill(ref, Activity{Type: TypeTyping}))
	return err
}

// fill returns a copy of act with the defaults taken from ref.
func fill(ref activity.ConversationReference, act Activity) Activity {
	if act.Type == "" {
		act.Type = TypeMessage
	}
	if act.From == nil && ref.BotID != "" {
		act.From = &Account{ID: ref.BotID, Name: ref.BotName}
	}
	if act.Conversation == nil {
		act.Conversation = &Conversation{ID: ref.ConversationID}
	}
	return act
}

// endpoint returns the activities URL of ref's conversation, with activityID
// as a last segment when withID, after checking the service URL with the
// hook and the IDs as path segments.
func (c *Client) endpoint(ref activity.ConversationReference, activityID string, withID bool) (string, error) {
	if !serviceURLUsable(ref.ServiceURL) || !c.allowed(ref.ServiceURL) {
		return "", ErrServiceURLNotAllowed
	}
	if !segmentUsable(ref.ConversationID) || (withID && !segmentUsable(activityID)) {
		return "", ErrInvalidReference
	}
	u := ref.ServiceURL
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	u += "v3/conversations/" + url.PathEscape(ref.ConversationID) + "/activities"
	if withID {
		u += "/" + url.PathEscape(activityID)
	}
	return u, nil
}

// serviceURLUsable reports whether s is an absolute https URL, or http on a
// loopback host, without user info, query or fragment.
func serviceURLUsable(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return true
		}
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

// segmentUsable reports whether s can be one escaped path segment: not
// empty, not a dot segment, of sane length.
func segmentUsable(s string) bool {
	return s != "" && s != "." && s != ".." && len(s) <= 2048
}

// sleepContext waits d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
