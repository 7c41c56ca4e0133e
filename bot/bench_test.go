package bot

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/keyturn/keyturn/bot/botauthtest"
)

// BenchmarkWebhook measures POST /api/messages end to end on loopback for
// a channel @mention of "help": body decoding, RS256 token validation
// against cached keys, tenant check, command parsing, de-duplication in the
// bbolt store and queueing the reply. Each iteration is a new activity ID.
// The figure is in the README with the command that produced it.
func BenchmarkWebhook(b *testing.B) {
	h, auth, bodies := benchSetup(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest(http.MethodPost, h.base+"/api/messages", bytes.NewReader(bodies[i]))
		req.Header.Set("Authorization", auth)
		resp, err := h.client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkWebhookParallel is BenchmarkWebhook with 64 requests in flight
// at once (b.SetParallelism scales with GOMAXPROCS), the shape of the
// load in docs/performance.md; it is what `go test -cpuprofile` profiles.
func BenchmarkWebhookParallel(b *testing.B) {
	h, auth, bodies := benchSetup(b)
	var next atomic.Int64
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			req, _ := http.NewRequest(http.MethodPost, h.base+"/api/messages", bytes.NewReader(bodies[i]))
			req.Header.Set("Authorization", auth)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

// benchSetup starts a harness and prepares b.N "help" mentions, each with
// its own activity ID, and their Authorization header.
func benchSetup(b *testing.B) (*harness, string, [][]byte) {
	h := newHarness(b, harnessOpts{queue: 1 << 16})
	base := withField(b, as(b, fixture(b, "activity/channel_mention.json"), devOID), "text", "<at>Keyturn</at> help")
	auth := "Bearer " + h.iss.Token(botauthtest.TokenOptions{ServiceURL: "https://smba.trafficmanager.net/amer/<tenant-id>/"})
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = withField(b, base, "id", "bench-"+itoa(uint64(i)))
	}
	return h, auth, bodies
}
