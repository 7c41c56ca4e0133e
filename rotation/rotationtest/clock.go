package rotationtest

import (
	"context"
	"sync"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// Clock is a rotation.Clock whose Sleep advances time at once, so a saga
// that waits minutes runs in microseconds.
type Clock struct {
	mu    sync.Mutex
	now   time.Time
	slept time.Duration
}

var _ rotation.Clock = (*Clock)(nil)

// NewClock returns a clock standing at now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now implements rotation.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep implements rotation.Clock by advancing the clock by d.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	c.mu.Lock()
	c.slept += d
	c.mu.Unlock()
	return nil
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Slept returns the total time Sleep was asked to wait.
func (c *Clock) Slept() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept
}
