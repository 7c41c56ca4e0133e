//go:build keyturn_crash

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/store/kv"
)

// Crash points, for the crash matrix (tools/crashmatrix) only: this file is
// compiled with the build tag keyturn_crash, never into a release binary
// (crash_off.go stands in for it there). Two variables drive it:
//
//	KEYTURN_CRASH_AT="<call>:<before|after>:<n>"  SIGKILL the process just
//	    before, or just after, the n-th (from 1) time call is made;
//	KEYTURN_CRASH_TRACE=<file>                     append every call's name
//	    to file, one a line, as it is made.
//
// The calls are the steps a rotation and an approval take that change
// something: the directory's addPassword and removePassword, the vault's
// set and recover, the first verification, and every state-store write to
// the journal, the approval requests and the audit trail.

// crashTables are the state-store tables whose writes are crash points.
var crashTables = map[string]bool{kv.TableJournal: true, kv.TableApprovals: true, kv.TableAudit: true}

type crashPlan struct {
	call  string
	after bool
	n     int

	mu     sync.Mutex
	counts map[string]int
	trace  *bufio.Writer
	file   *os.File
}

// crashes is read once, at the first call: the process's own environment is
// what the harness sets.
var crashes = sync.OnceValue(func() *crashPlan {
	p := &crashPlan{counts: map[string]int{}}
	if at := os.Getenv("KEYTURN_CRASH_AT"); at != "" {
		parts := strings.Split(at, ":")
		n, err := strconv.Atoi(parts[len(parts)-1])
		if len(parts) < 3 || err != nil || n < 1 || (parts[len(parts)-2] != "before" && parts[len(parts)-2] != "after") {
			fmt.Fprintf(os.Stderr, "KEYTURN_CRASH_AT=%q is not <call>:<before|after>:<n>\n", at)
			os.Exit(exitUsage)
		}
		p.call, p.after, p.n = strings.Join(parts[:len(parts)-2], ":"), parts[len(parts)-2] == "after", n
	}
	if path := os.Getenv("KEYTURN_CRASH_TRACE"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			fmt.Fprintf(os.Stderr, "KEYTURN_CRASH_TRACE: %v\n", err)
			os.Exit(exitUsage)
		}
		p.file, p.trace = f, bufio.NewWriter(f)
	}
	return p
})

// around makes the call named call through fn, crashing before or after it
// when the plan says so.
func around[T any](call string, fn func() (T, error)) (T, error) {
	p := crashes()
	p.mu.Lock()
	p.counts[call]++
	n := p.counts[call]
	if p.trace != nil {
		fmt.Fprintln(p.trace, call)
		_ = p.trace.Flush()
		_ = p.file.Sync()
	}
	hit := p.call == call && p.n == n
	p.mu.Unlock()
	if hit && !p.after {
		die()
	}
	v, err := fn()
	if hit {
		die()
	}
	return v, err
}

// die kills the process as the kernel would: no deferred function, no
// flush, no shutdown.
func die() {
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	time.Sleep(time.Minute) // the signal is on its way
}

func crashBackend(b backend) backend {
	b.Apps = crashApps{b.Apps}
	b.Vault = crashVault{b.Vault}
	b.Verifier = crashVerifier{b.Verifier, &sync.Once{}}
	return b
}

func crashStore(s kv.Store) kv.Store { return crashKV{s} }

type crashApps struct{ rotation.Applications }

func (a crashApps) AddPassword(ctx context.Context, objectID, name string, end time.Time) (rotation.NewPassword, error) {
	return around("apps.AddPassword", func() (rotation.NewPassword, error) { return a.Applications.AddPassword(ctx, objectID, name, end) })
}

func (a crashApps) RemovePassword(ctx context.Context, objectID, keyID string) error {
	_, err := around("apps.RemovePassword", func() (struct{}, error) { return struct{}{}, a.Applications.RemovePassword(ctx, objectID, keyID) })
	return err
}

type crashVault struct{ rotation.Vault }

func (v crashVault) Set(ctx context.Context, ref rotation.SecretRef, value rotation.Secret, props rotation.SecretProps) (rotation.StoredSecret, error) {
	return around("vault.Set", func() (rotation.StoredSecret, error) { return v.Vault.Set(ctx, ref, value, props) })
}

func (v crashVault) Recover(ctx context.Context, ref rotation.SecretRef) error {
	_, err := around("vault.Recover", func() (struct{}, error) { return struct{}{}, v.Vault.Recover(ctx, ref) })
	return err
}

// crashVerifier makes only the first verification a crash point: how many
// attempts follow depends on how fast the directory propagates the secret.
type crashVerifier struct {
	rotation.Verifier
	first *sync.Once
}

func (v crashVerifier) Verify(ctx context.Context, clientID string, secret rotation.Secret) error {
	var err error
	ran := false
	v.first.Do(func() {
		ran = true
		_, err = around("verifier.Verify", func() (struct{}, error) { return struct{}{}, v.Verifier.Verify(ctx, clientID, secret) })
	})
	if ran {
		return err
	}
	return v.Verifier.Verify(ctx, clientID, secret)
}

type crashKV struct{ kv.Store }

func (s crashKV) Create(ctx context.Context, table, key string, value []byte) (string, error) {
	if !crashTables[table] {
		return s.Store.Create(ctx, table, key, value)
	}
	return around("kv.Create:"+table, func() (string, error) { return s.Store.Create(ctx, table, key, value) })
}

func (s crashKV) Update(ctx context.Context, table, key string, value []byte, etag string) (string, error) {
	if !crashTables[table] {
		return s.Store.Update(ctx, table, key, value, etag)
	}
	return around("kv.Update:"+table, func() (string, error) { return s.Store.Update(ctx, table, key, value, etag) })
}

func (s crashKV) Delete(ctx context.Context, table, key, etag string) error {
	if !crashTables[table] {
		return s.Store.Delete(ctx, table, key, etag)
	}
	_, err := around("kv.Delete:"+table, func() (struct{}, error) { return struct{}{}, s.Store.Delete(ctx, table, key, etag) })
	return err
}
