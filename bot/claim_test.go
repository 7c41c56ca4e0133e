package bot

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// heldDedup holds every FirstSeen until release is closed, or fails it.
type heldDedup struct {
	Deduper
	release chan struct{}
	fail    error
}

func (d *heldDedup) FirstSeen(ctx context.Context, key string) (bool, error) {
	if d.release != nil {
		select {
		case <-d.release:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	if d.fail != nil {
		return false, d.fail
	}
	return d.Deduper.FirstSeen(ctx, key)
}

// The webhook answers without waiting for the de-duplication write; the
// reply waits for it, and re-deliveries answered meanwhile run nothing.
func TestWebhookAnswersBeforeTheClaimIsStoredAndRunsOnce(t *testing.T) {
	held := &heldDedup{release: make(chan struct{})}
	h := newHarness(t, harnessOpts{dedup: func(d Deduper) Deduper { held.Deduper = d; return held }})
	body := withField(t, as(t, fixture(t, "activity/channel_mention.json"), devOID), "text", "<at>Keyturn</at> help")
	for range 3 {
		if code, _ := h.sendSigned(body); code != http.StatusOK {
			t.Fatalf("status %d while the claim is held", code)
		}
	}
	if n := len(h.conn.all()); n != 0 {
		t.Fatalf("%d posts before the claim was stored, want none", n)
	}
	close(held.release)
	waitFor(t, "the help card", func() bool { return len(h.conn.all()) == 1 })
	// The three jobs have all read their claims once the logs say so.
	waitFor(t, "the re-deliveries to be dropped", func() bool {
		return strings.Count(h.logs.String(), "re-delivered activity ignored") == 2
	})
	if n := len(h.conn.all()); n != 1 {
		t.Fatalf("%d posts for one activity delivered three times, want 1", n)
	}
}

// When the claim cannot be stored, nothing runs: running without it could
// run a re-delivered activity twice.
func TestClaimFailureRunsNothing(t *testing.T) {
	held := &heldDedup{fail: errors.New("disk full")}
	h := newHarness(t, harnessOpts{dedup: func(d Deduper) Deduper { held.Deduper = d; return held }})
	body := withField(t, as(t, fixture(t, "activity/channel_mention.json"), devOID), "text", "<at>Keyturn</at> help")
	if code, _ := h.sendSigned(body); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the error log", func() bool {
		return strings.Contains(h.logs.String(), "activity not run: the de-duplication store failed")
	})
	if n := len(h.conn.all()); n != 0 {
		t.Fatalf("%d posts without a stored claim, want none", n)
	}
}

// A handled activity writes one line at info level, the access line; the
// rest (activity, job done) is at debug.
func TestOneInfoLinePerRequest(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	body := withField(t, as(t, fixture(t, "activity/channel_mention.json"), devOID), "text", "<at>Keyturn</at> help")
	infos := func() int { return strings.Count(h.logs.String(), `"level":"INFO"`) }
	before := infos()
	if code, _ := h.sendSigned(body); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the help card", func() bool { return len(h.conn.all()) == 1 })
	waitFor(t, "the job's debug line", func() bool { return strings.Contains(h.logs.String(), `"msg":"job done"`) })
	if got := infos() - before; got != 1 {
		t.Fatalf("%d info lines for one request, want 1 (the access line):\n%s", got, h.logs.String())
	}
}

// An activity that ran is not run again when Teams re-delivers it after a
// restart, nor when the re-delivery reaches another replica on the same
// store: the claim the first delivery stored before its job ran decides.
func TestRedeliveryAfterARestartOrToAnotherReplicaRunsNothing(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	body := withField(t, as(t, fixture(t, "activity/channel_mention.json"), devOID), "text", "<at>Keyturn</at> help")
	if code, _ := h.sendSigned(body); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the help card", func() bool { return len(h.conn.all()) == 1 })
	if err := h.shutdown(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"after a restart", "on another replica"} {
		next := newHarness(t, harnessOpts{from: h})
		if code, _ := next.sendSigned(body); code != http.StatusOK {
			t.Fatalf("%s: status %d", name, code)
		}
		waitFor(t, "the re-delivery to be dropped "+name, func() bool {
			return strings.Contains(next.logs.String(), "re-delivered activity ignored")
		})
	}
	if n := len(h.conn.all()); n != 1 {
		t.Fatalf("%d help cards for one activity delivered three times, want 1", n)
	}
}
