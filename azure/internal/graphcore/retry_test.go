package graphcore

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testFailure is a Failure whose class and wait the test scripts.
type testFailure struct {
	class    RetryClass
	after    time.Duration
	hasAfter bool
	attempts int
	cause    error
}

func (f *testFailure) Error() string                     { return "refused" }
func (f *testFailure) Unwrap() error                     { return f.cause }
func (f *testFailure) RetryClass() RetryClass            { return f.class }
func (f *testFailure) RetryAfter() (time.Duration, bool) { return f.after, f.hasAfter }
func (f *testFailure) LogAttrs() []slog.Attr             { return []slog.Attr{slog.Int("status", 429)} }
func (f *testFailure) SetAttempts(n int)                 { f.attempts = n }

func TestDo(t *testing.T) {
	throttled := testFailure{class: RetryThrottled}
	throttledAfter := testFailure{class: RetryThrottled, after: 7 * time.Second, hasAfter: true}
	contention := testFailure{class: RetryContention, after: 9 * time.Second, hasAfter: true}
	unavailable := testFailure{class: RetryUnavailable}
	unavailableAfter := testFailure{class: RetryUnavailable, after: 3 * time.Second, hasAfter: true}
	final := testFailure{class: NoRetry}

	tests := []struct {
		name         string
		idempotent   bool
		script       []*testFailure // one per attempt; nil succeeds; past the end succeeds
		wantSends    int
		wantWaits    []time.Duration
		wantErr      bool
		wantAttempts int
	}{
		{name: "success first time", wantSends: 1},
		{name: "429 with Retry-After, then success", script: []*testFailure{&throttledAfter}, wantSends: 2, wantWaits: []time.Duration{7 * time.Second}},
		{name: "429 without Retry-After backs off", script: []*testFailure{&throttled, &throttled}, wantSends: 3, wantWaits: []time.Duration{time.Second, 2 * time.Second}},
		{name: "contention backs off, ignoring Retry-After", script: []*testFailure{&contention}, wantSends: 2, wantWaits: []time.Duration{time.Second}},
		{name: "503 on a write is final", script: []*testFailure{&unavailable}, wantSends: 1, wantErr: true, wantAttempts: 1},
		{name: "503 on a read is retried", idempotent: true, script: []*testFailure{&unavailable, &unavailableAfter}, wantSends: 3, wantWaits: []time.Duration{time.Second, 3 * time.Second}},
		{name: "final failure is not retried", idempotent: true, script: []*testFailure{&final}, wantSends: 1, wantErr: true, wantAttempts: 1},
		{
			name: "gives up after max attempts", script: []*testFailure{&throttled, &throttled, &throttled, &throttled, &throttled},
			wantSends: 4, wantWaits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, wantErr: true, wantAttempts: 4,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var waits []time.Duration
			var logs bytes.Buffer
			r := NewRetrier(slog.New(slog.NewTextHandler(&logs, nil)), func(_ context.Context, d time.Duration) error {
				waits = append(waits, d)
				return nil
			}, 0)
			// Each test case gets its own copies, so SetAttempts is visible.
			script := make([]*testFailure, len(tc.script))
			for i, f := range tc.script {
				c := *f
				script[i] = &c
			}
			sends := 0
			var last *testFailure
			err := r.Do(context.Background(), Op{Name: "test op", Attrs: []slog.Attr{slog.String("user_oid", "u-1")}, Idempotent: tc.idempotent},
				func(ctx context.Context) error {
					if _, x := ctx.Value(exchangeKey{}).(*Exchange); !x {
						t.Error("send's context carries no Exchange")
					}
					sends++
					if sends <= len(script) && script[sends-1] != nil {
						last = script[sends-1]
						return last
					}
					return nil
				},
				func(err error, x *Exchange) Failure {
					var f *testFailure
					if !errors.As(err, &f) {
						t.Fatalf("translate got %v", err)
					}
					return f
				})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if sends != tc.wantSends {
				t.Errorf("sends = %d, want %d", sends, tc.wantSends)
			}
			if !reflect.DeepEqual(waits, tc.wantWaits) {
				t.Errorf("waits = %v, want %v", waits, tc.wantWaits)
			}
			if tc.wantErr && last.attempts != tc.wantAttempts {
				t.Errorf("attempts recorded = %d, want %d", last.attempts, tc.wantAttempts)
			}
			if len(tc.wantWaits) > 0 && !strings.Contains(logs.String(), "op=\"test op\" user_oid=u-1 attempt=1 status=429") {
				t.Errorf("retry log line lacks op, attrs, attempt and facts: %s", logs.String())
			}
		})
	}
}

func TestDoStops(t *testing.T) {
	translate := func(err error, x *Exchange) Failure {
		return &testFailure{class: RetryThrottled, cause: err}
	}
	t.Run("context done before the first attempt", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var sawUnsent bool
		err := NewRetrier(nil, nil, 0).Do(ctx, Op{Name: "x"}, func(context.Context) error {
			t.Error("send called with a done context")
			return nil
		}, func(err error, x *Exchange) Failure {
			sawUnsent = x.Sends == 0
			return translate(err, x)
		})
		if !errors.Is(err, context.Canceled) || !sawUnsent {
			t.Errorf("err = %v (unsent exchange %v), want context.Canceled through translate", err, sawUnsent)
		}
	})
	t.Run("sleep stops", func(t *testing.T) {
		r := NewRetrier(nil, func(context.Context, time.Duration) error { return context.DeadlineExceeded }, 0)
		err := r.Do(context.Background(), Op{Name: "x"}, func(context.Context) error { return errors.New("429") }, translate)
		var f *testFailure
		if !errors.As(err, &f) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the failure and the reason the wait stopped", err)
		}
	})
}

func TestNewRetrierDefaults(t *testing.T) {
	r := NewRetrier(nil, nil, -1)
	if r.MaxAttempts() != DefaultMaxAttempts || r.sleep == nil || r.log == nil {
		t.Errorf("defaults not applied: %+v", r)
	}
	if err := r.sleep(context.Background(), 0); err != nil {
		t.Errorf("default sleep(0) = %v", err)
	}
	if got := NewRetrier(nil, nil, 2).MaxAttempts(); got != 2 {
		t.Errorf("MaxAttempts = %d, want 2", got)
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}
