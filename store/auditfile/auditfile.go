// Package auditfile is the CLI's audit trail: rotation events appended as
// JSON lines to a local file, each synced to disk before Record returns, so
// the action it announces is only taken once its record is durable. The
// server's shared, hash-chained trail lives in the state store instead.
//
// Events carry IDs, hints and words, never secret values. It imports only
// the standard library and package rotation.
package auditfile

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// Log appends events to one file. It is safe for concurrent use.
type Log struct {
	mu sync.Mutex
	f  *os.File
}

var _ rotation.Auditor = (*Log)(nil)

// Open opens (creating, mode 0600) the file at path for appending.
func Open(path string) (*Log, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return &Log{f: f}, nil
}

// line is the stored form of an event; its field names are the file format.
type line struct {
	Time      time.Time `json:"time"`
	Type      string    `json:"type"`
	RequestID string    `json:"request_id,omitempty"`
	ClientID  string    `json:"client_id,omitempty"`
	Actor     string    `json:"actor,omitempty"`
	KeyID     string    `json:"key_id,omitempty"`
	Hint      string    `json:"hint,omitempty"`
	Vault     string    `json:"vault,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

// Record implements rotation.Auditor: it appends e and syncs the file.
func (l *Log) Record(_ context.Context, e rotation.Event) error {
	b, err := json.Marshal(line{Time: e.Time.UTC(), Type: string(e.Type), RequestID: e.RequestID, ClientID: e.ClientID,
		Actor: e.Actor, KeyID: e.KeyID, Hint: e.Hint, Vault: e.Vault, Detail: e.Detail})
	if err != nil {
		return fmt.Errorf("encode audit event: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("append audit event: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("sync audit log: %w", err)
	}
	return nil
}

// Close closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}
