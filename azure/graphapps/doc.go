// Package graphapps implements rotation.Applications with Microsoft Graph
// (msgraph-sdk-go v1.89.0): it reads an application registration and its
// password credentials, adds a password and removes one.
//
// It imports only the Graph packages it uses (applications,
// applicationswithappid, models) and builds its request adapter with
// azure/internal/graphcore from msgraph-sdk-go-core and kiota pieces, never
// the root msgraph-sdk-go package, whose GraphServiceClient compiles every
// request builder Graph has.
//
// Retries are graphcore's loop and nobody else's. The kiota RetryHandler
// is switched off twice: in the middleware chain New builds, and again by a
// per-request option on every call, so a POST to addPassword reaches the
// service at most once per attempt of ours. Our loop retries only answers
// that prove the request was not processed (429 and Graph's "concurrent
// requests" refusal) and, for the idempotent reads and removePassword, also
// 503 and 504. Everything else that may have reached the service
// (timeouts, dropped connections, 5xx) is rotation.ErrAmbiguous: the saga
// reconciles by display name.
//
// SDK types stop here: callers see rotation's types and sentinel errors.
// The secret returned by addPassword goes straight into a rotation.Secret;
// errors carry status, OData code and request IDs, never response bodies.
//
// It must not import the bot, the vault adapter or cmd/bot.
package graphapps
