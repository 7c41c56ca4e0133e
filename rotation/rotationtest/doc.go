// Package rotationtest holds stateful in-memory stand-ins for the interfaces
// of package rotation: a directory of apps that also verifies secrets, a key
// vault with versions and soft delete, a journal store, an audit log, a fake
// clock, and Faults, which wraps any of them to inject an error, a timeout or
// a crash at a chosen call. Tests use them, and so does the sandbox.
//
// Secret values minted here exist only inside Directory and Vault; test
// helpers that reveal them are for assertions (canary checks) only.
package rotationtest
