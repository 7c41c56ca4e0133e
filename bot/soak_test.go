package bot

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyturn/keyturn/bot/botauthtest"
)

// canaryWriter scans log output for the canary without keeping it.
type canaryWriter struct {
	found atomic.Bool
	bytes atomic.Int64
}

func (w *canaryWriter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(fuzzCanary)) {
		w.found.Store(true)
	}
	w.bytes.Add(int64(len(p)))
	return len(p), nil
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q is not a positive number", name, v)
	}
	return n
}

// TestSoak sends KEYTURN_SOAK_REQUESTS (default 50,000) authenticated
// channel messages, each with its own activity ID and the canary in its
// text, at KEYTURN_SOAK_CONCURRENCY (default 200), to the bot with its
// production defaults (workers, queue and queue wait, bbolt). Every request must
// be answered 200 and every reply posted, no goroutine may be left over,
// the Go heap must not grow with the requests, and the canary must reach
// no reply, log line or response. It prints the
// figures: requests/s, latency percentiles, the Go heap after the warm-up
// and after the run. Run it with
//
//	KEYTURN_SOAK=1 go test -run TestSoak -v -timeout 30m ./bot/
func TestSoak(t *testing.T) {
	if os.Getenv("KEYTURN_SOAK") == "" {
		t.Skip("a long run: set KEYTURN_SOAK=1 (and KEYTURN_SOAK_REQUESTS, KEYTURN_SOAK_CONCURRENCY)")
	}
	total := envInt(t, "KEYTURN_SOAK_REQUESTS", 50000)
	conc := envInt(t, "KEYTURN_SOAK_CONCURRENCY", 200)
	logs := &canaryWriter{}
	h := newHarness(t, harnessOpts{logTo: logs})
	var leaked atomic.Bool
	h.conn.mu.Lock()
	h.conn.countOnly = true
	h.conn.inspect = func(b []byte) {
		if bytes.Contains(b, []byte(fuzzCanary)) {
			leaked.Store(true)
		}
	}
	h.conn.mu.Unlock()

	base := withField(t, as(t, fixture(t, "activity/channel_mention.json"), nobodyID), "text", "<at>Keyturn</at> help "+fuzzCanary)
	base = withField(t, base, "id", "SOAK-ID")
	token := "Bearer " + h.iss.Token(botauthtest.TokenOptions{ServiceURL: "https://smba.trafficmanager.net/amer/<tenant-id>/"})
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}}

	var seq atomic.Int64
	statuses := map[int]int{}
	var mu sync.Mutex
	var latencies []time.Duration
	run := func(n int, keep bool) time.Duration {
		var wg sync.WaitGroup
		var next atomic.Int64
		start := time.Now()
		for range conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				for next.Add(1) <= int64(n) {
					body := bytes.Replace(base, []byte("SOAK-ID"), []byte(fmt.Sprintf("soak-%d", seq.Add(1))), 1)
					req, _ := http.NewRequest(http.MethodPost, h.base+"/api/messages", bytes.NewReader(body))
					req.Header.Set("Authorization", token)
					req.Header.Set("Content-Type", "application/json")
					t0 := time.Now()
					resp, err := client.Do(req)
					code := -1
					if err == nil {
						b, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						code = resp.StatusCode
						if bytes.Contains(b, []byte(fuzzCanary)) {
							leaked.Store(true)
						}
					}
					mine = append(mine, time.Since(t0))
					mu.Lock()
					statuses[code]++
					mu.Unlock()
				}
				if keep {
					mu.Lock()
					latencies = append(latencies, mine...)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	// settle waits for the reply of every accepted activity (the jobs run
	// after the answers; a refused one has none), closes the idle
	// connections of the soak client and of the connector, and returns
	// the goroutine count once it has stopped falling, and the Go heap in
	// use after a collection.
	settle := func() (goroutines int, heap uint64) {
		mu.Lock()
		ok := statuses[http.StatusOK]
		mu.Unlock()
		deadline := time.Now().Add(time.Minute)
		for h.conn.posts() < ok && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		client.CloseIdleConnections()
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		last := -1
		waitFor(t, "the goroutine count to settle", func() bool {
			n := runtime.NumGoroutine()
			stable := n == last
			last = n
			return stable
		})
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return last, ms.HeapInuse
	}

	warm := min(2000, total)
	run(warm, false)
	g0, heap0 := settle()
	elapsed := run(total, true)
	settle()
	// A connection closed on one side ends on the other a moment later.
	waitFor(t, "the run's goroutines to end", func() bool { return runtime.NumGoroutine() <= g0 })
	g1, heap1 := settle()

	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	t.Logf("%d requests at concurrency %d in %s: %.0f requests/s; latency p50 %s, p99 %s, max %s",
		total, conc, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(),
		pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), latencies[len(latencies)-1].Round(time.Millisecond))
	t.Logf("statuses %v; replies posted %d of %d; goroutines %d after warm-up, %d after the run; Go heap in use %.1f MiB after warm-up, %.1f MiB after the run; %d MiB of logs",
		statuses, h.conn.posts(), warm+total, g0, g1, float64(heap0)/(1<<20), float64(heap1)/(1<<20), logs.bytes.Load()>>20)

	if statuses[http.StatusOK] != warm+total {
		t.Errorf("errors: statuses %v", statuses)
	}
	if h.conn.posts() != statuses[http.StatusOK] {
		t.Errorf("%d replies for %d accepted activities", h.conn.posts(), statuses[http.StatusOK])
	}
	// Flat: what the run leaves on the heap is bounded, not proportional
	// to the requests (a leak of even 200 bytes each would be 10 MB).
	if heap1 > 2*heap0+8<<20 {
		t.Errorf("Go heap grew from %d to %d bytes", heap0, heap1)
	}
	if g1 > g0 {
		t.Errorf("%d goroutines left over", g1-g0)
	}
	if leaked.Load() || logs.found.Load() {
		t.Error("the canary reached a reply, a response or a log line")
	}
}
