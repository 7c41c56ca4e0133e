package bot

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/keyturn/keyturn/bot/botauthtest"
)

// BenchmarkWebhook measures POST /api/messages end to end on loopback for
// a channel @mention of "help": body decoding, RS256 token validation
// against cached keys, tenant check, command parsing, de-duplication in the
// bbolt store and queueing the reply. Each iteration is a new activity ID.
// The figure is in the README with the command that produced it.
func BenchmarkWebhook(b *testing.B) {
	h := newHarness(b, harnessOpts{queue: 1 << 16})
	base := withField(b, as(b, fixture(b, "activity/channel_mention.json"), devOID), "text", "<at>Keyturn</at> help")
	auth := "Bearer " + h.iss.Token(botauthtest.TokenOptions{ServiceURL: "https://smba.trafficmanager.net/amer/<tenant-id>/"})
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = withField(b, base, "id", "bench-"+itoa(uint64(i)))
	}
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
