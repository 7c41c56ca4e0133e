// Package memory holds in-memory implementations of package rotation's
// interfaces: a directory of apps that also verifies secrets (Directory), a
// role directory with nested groups and app roles assigned to groups
// (Roles), a key vault with versions and soft delete (Vault), a journal
// store (Store), an approval store with ETags (ApprovalStore) and an audit
// log (AuditLog). The sandbox runs on them, and tests use them; they are
// product code, so they never import testing. Contract suites and fault
// injection live in rotation/rotationtest.
//
// Secret values minted here exist only inside Directory and Vault; the
// helpers that reveal them are for the sandbox's own bookkeeping and for
// tests' canary checks.
package memory
