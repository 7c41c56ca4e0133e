// Package graphcore holds what Keyturn's Microsoft Graph adapters share: the
// request adapter built from msgraph-sdk-go-core and kiota pieces (never the
// root msgraph-sdk-go package), with the SDK's retry handler switched off; a
// wire recorder that tells a call that was never sent from one that was;
// the reading of SDK errors into plain facts (status, OData code, request
// IDs, Retry-After); and the one retry loop, with backoff.
//
// It decides nothing about meaning: each adapter turns Facts into its own
// errors and sentinels in one translate function, and tells the loop which
// failures may be repeated. No response body, header set or token ever
// leaves this package; the OData error message is readable only through
// Facts.MessageContains.
//
// It must not import the domain's adapters, the bot or cmd/bot.
package graphcore
