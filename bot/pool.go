package bot

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/keyturn/keyturn/rotation"
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
//
// A place in the queue can also be reserved (reserve) for a job that is
// not ready yet, so the webhook can refuse with 503 at once when the pool
// is full and hand the job over later without waiting: slots counts the
// places taken, by queued jobs and by reservations alike, and a worker
// frees a place when it takes a job.
type pool struct {
	workers int
	log     *slog.Logger
	queue   chan job
	slots   chan struct{}

	mu      sync.Mutex
	started bool
	closed  bool
	base    context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	// reserved counts reservations not yet used; stop waits for them
	// (idle is signalled when it drops to zero) before closing the queue.
	reserved int
	idle     *sync.Cond
	// holders is the context of what holds reservations (the webhook's
	// de-duplication claims); stop cancels it when its deadline passes.
	holders     context.Context
	dropHolders context.CancelFunc
	queueClosed bool
}

func newPool(workers, queue int, log *slog.Logger) *pool {
	p := &pool{workers: workers, log: log, queue: make(chan job, queue), slots: make(chan struct{}, queue)}
	p.idle = sync.NewCond(&p.mu)
	p.holders, p.dropHolders = context.WithCancel(context.Background())
	return p
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

// submit queues j, or returns errBusy at once when the queue is full or
// closed.
func (p *pool) submit(j job) error {
	t, err := p.reserve(context.Background(), 0)
	if err != nil {
		return err
	}
	t.submit(j)
	return nil
}

// reservation is a place in the queue; use it exactly once, with submit
// or release.
type reservation struct{ p *pool }

// reserve takes a place in the queue, waiting up to wait (and while ctx
// lasts) for one, or returns errBusy when the queue stays full or is
// closed.
func (p *pool) reserve(ctx context.Context, wait time.Duration) (reservation, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return reservation{}, errBusy
	}
	p.reserved++ // counted while it waits, so stop waits for it too
	p.mu.Unlock()
	select {
	case p.slots <- struct{}{}:
		return reservation{p}, nil
	default:
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case p.slots <- struct{}{}:
			return reservation{p}, nil
		case <-t.C:
		case <-ctx.Done():
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done()
	return reservation{}, errBusy
}

// submit queues j in the reserved place; it never blocks.
func (r reservation) submit(j job) {
	p := r.p
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.done()
	if p.queueClosed {
		// Only after stop's deadline passed.
		<-p.slots
		p.log.Warn("job dropped: shutting down", "job", j.name, "id", j.id)
		return
	}
	p.queue <- j // a place is reserved: never blocks
}

// holderContext is the context for the work that will use the place: it
// ends when the pool stops past its deadline.
func (r reservation) holderContext() context.Context { return r.p.holders }

// release gives the place back unused.
func (r reservation) release() {
	p := r.p
	p.mu.Lock()
	defer p.mu.Unlock()
	<-p.slots
	p.done()
}

// done counts a reservation used; p.mu is held.
func (p *pool) done() {
	p.reserved--
	if p.reserved == 0 {
		p.idle.Broadcast()
	}
}

func (p *pool) work() {
	defer p.wg.Done()
	for j := range p.queue {
		<-p.slots
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

// stop refuses new work, waits for every reservation to be used (until
// ctx ends: then their holders are cancelled and late jobs dropped), closes
// the queue, lets the workers finish what is queued and running until ctx
// ends, then cancels the jobs still running and waits for every worker to
// return.
func (p *pool) stop(ctx context.Context) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true // refuses new reservations
	if p.reserved > 0 {
		// Wake the wait below when the deadline passes, and make the
		// holders give their places up.
		stopWake := context.AfterFunc(ctx, func() {
			p.dropHolders()
			p.mu.Lock()
			defer p.mu.Unlock()
			p.idle.Broadcast()
		})
		for p.reserved > 0 && ctx.Err() == nil {
			p.idle.Wait()
		}
		stopWake()
	}
	p.queueClosed = true
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
	p.dropHolders()
}

func randomID() string { return rotation.RandomHex(8) }
