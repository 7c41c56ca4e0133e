// Package doctor checks a live Keyturn setup and says, for every failure,
// the exact fix: the token Keyturn gets and for whom, the Microsoft Graph
// application permissions its service principal holds against those it
// needs, the apps the policy names (they exist, Keyturn owns them, the
// tenant's app management policy lets a secret live as long as configured),
// the allowed vaults (they answer, use Azure RBAC, keep deleted secrets, let
// Keyturn read secret properties; an optional write probe), the Bot
// Framework side, the state store and the roles the policy names.
//
// Each check is a small function over narrow interfaces (ports.go) that
// the Azure adapters implement; cmd/bot builds them from the environment.
// Doctor reads and changes nothing, except for the write probe, which
// writes, reads back and deletes one marked secret per vault.
//
// A Report never holds a secret value or a token: the probes return facts
// (IDs, names, recovery levels), never what they read.
//
// It imports the standard library and rotation only.
package doctor
