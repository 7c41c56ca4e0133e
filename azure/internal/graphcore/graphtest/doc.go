// Package graphtest is test support for Keyturn's Microsoft Graph adapters:
// the plumbing of an httptest stand-in for Graph (bearer token check,
// request IDs, request recording with gzip bodies decoded, scripted faults,
// OData error bodies) around routes each adapter's fake supplies, and the
// small doubles every adapter harness wires in (a token credential, a
// sleep that records its waits, a log buffer).
//
// Import it only from _test files. It must not import the adapters, the
// bot or cmd/bot, and it never talks to anything but loopback.
package graphtest
