package bot

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"time"

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

// MemoryDedup is a Deduper that remembers keys for TTL in memory, at most
// Max of them (the oldest are dropped first). It suits one replica; the
// shared state store replaces it for several.
type MemoryDedup struct {
	TTL time.Duration
	Max int
	Now func() time.Time

	mu    sync.Mutex
	seen  map[string]time.Time
	order []string
}

var _ Deduper = (*MemoryDedup)(nil)

// FirstSeen implements Deduper.
func (d *MemoryDedup) FirstSeen(_ context.Context, key string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if d.seen == nil {
		d.seen = map[string]time.Time{}
	}
	if at, ok := d.seen[key]; ok && now.Sub(at) < d.ttl() {
		return false, nil
	}
	d.seen[key] = now
	d.order = append(d.order, key)
	for len(d.order) > 0 && (len(d.seen) > d.max() || now.Sub(d.seen[d.order[0]]) >= d.ttl()) {
		old := d.order[0]
		d.order = d.order[1:]
		if at, ok := d.seen[old]; ok && (len(d.seen) > d.max() || now.Sub(at) >= d.ttl()) {
			delete(d.seen, old)
		}
	}
	return true, nil
}

// Forget implements Deduper.
func (d *MemoryDedup) Forget(_ context.Context, key string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.seen, key)
	return nil
}

func (d *MemoryDedup) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *MemoryDedup) ttl() time.Duration {
	if d.TTL <= 0 {
		return 24 * time.Hour
	}
	return d.TTL
}

func (d *MemoryDedup) max() int {
	if d.Max <= 0 {
		return 100000
	}
	return d.Max
}

// MemoryReferences is a References kept in memory.
type MemoryReferences struct {
	mu   sync.Mutex
	refs map[string]activity.ConversationReference
}

var _ References = (*MemoryReferences)(nil)

// SaveReference implements References.
func (m *MemoryReferences) SaveReference(_ context.Context, ref activity.ConversationReference) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refs == nil {
		m.refs = map[string]activity.ConversationReference{}
	}
	m.refs[ref.ConversationID] = ref
	return nil
}

// DeleteReference implements References.
func (m *MemoryReferences) DeleteReference(_ context.Context, conversationID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.refs, conversationID)
	return nil
}

// Reference returns the stored reference of conversationID.
func (m *MemoryReferences) Reference(conversationID string) (activity.ConversationReference, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.refs[conversationID]
	return r, ok
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
