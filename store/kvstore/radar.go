package kvstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/keyturn/keyturn/radar"
	"github.com/keyturn/keyturn/store/kv"
)

// radarPrefix keys the radar's marks in the meta table: one item per app.
const radarPrefix = "radar:"

// RadarMark returns what the radar remembers of the app clientID and the
// item's ETag; the zero Mark and "" when nothing is stored.
func (s *Store) RadarMark(ctx context.Context, clientID string) (radar.Mark, string, error) {
	var m radar.Mark
	etag, err := s.get(ctx, kv.TableMeta, radarPrefix+escape(strings.ToLower(clientID)), &m)
	if errors.Is(err, kv.ErrNotFound) {
		return radar.Mark{}, "", nil
	}
	if err != nil {
		return radar.Mark{}, "", fmt.Errorf("radar mark of %s: %w", clientID, err)
	}
	return m, etag, nil
}

// PutRadarMark stores m if the stored item's ETag is still etag ("" when
// there was none) and returns the new ETag. Of two replicas writing after
// reading the same mark, one gets rotation.ErrConflict: it must not post.
func (s *Store) PutRadarMark(ctx context.Context, m radar.Mark, etag string) (string, error) {
	if m.ClientID == "" {
		return "", errors.New("radar mark without a client id")
	}
	tag, err := s.put(ctx, kv.TableMeta, radarPrefix+escape(strings.ToLower(m.ClientID)), m, etag)
	if err != nil {
		return "", fmt.Errorf("radar mark of %s: %w", m.ClientID, domainErr(err))
	}
	return tag, nil
}

// RadarMarks returns every stored mark, for the scan's watch list.
func (s *Store) RadarMarks(ctx context.Context) ([]radar.Mark, error) {
	items, err := s.kv.List(ctx, kv.TableMeta, radarPrefix, 0)
	if err != nil {
		return nil, fmt.Errorf("radar marks: %w", err)
	}
	out := make([]radar.Mark, 0, len(items))
	for _, it := range items {
		var m radar.Mark
		if err := decode(it, &m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}
