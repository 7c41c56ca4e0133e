package main

import "testing"

// serve tunes the collector only where the operator did not: GOGC and
// GOMEMLIMIT from the environment win, each on its own.
func TestGCSettingsLeaveTheOperatorsChoice(t *testing.T) {
	for _, c := range []struct {
		env                    map[string]string
		wantPercent, wantLimit int64
	}{
		{map[string]string{}, serveGCPercent, serveMemoryLimit},
		{map[string]string{"GOGC": "100"}, -1, serveMemoryLimit},
		{map[string]string{"GOMEMLIMIT": "1GiB"}, serveGCPercent, -1},
		{map[string]string{"GOGC": "off", "GOMEMLIMIT": "1GiB"}, -1, -1},
	} {
		p, l := gcSettings(func(k string) string { return c.env[k] })
		if int64(p) != c.wantPercent || l != c.wantLimit {
			t.Errorf("env %v: percent %d limit %d, want %d %d", c.env, p, l, c.wantPercent, c.wantLimit)
		}
	}
}
