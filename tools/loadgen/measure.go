package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// result is one target's figures.
type result struct {
	name           string
	sent           int64
	errors         int64
	statuses       map[int]int64
	elapsed        time.Duration
	p50, p99, max  time.Duration
	replies        int64
	expectReplies  bool
	startup        time.Duration
	rssIdleKB      int
	rssAfterKB     int
	replyWait      time.Duration
	connectorOther int64
	// CPU time used while the measured requests were sent and answered
	// (until the last reply): by the server's process, and by this one
	// (client and connector stand-in).
	serverCPU, loadgenCPU time.Duration
}

func (r result) rps() float64 { return float64(r.sent) / r.elapsed.Seconds() }

func (r result) line() string {
	return fmt.Sprintf("%-28s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms  errors %d  replies %d/%d  start→ready %s  idle RSS %d KiB",
		r.name, r.rps(), ms(r.p50), ms(r.p99), ms(r.max), r.errors, r.replies, r.sent, r.startup.Round(time.Millisecond), r.rssIdleKB)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// measure warms tg up, then sends o.n requests and waits for the replies.
func measure(ctx context.Context, ch *channel, tg target, o options) (result, error) {
	r := result{name: tg.name, expectReplies: tg.expectReplies, startup: tg.startup, statuses: map[int]int64{}}
	// Idle RSS: after start, before any request.
	r.rssIdleKB = tg.rssKB()
	tr := &http.Transport{MaxIdleConns: o.c, MaxIdleConnsPerHost: o.c, MaxConnsPerHost: o.c, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	url := tg.url + "/api/messages"

	if tg.authenticates {
		if err := refusesForgery(ctx, hc, url, ch); err != nil {
			return r, err
		}
	}
	repliesBefore := ch.replies.Load()
	if o.warmup > 0 {
		st, err := blast(ctx, hc, url, ch, o.warmup, o.c, 0)
		if err != nil {
			return r, err
		}
		if st.errors > 0 {
			return r, fmt.Errorf("warm-up: %d of %d requests failed, statuses %v", st.errors, o.warmup, st.statuses)
		}
	}
	if tg.expectReplies && !waitFor(ctx, 30*time.Second, func() bool { return ch.replies.Load()-repliesBefore >= int64(o.warmup) }) {
		return r, fmt.Errorf("warm-up: %d of %d replies", ch.replies.Load()-repliesBefore, o.warmup)
	}
	runtime.GC()
	repliesBefore = ch.replies.Load()
	otherBefore := ch.other.Load()
	serverBefore, errS := cpuTime(tg.pid())
	selfBefore, errL := cpuTime(0)
	start := time.Now()
	st, err := blast(ctx, hc, url, ch, o.n, o.c, o.rate)
	r.elapsed = time.Since(start)
	if err != nil {
		return r, err
	}
	if tg.expectReplies {
		waitFor(ctx, 60*time.Second, func() bool { return ch.replies.Load()-repliesBefore >= int64(o.n) })
		r.replyWait = time.Since(start) - r.elapsed
	}
	if serverAfter, err := cpuTime(tg.pid()); err == nil && errS == nil && tg.pid() != 0 {
		r.serverCPU = serverAfter - serverBefore
	}
	if selfAfter, err := cpuTime(0); err == nil && errL == nil {
		r.loadgenCPU = selfAfter - selfBefore
	}
	r.replies = ch.replies.Load() - repliesBefore
	r.connectorOther = ch.other.Load() - otherBefore
	r.sent, r.errors, r.statuses = int64(o.n), st.errors, st.statuses
	lat := st.latencies
	slices.Sort(lat)
	r.p50, r.p99, r.max = pct(lat, 0.50), pct(lat, 0.99), lat[len(lat)-1]
	r.rssAfterKB = tg.rssKB()
	return r, nil
}

// refusesForgery checks that the target authenticates: a token signed by
// a key the metadata does not publish must be refused.
func refusesForgery(ctx context.Context, hc *http.Client, url string, ch *channel) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(ch.body()))
	req.Header.Set("Authorization", ch.forged)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		return fmt.Errorf("a forged token got %d, want 401: the target does not authenticate", resp.StatusCode)
	}
	return nil
}

