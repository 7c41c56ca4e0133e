package rotationtest

import (
	"context"
	"errors"
	"testing"

	"github.com/keyturn/keyturn/rotation"
)

// countingVerifier counts the calls that reached it.
type countingVerifier struct{ calls int }

func (c *countingVerifier) Verify(context.Context, string, rotation.Secret) error {
	c.calls++
	return nil
}

// TestInjectErrorReturnsWhatTheAdapterWould: the injected error replaces
// the kind's own, the kind still decides whether the call happened, and
// Settle drops it with the rule.
func TestInjectErrorReturnsWhatTheAdapterWould(t *testing.T) {
	throttled := errors.New("status 429")
	reset := errors.New("connection reset")
	f := NewFaults()
	inner := &countingVerifier{}
	v := f.Verifier(inner)
	f.InjectError(Call{Op: "verify", N: 1}, Fail, throttled)
	f.InjectError(Call{Op: "verify", N: 2}, TimeoutAfter, reset)
	f.InjectError(Call{Op: "verify", N: 4}, Fail, throttled)
	ctx, s := context.Background(), rotation.NewSecret("x")

	if err := v.Verify(ctx, "app", s); !errors.Is(err, throttled) || errors.Is(err, ErrInjected) || inner.calls != 0 {
		t.Fatalf("fail: %v, %d calls", err, inner.calls)
	}
	if err := v.Verify(ctx, "app", s); !errors.Is(err, reset) || inner.calls != 1 {
		t.Fatalf("timeout after: %v, %d calls", err, inner.calls)
	}
	if err := v.Verify(ctx, "app", s); err != nil || inner.calls != 2 {
		t.Fatalf("no fault: %v, %d calls", err, inner.calls)
	}
	f.Settle()
	if err := v.Verify(ctx, "app", s); err != nil || inner.calls != 3 {
		t.Fatalf("after Settle: %v, %d calls", err, inner.calls)
	}
}
