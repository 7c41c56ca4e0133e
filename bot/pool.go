package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// errBusy means the job queue is full.
var errBusy = errors.New("job queue full")

// job is work to do after the webhook has answered.
type job struct {
	name    string // for logs: "rotate", "reply", ...
	id      string // request or activity ID, for logs
	timeout time.Duration
	run     func(ctx context.Context)
}

// pool runs jobs on a fixed number of goroutines it owns. Submit never
// blocks; stop drains the queue and waits for every worker.
type pool struct {
	workers int
	log     *slog.Logger
	queue   chan job

	mu      sync.Mutex
	started bool
	closed  bool
	base    context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func newPool(workers, queue int, log *slog.Logger) *pool {
	return &pool{workers: workers, log: log, queue: make(chan job, queue)}
}

func (p *pool) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		return
	}
	p.started = true
	p.base, p.cancel = context.WithCancel(context.Background())
	for range p.workers {
		p.wg.Add(1)
		go p.work()
	}
}

// submit queues j, or returns errBusy when the queue is full or closed.
func (p *pool) submit(j job) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errBusy
	}
	select {
	case p.queue <- j:
		return nil
	default:
		return errBusy
	}
}

func (p *pool) work() {
	defer p.wg.Done()
	for j := range p.queue {
		p.runOne(j)
	}
}

func (p *pool) runOne(j job) {
	ctx, cancel := context.WithTimeout(p.base, j.timeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			// A bug in one job must not take the server down; the value
			// is not logged, since it could hold anything.
			p.log.Error("job panicked", "job", j.name, "id", j.id)
		}
	}()
	start := time.Now()
	j.run(ctx)
	p.log.Debug("job done", "job", j.name, "id", j.id, "duration_ms", time.Since(start).Milliseconds())
}

// stop closes the queue, lets the workers finish what is queued and
// running until ctx ends, then cancels the jobs still running and waits
// for every worker to return.
func (p *pool) stop(ctx context.Context) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.queue)
	started := p.started
	p.mu.Unlock()
	if !started {
		return
	}
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		p.log.Warn("shutdown deadline reached; cancelling running jobs")
		p.cancel()
		<-done
	}
	p.cancel()
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