func pct(sorted []time.Duration, p float64) time.Duration {
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// stats are what blast saw.
type stats struct {
	latencies []time.Duration
	errors    int64
	statuses  map[int]int64
}

// blast sends n requests on c workers. With rate > 0 requests are
// scheduled at that rate and each latency counts from its scheduled time,
// so a stalled server is not hidden by the generator waiting for it.
func blast(ctx context.Context, hc *http.Client, url string, ch *channel, n, c int, rate float64) (stats, error) {
	var (
		next   atomic.Int64
		errs   atomic.Int64
		mu     sync.Mutex
		all    = make([]time.Duration, 0, n)
		status = map[int]int64{}
		wg     sync.WaitGroup
		begin  = time.Now()
	)
	interval := time.Duration(0)
	if rate > 0 {
		interval = time.Duration(float64(time.Second) / rate)
	}
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, n/c+1)
			codes := map[int]int64{}
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(n) {
					break
				}
				body := ch.body()
				sched := time.Now()
				if interval > 0 {
					sched = begin.Add(time.Duration(i) * interval)
					if d := time.Until(sched); d > 0 {
						time.Sleep(d)
					}
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Authorization", ch.auth)
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				if err != nil {
					errs.Add(1)
					codes[0]++
					lat = append(lat, time.Since(sched))
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(sched))
				codes[resp.StatusCode]++
				if resp.StatusCode != http.StatusOK {
					errs.Add(1)
				}
			}
			mu.Lock()
			all = append(all, lat...)
			for k, v := range codes {
				status[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return stats{}, err
	}
	return stats{latencies: all, errors: errs.Load(), statuses: status}, nil
}

// printTable writes the run's figures as a Markdown table.
func printTable(w io.Writer, o options, rs []result) {
	var bare, js float64
	for _, r := range rs {
		switch r.name {
		case "bare echo handler":
			bare = r.rps()
		case "botbuilder-js CloudAdapter":
			js = r.rps()
		}
	}
	mode := fmt.Sprintf("closed loop, concurrency %d", o.c)
	if o.rate > 0 {
		mode = fmt.Sprintf("open loop at %.0f requests/s, up to %d in flight", o.rate, o.c)
	}
	fmt.Fprintf(w, "\n%d requests per target after %d warm-up, %s, GOMAXPROCS %d, %d CPUs\n\n", o.n, o.warmup, mode, runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Fprintln(w, "| target | requests/s | p50 ms | p99 ms | max ms | errors | replies | vs bare | vs botbuilder-js | server CPU µs/req | loadgen CPU µs/req | start→ready ms | idle RSS MiB | RSS after MiB |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		vb, vj := "", ""
		if bare > 0 {
			vb = fmt.Sprintf("%.0f%%", 100*r.rps()/bare)
		}
		if js > 0 {
			vj = fmt.Sprintf("%.1f×", r.rps()/js)
		}
		replies := "n/a"
		if r.expectReplies {
			replies = fmt.Sprintf("%d/%d", r.replies, r.sent)
		}
		fmt.Fprintf(w, "| %s | %.0f | %.2f | %.2f | %.2f | %d | %s | %s | %s | %.0f | %.0f | %d | %.1f | %.1f |\n",
			r.name, r.rps(), ms(r.p50), ms(r.p99), ms(r.max), r.errors, replies, vb, vj,
			perRequest(r.serverCPU, r.sent), perRequest(r.loadgenCPU, r.sent),
			r.startup.Milliseconds(), float64(r.rssIdleKB)/1024, float64(r.rssAfterKB)/1024)
	}
	for _, r := range rs {
		if r.errors > 0 {
			fmt.Fprintf(w, "\n%s statuses: %v", r.name, r.statuses)
		}
	}
	fmt.Fprintln(w)
}
