package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/store/kvstore"
)

// anchor is a record the trail must still hold: its sequence number and
// its hash, or a prefix of it (audit channel posts show 12 characters).
type anchor struct {
	Seq  uint64
	Hash string
}

// parseAnchor reads "SEQ:HASH" (or "#SEQ:HASH", as an audit post shows it).
func parseAnchor(v string) (anchor, error) {
	seq, hash, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(v), "#"), ":")
	n, err := strconv.ParseUint(seq, 10, 64)
	hash = strings.ToLower(strings.Trim(strings.TrimSpace(hash), "[]"))
	if !ok || err != nil || n == 0 || len(hash) < 12 || strings.Trim(hash, "0123456789abcdef") != "" {
		return anchor{}, fmt.Errorf("%q is not SEQ:HASH with at least 12 hex characters of the hash, as an audit post shows them (#42 ... [0123456789ab] is 42:0123456789ab)", v)
	}
	return anchor{Seq: n, Hash: hash}, nil
}

// checkAnchor fails with rotation.ErrChainBroken unless the trail still
// holds record a.Seq with a hash that starts with a.Hash.
func checkAnchor(ctx context.Context, st *kvstore.Store, a anchor, from string) error {
	recs, err := st.Records(ctx, a.Seq-1, 1)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return fmt.Errorf("%w: record %d (%s) is gone: records were removed from the end of the trail", rotation.ErrChainBroken, a.Seq, from)
	}
	if !strings.HasPrefix(recs[0].Hash, a.Hash) {
		return fmt.Errorf("%w: record %d differs from %s: the trail was rewritten", rotation.ErrChainBroken, a.Seq, from)
	}
	return nil
}

// readCheckpoint reads a checkpoint file ("SEQ:HASH"); a missing file is
// no checkpoint yet.
func readCheckpoint(path string) (anchor, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return anchor{}, false, nil
	}
	if err != nil {
		return anchor{}, false, err
	}
	a, err := parseAnchor(string(b))
	if err != nil {
		return anchor{}, false, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return a, true, nil
}

// writeCheckpoint records the trail's last record in path.
func writeCheckpoint(ctx context.Context, st *kvstore.Store, path string) (uint64, error) {
	head, err := st.AuditHead(ctx)
	if err != nil || head == 0 {
		return 0, err
	}
	recs, err := st.Records(ctx, head-1, 1)
	if err != nil || len(recs) == 0 {
		return 0, errors.Join(err, fmt.Errorf("record %d is missing", head))
	}
	return head, os.WriteFile(path, []byte(fmt.Sprintf("%d:%s\n", head, recs[0].Hash)), 0o600)
}
