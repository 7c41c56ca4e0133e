package botauth

import (
	"crypto/rsa"
	"sync"

	"github.com/golang-jwt/jwt/v4"
)

// verifiedTokens remembers tokens whose signature verified, keyed by the
// whole compact token (signature included), because the channel sends the
// same token with every activity for as long as it is valid and an RS256
// verification is the costliest step of a request. Only the signature check
// is skipped on a hit: Validate still looks the signing key up by kid in
// the current key set and uses the remembered result only when that kid
// still names the very same public key with the algorithm allowed, then
// checks issuer, audience, lifetime, serviceurl and the endorsement for
// the channel as on a miss. Refused tokens are never remembered, so forged
// tokens cannot fill it; it holds at most maxVerified entries and starts
// afresh when full.
type verifiedTokens struct {
	mu sync.Mutex
	m  map[string]*verified
}

// maxVerified bounds the cache: a bot sees a handful of live tokens.
const maxVerified = 256

// verified is what a successful verification established.
type verified struct {
	header map[string]any // for the key checks of signingKey
	method jwt.SigningMethod
	pub    *rsa.PublicKey
	claims tokenClaims
}

func (c *verifiedTokens) get(raw string) (*verified, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[raw]
	return v, ok
}

func (c *verifiedTokens) put(raw string, v *verified) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxVerified {
		c.m = make(map[string]*verified, 16)
	}
	c.m[raw] = v
}
