package memory

import (
	"context"
	"sync"

	"github.com/keyturn/keyturn/rotation"
)

// AuditLog is a rotation.Auditor that keeps events in memory.
type AuditLog struct {
	mu     sync.Mutex
	events []rotation.Event
}

var _ rotation.Auditor = (*AuditLog)(nil)

// Record implements rotation.Auditor.
func (a *AuditLog) Record(_ context.Context, e rotation.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
	return nil
}

// Events returns a copy of the recorded events.
func (a *AuditLog) Events() []rotation.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]rotation.Event(nil), a.events...)
}

// Types returns the recorded event types in order.
func (a *AuditLog) Types() []rotation.EventType {
	var out []rotation.EventType
	for _, e := range a.Events() {
		out = append(out, e.Type)
	}
	return out
}
