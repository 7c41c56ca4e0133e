package bot

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ServiceURLs is the set of connector service URLs that arrived on
// authenticated activities; the connector client sends tokens only to
// those. With a Store, the set is shared by the replicas and survives a
// restart, so card updates, expiry updates and audit posts (which are not
// replies to an incoming activity) reach Teams from any replica. It is safe
// for concurrent use.
type ServiceURLs struct {
	// Store keeps the set; nil keeps it in this process only.
	Store ServiceURLStore

	mu   sync.Mutex
	urls map[string]bool
}

// ServiceURLStore persists allowed service URLs (*kvstore.Store).
type ServiceURLStore interface {
	AllowServiceURL(ctx context.Context, u string) error
	ServiceURLAllowed(ctx context.Context, u string) (bool, error)
}

// Remember adds u, which arrived on an authenticated activity, and
// persists it in the Store the first time this process sees it.
func (s *ServiceURLs) Remember(ctx context.Context, u string) error {
	k, ok := serviceURLKey(u)
	if !ok || s.known(k) {
		return nil
	}
	if s.Store != nil {
		if err := s.Store.AllowServiceURL(ctx, k); err != nil {
			return err
		}
	}
	s.Allow(u)
	return nil
}

func (s *ServiceURLs) known(k string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.urls[k]
}

// storeLookupTimeout bounds the Store read of Allowed.
const storeLookupTimeout = 5 * time.Second

// maxServiceURLs bounds the set; Teams uses a handful of regional URLs.
const maxServiceURLs = 1024

// Allow adds u.
func (s *ServiceURLs) Allow(u string) {
	k, ok := serviceURLKey(u)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.urls == nil {
		s.urls = map[string]bool{}
	}
	if len(s.urls) < maxServiceURLs {
		s.urls[k] = true
	}
}

// Allowed reports whether u was allowed, here or (with a Store) by any
// replica or an earlier start. A failed Store read allows nothing.
func (s *ServiceURLs) Allowed(u string) bool {
	k, ok := serviceURLKey(u)
	if !ok {
		return false
	}
	if s.known(k) {
		return true
	}
	if s.Store == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeLookupTimeout)
	defer cancel()
	if found, err := s.Store.ServiceURLAllowed(ctx, k); err != nil || !found {
		return false
	}
	s.Allow(u)
	return true
}

// serviceURLKey normalises u: lower-case scheme and host, no trailing
// slash, no query or fragment (which a service URL never has).
func serviceURLKey(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + strings.TrimSuffix(u.EscapedPath(), "/"), true
}
