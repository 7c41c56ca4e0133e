package bot

import (
	"context"
	"errors"
	"log/slog"
	"testing"
)

func TestPoolReservations(t *testing.T) {
	p := newPool(1, 2, slog.New(slog.DiscardHandler))
	a, err := p.reserve(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.reserve(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.reserve(context.Background(), 0); !errors.Is(err, errBusy) {
		t.Fatalf("third reservation in a queue of 2: %v, want errBusy", err)
	}
	b.release()
	if err := p.submit(job{name: "c", run: func(context.Context) {}}); err != nil {
		t.Fatalf("submit after a release: %v", err)
	}
	ran := make(chan struct{})
	p.start()
	stopped := make(chan struct{})
	go func() { p.stop(context.Background()); close(stopped) }()
	// stop waits for the outstanding reservation, whose job then runs.
	a.submit(job{name: "a", run: func(context.Context) { close(ran) }})
	<-stopped
	select {
	case <-ran:
	default:
		t.Fatal("the reserved job did not run before stop returned")
	}
	if _, err := p.reserve(context.Background(), 0); !errors.Is(err, errBusy) {
		t.Fatalf("reserve after stop: %v, want errBusy", err)
	}
}

// Past its deadline, stop does not wait for a reservation: it cancels the
// holder, whose late job is dropped, not run.
func TestPoolStopCancelsReservationHoldersAtTheDeadline(t *testing.T) {
	p := newPool(1, 1, slog.New(slog.DiscardHandler))
	r, err := p.reserve(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	p.start()
	ran := false
	held := make(chan struct{})
	go func() {
		defer close(held)
		<-r.holderContext().Done()
		r.submit(job{name: "late", run: func(context.Context) { ran = true }})
	}()
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	p.stop(expired)
	<-held
	if ran {
		t.Fatal("a job submitted after stop's deadline ran")
	}
}
