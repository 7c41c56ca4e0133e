package botauthtest

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/keyturn/keyturn/bot/botauth"
)

// Defaults of TokenOptions.
const (
	// DefaultAppID is the audience of tokens whose options name none.
	DefaultAppID = "00000000-0000-4000-8000-00000000b07a"
	// DefaultServiceURL is the serviceurl claim of tokens whose options
	// name none: Teams' public-cloud connector.
	DefaultServiceURL = "https://smba.trafficmanager.net/teams/"
	// DefaultLifetime is how long a default token is valid after Now.
	DefaultLifetime = time.Hour
	// DefaultAge is how long before Now a default token became valid.
	DefaultAge = time.Minute
)

// TokenOptions shape one token. The zero value mints a token that
// botauth.Validator accepts for an msteams activity with serviceUrl
// DefaultServiceURL, for a bot whose App ID is DefaultAppID.
type TokenOptions struct {
	// AppID is the aud claim; default DefaultAppID.
	AppID string
	// ServiceURL is the serviceurl claim; default DefaultServiceURL.
	ServiceURL string
	// Issuer is the iss claim; default botauth.DefaultIssuer.
	Issuer string
	// Now is the time the defaults are counted from; default time.Now().
	Now time.Time
	// NotBefore is the nbf claim; default Now - DefaultAge.
	NotBefore time.Time
	// Expires is the exp claim; default Now + DefaultLifetime.
	Expires time.Time

	// UnendorsedKey signs with the published key endorsed for "webchat"
	// only (WebchatKeyID).
	UnendorsedKey bool
	// UnknownKey signs with a key that is not published (UnknownKeyID).
	// It wins over UnendorsedKey.
	UnknownKey bool
	// Kid is the kid header; default the signing key's ID. The signature
	// is still made with the key UnendorsedKey and UnknownKey choose.
	Kid string
	// Alg is the alg header; default RS256. RS* and PS* sign with the
	// chosen RSA key; HS* sign with the PEM of its public key as the HMAC
	// secret (the algorithm-confusion forgery); "none" leaves the
	// signature empty. Any other value is written as is over an RS256
	// signature.
	Alg string

	// Claims are set after the defaults; a nil value removes the claim.
	Claims map[string]any
	// Header entries are set after alg, kid and typ; a nil value removes
	// the entry.
	Header map[string]any
}

// Token mints a token shaped by opts. It panics only if signing fails,
// which an RSA key of its own never does.
func (i *Issuer) Token(opts TokenOptions) string {
	tok, err := i.mint(opts)
	if err != nil {
		panic("botauthtest: " + err.Error())
	}
	return tok
}

// Authorization returns "Bearer " + Token(opts), the Authorization header
// of a channel's request.
func (i *Issuer) Authorization(opts TokenOptions) string {
	return "Bearer " + i.Token(opts)
}

func (i *Issuer) mint(opts TokenOptions) (string, error) {
	key, kid := i.main, MainKeyID
	switch {
	case opts.UnknownKey:
		key, kid = i.unknown, UnknownKeyID
	case opts.UnendorsedKey:
		key, kid = i.webchat, WebchatKeyID
	}
	if opts.Kid != "" {
		kid = opts.Kid
	}
	alg := opts.Alg
	if alg == "" {
		alg = jwt.SigningMethodRS256.Alg()
	}
	header := map[string]any{"alg": alg, "kid": kid, "typ": "JWT"}
	apply(header, opts.Header)
	claims := defaultClaims(opts)
	apply(claims, opts.Claims)

	h, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("encode header: %w", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	signing := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sig, err := sign(alg, signing, key)
	if err != nil {
		return "", fmt.Errorf("sign with %s: %w", alg, err)
	}
	return signing + "." + sig, nil
}

// defaultClaims are the claims of a valid channel → bot token.
func defaultClaims(opts TokenOptions) map[string]any {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	nbf, exp := opts.NotBefore, opts.Expires
	if nbf.IsZero() {
		nbf = now.Add(-DefaultAge)
	}
	if exp.IsZero() {
		exp = now.Add(DefaultLifetime)
	}
	return map[string]any{
		"iss":        or(opts.Issuer, botauth.DefaultIssuer),
		"aud":        or(opts.AppID, DefaultAppID),
		"serviceurl": or(opts.ServiceURL, DefaultServiceURL),
		"nbf":        nbf.Unix(),
		"exp":        exp.Unix(),
		"iat":        nbf.Unix(),
	}
}

// sign returns the encoded signature of signing for the header alg.
func sign(alg, signing string, key *rsa.PrivateKey) (string, error) {
	if alg == "none" {
		return "", nil
	}
	switch m := jwt.GetSigningMethod(alg).(type) {
	case *jwt.SigningMethodRSA, *jwt.SigningMethodRSAPSS:
		return m.Sign(signing, key)
	case *jwt.SigningMethodHMAC:
		der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
		if err != nil {
			return "", err
		}
		return m.Sign(signing, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	default:
		return jwt.SigningMethodRS256.Sign(signing, key)
	}
}

func apply(dst, overrides map[string]any) {
	for k, v := range overrides {
		if v == nil {
			delete(dst, k)
			continue
		}
		dst[k] = v
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
