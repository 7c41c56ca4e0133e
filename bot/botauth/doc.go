// Package botauth authenticates inbound Bot Framework requests (channel →
// bot), to the letter of protocol.md §1: a Bearer JWT signed by a key from
// the channel's OpenID metadata, issued by the configured issuer for the
// bot's App ID, within its lifetime (5 minutes of clock skew), carrying the
// activity's serviceUrl, and signed by a key endorsed for the activity's
// channel.
//
// Three pieces:
//
//   - KeySource fetches and caches the signing keys (OpenID metadata →
//     jwks_uri), refreshing at most once per rate-limit window when a token
//     names an unknown key ID, with concurrent callers sharing one fetch.
//   - Validator checks one Authorization header against an activity's
//     channelId and serviceUrl and returns the token's Claims or an error
//     that wraps ErrUnauthorized (answer 401) or ErrForbidden (answer 403).
//     HTTPStatus maps an error to that status.
//   - TokenValidatorAdapter plugs a Validator into msbotbuilder-go's
//     core.BotFrameworkAdapter through its auth.TokenValidator seam.
//
// Errors carry detail for logs only (why a token was refused); the HTTP
// answer must be the bare status. No error, log line or Claims value
// contains the token or the header.
//
// Emulator mode (no App ID configured, listener on loopback, requests
// accepted unauthenticated) is decided by the caller, cmd/bot: this package
// never accepts a request without a valid token and cannot be switched off.
//
// The package imports nothing of Keyturn's, and none of the Azure SDKs.
package botauth
