package kvstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/keyturn/keyturn/radar"
	"github.com/keyturn/keyturn/rotation"
)

// TestRadarMarksAgreeAcrossReplicas: two replicas read the same mark and
// both decide to post; only the one whose write lands first may, so a
// channel never gets the same card twice.
func TestRadarMarksAgreeAcrossReplicas(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			backend := b.open(t)
			a, c := New(backend, nil), New(backend, nil)
			const app = "3F2B8C1D-6A4E-4B7F-9C0D-1E2F3A4B5C6D"

			m, etag, err := a.RadarMark(ctx, app)
			if err != nil || etag != "" || m.ClientID != "" {
				t.Fatalf("nothing stored yet: %+v %q %v", m, etag, err)
			}
			mark := radar.Mark{ClientID: app, KeyID: "k1", Level: 1, ActivityID: "act-1", PostedAt: time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)}
			if _, err := a.PutRadarMark(ctx, mark, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := c.PutRadarMark(ctx, mark, ""); !errors.Is(err, rotation.ErrConflict) {
				t.Fatalf("the second replica's first post must lose: %v", err)
			}

			got, etag, err := c.RadarMark(ctx, app)
			if err != nil || got.KeyID != "k1" || got.ActivityID != "act-1" || !got.PostedAt.Equal(mark.PostedAt) {
				t.Fatalf("read back (case-insensitive client ID): %+v %v", got, err)
			}
			next := got
			next.Level = 2
			if _, err := a.PutRadarMark(ctx, next, etag); err != nil {
				t.Fatal(err)
			}
			if _, err := c.PutRadarMark(ctx, next, etag); !errors.Is(err, rotation.ErrConflict) {
				t.Fatalf("a write on a stale ETag must lose: %v", err)
			}
			all, err := a.RadarMarks(ctx)
			if err != nil || len(all) != 1 || all[0].Level != 2 {
				t.Fatalf("marks: %+v %v", all, err)
			}
		})
	}
}
