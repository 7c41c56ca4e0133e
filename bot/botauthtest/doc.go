// Package botauthtest is a stand-in for the Bot Framework's token issuer,
// for tests of the bot's HTTP endpoint and for the local sandbox.
//
// An Issuer holds three RSA-2048 keys and, once started, serves on loopback
// an OpenID metadata document and a JWKS shaped like
// login.botframework.com's:
//
//   - MainKeyID, published and endorsed for "msteams", "emulator" and
//     "webchat";
//   - WebchatKeyID, published and endorsed for "webchat" only (a token it
//     signs is refused for an msteams activity with 403);
//   - UnknownKeyID, never published (a token it signs names a kid the key
//     source cannot find).
//
// Token mints channel → bot tokens that botauth.Validator accepts by
// default, and forged ones through TokenOptions (wrong issuer, audience,
// lifetime, serviceurl, key, kid or algorithm; any claim or header set or
// removed).
//
// Wire a validator to it with KeySourceConfig:
//
//	iss := botauthtest.New(t)
//	ks, _ := botauth.NewKeySource(iss.KeySourceConfig())
//	v, _ := botauth.NewValidator(botauth.Config{AppID: botauthtest.DefaultAppID, Keys: ks})
//	header := iss.Authorization(botauthtest.TokenOptions{})
//
// The keys exist only in memory and only for the Issuer's life; nothing here
// must be wired into a deployment that has a real App ID.
//
// The package imports botauth (for KeySourceConfig) and the JWT library,
// nothing else of Keyturn's.
package botauthtest
