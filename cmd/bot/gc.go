package main

import (
	"log/slog"
	"runtime/debug"
)

// The garbage collector's settings for a serving bot, when the operator
// set neither GOGC nor GOMEMLIMIT. Under load most of a webhook's
// allocations die with its request; collecting at 4× the live heap instead
// of 2× cut the CPU per activity by about 15% in the load tool
// (docs/performance.md). The soft limit makes the collector work harder as
// the heap nears half of the container's 0.5 GiB (infra/modules/app.bicep),
// so the larger target cannot grow the process out of its container.
const (
	serveGCPercent   = 400
	serveMemoryLimit = 256 << 20
)

// gcSettings returns what serve sets: the GC percent unless GOGC is set,
// the soft memory limit unless GOMEMLIMIT is set (-1: leave it).
func gcSettings(getenv func(string) string) (percent int, limit int64) {
	percent, limit = -1, -1
	if getenv("GOGC") == "" {
		percent = serveGCPercent
	}
	if getenv("GOMEMLIMIT") == "" {
		limit = serveMemoryLimit
	}
	return percent, limit
}

// tuneGC applies gcSettings and logs what is in force.
func tuneGC(getenv func(string) string, log *slog.Logger) {
	percent, limit := gcSettings(getenv)
	if percent >= 0 {
		debug.SetGCPercent(percent)
	}
	if limit >= 0 {
		debug.SetMemoryLimit(limit)
	}
	log.Debug("garbage collector", "gogc_set_by_keyturn", percent >= 0, "memlimit_set_by_keyturn", limit >= 0)
}
