// Package graphcore holds what Keyturn's Microsoft Graph adapters share: the
// request adapter built from msgraph-sdk-go-core and kiota pieces (never the
// root msgraph-sdk-go package), with the SDK's retry handler switched off; a
// wire recorder that tells a call that was never sent from one that was;
// the reading of SDK errors into plain facts (status, OData code, request
// IDs, Retry-After); the translated error type; and the one retry loop,
// with backoff.
//
// It decides nothing about meaning: each adapter turns Facts into an Error
// of its own Kind, choosing sentinel and advice in one translate function,
// and its kinds tell the loop which failures may be repeated. No response
// body, header set or token ever leaves this package; the OData error
// message is readable only through Facts.MessageContains, and an Error
// does not keep it.
//
// Its subpackage graphtest holds the fake Graph server plumbing and test
// doubles the adapters' tests share; only _test files import it.
//
// It must not import the domain's adapters, the bot or cmd/bot.
package graphcore
