package main

import (
	"os"
	"testing"
	"time"
)

// A command name with spaces and parentheses does not shift the fields.
func TestParseStatCountsFromTheLastParenthesis(t *testing.T) {
	line := []byte("4242 (node (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 11 0 100 1000 50\n")
	got, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if want := (1234 + 567) * clockTick; got != want {
		t.Errorf("parseStat = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "4242 node S 1", "4242 (x) S 1 2 3", "4242 (x) S 1 2 3 4 5 6 7 8 9 10 u s"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) gave no error", bad)
		}
	}
}

// This process's own CPU time grows while it computes (the loop stops as
// soon as it has; ten seconds of computing without a tick is a failure).
func TestCPUTimeOfThisProcessGrows(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	before, err := cpuTime(0)
	if err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); time.Since(start) < 10*time.Second; {
		for x := 0; x < 1_000_000; x++ {
			sink += x
		}
		after, err := cpuTime(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if after > before {
			return
		}
	}
	t.Errorf("CPU time stayed at %v over ten seconds of computing", before)
}

var sink int
