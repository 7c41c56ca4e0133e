// Package policy is everything Keyturn knows about its policy, in one place:
// the policy file's schema and its validation (file.go, shape.go, roles.go),
// the built-in role names, the duration grammar (duration.go), the typed
// Policy (policy.go), and the one authorization decision (allow.go): who may
// do what, as data, in the spirit of setec's acl.Rules.Allow. The Authorizer
// (authorizer.go) reads a caller's roles from Entra ID through
// rotation.RoleDirectory, asks Allow, and audits every decision, allowed or
// refused, through rotation.Decision.Event.
//
// Adding a policy key touches this package, docs/keyturn.example.yaml and
// its test. Adding a command with a role touches the command grammar, the
// table in allow.go and the command's handler.
//
// policy imports rotation (for its domain types) and the YAML decoder, never
// the Teams side or an Azure SDK; rotation does not import policy: it asks
// through its rotation.Authorizer interface, so the domain core stays
// standard-library only while the file's schema and its decoder live
// together here.
package policy
