//go:build !keyturn_crash

package main

import "github.com/keyturn/keyturn/store/kv"

// Release builds have no crash points: see crash_on.go, compiled only with
// the build tag keyturn_crash for the crash matrix.

func crashBackend(b backend) backend { return b }

func crashStore(s kv.Store) kv.Store { return s }
