package bot

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync"

	"github.com/keyturn/keyturn/bot/activity"
)

// ServiceURLs is the set of connector service URLs that arrived on
// authenticated activities; the connector client sends tokens only to
// those. It is safe for concurrent use.
type ServiceURLs struct {
	mu   sync.Mutex
	urls map[string]bool
}

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

// Allowed reports whether u was allowed.
func (s *ServiceURLs) Allowed(u string) bool {
	k, ok := serviceURLKey(u)
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.urls[k]
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

// RawReferences stores conversation references as bytes (*kvstore.Store).
type RawReferences interface {
	SaveRef(ctx context.Context, conversation string, data []byte) error
	DeleteRef(ctx context.Context, conversation string) error
}

// StoredReferences keeps conversation references in the shared state.
type StoredReferences struct {
	Raw RawReferences
}

var _ References = StoredReferences{}

// SaveReference implements References.
func (s StoredReferences) SaveReference(ctx context.Context, ref activity.ConversationReference) error {
	b, err := json.Marshal(ref)
	if err != nil {
		return err
	}
	return s.Raw.SaveRef(ctx, ref.ConversationID, b)
}

// DeleteReference implements References.
func (s StoredReferences) DeleteReference(ctx context.Context, conversationID string) error {
	return s.Raw.DeleteRef(ctx, conversationID)
}
