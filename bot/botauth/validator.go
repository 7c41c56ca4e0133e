package botauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

// Fixed rules of protocol §1.
const (
	// DefaultIssuer is the issuer of channel → bot tokens in the public
	// cloud (the same for MultiTenant, SingleTenant and UserAssignedMSI).
	DefaultIssuer = "https://api.botframework.com"

	// ClockSkew is the tolerance applied to exp and nbf.
	ClockSkew = 5 * time.Minute

	// MaxTokenBytes bounds the token; the header may be this plus
	// "Bearer ".
	MaxTokenBytes = 16 << 10

	bearerPrefixLen = len("Bearer ")
)

// KeyResolver finds a token's signing key by kid. *KeySource implements it.
type KeyResolver interface {
	// SigningKey returns the key named kid. Its error wraps
	// ErrUnknownKeyID when no such key is known, ErrKeysUnavailable when
	// no key set is available; any error means the token is refused.
	SigningKey(ctx context.Context, kid string) (SigningKey, error)
}

var _ KeyResolver = (*KeySource)(nil)

// Config configures a Validator. AppID and Keys are required.
type Config struct {
	// AppID is the bot's Microsoft App ID (MicrosoftAppId); tokens must
	// be issued for it (aud).
	AppID string
	// Issuer is the required iss; default DefaultIssuer. Sovereign clouds
	// set theirs. Compared exactly: no trailing-slash or case folding.
	Issuer string
	// Keys resolves signing keys, normally a *KeySource.
	Keys KeyResolver
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Validator authenticates Bot Framework requests. It is safe for
// concurrent use.
type Validator struct {
	appID  string
	issuer string
	keys   KeyResolver
	now    func() time.Time
	parser *jwt.Parser
	seen   verifiedTokens
}

// Claims are the checked claims of an accepted token.
type Claims struct {
	// AppID is the appid claim, or azp when appid is absent (may be "").
	AppID string
	// ServiceURL is the serviceurl claim, as in the token.
	ServiceURL string
	// Audience is the bot's App ID the token was issued for.
	Audience string
	// Issuer is the iss claim.
	Issuer string
	// ExpiresAt is the exp claim.
	ExpiresAt time.Time
	// KeyID is the kid of the signing key (for logs).
	KeyID string
}

// NewValidator returns a Validator for cfg, or an error naming every
// problem in cfg.
func NewValidator(cfg Config) (*Validator, error) {
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultIssuer
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var errs []error
	if cfg.AppID == "" {
		errs = append(errs, errors.New("app id is required"))
	}
	if cfg.Keys == nil {
		errs = append(errs, errors.New("key resolver is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("validator config: %w", err)
	}
	return &Validator{
		appID:  cfg.AppID,
		issuer: cfg.Issuer,
		keys:   cfg.Keys,
		now:    cfg.Now,
		// The method allow-list runs before the key is looked up, so a
		// token with alg none, HS*, PS* or ES* never reaches the key
		// source. Claims are checked by Validate against the injected
		// clock, with the skew protocol §1 asks for.
		parser: jwt.NewParser(
			jwt.WithValidMethods(supportedAlgorithms),
			jwt.WithoutClaimsValidation(),
		),
	}, nil
}

// Validate authenticates one request: authHeader is its Authorization
// header, channelID and serviceURL the activity's channelId and
// serviceUrl. It returns the token's claims, or an error wrapping
// ErrUnauthorized (answer 401) or ErrForbidden (answer 403: the signing key
// is not endorsed for channelID; reported only for an otherwise valid
// token). The error text is for logs; it never contains the token.
func (v *Validator) Validate(ctx context.Context, authHeader, channelID, serviceURL string) (Claims, error) {
	raw, err := bearerToken(authHeader)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	if err := checkCompactJWS(raw); err != nil {
		return Claims{}, fmt.Errorf("%w: malformed token: %w", ErrUnauthorized, err)
	}
	tc, key, err := v.verify(ctx, raw)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: verify token: %w", ErrUnauthorized, err)
	}
	claims, err := v.checkClaims(tc, serviceURL)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	claims.KeyID = key.KeyID
	if channelID == "" || !slices.Contains(key.Endorsements, channelID) {
		return Claims{}, fmt.Errorf("%w: signing key %q not endorsed for channel %q", ErrForbidden, key.KeyID, clip(channelID))
	}
	return claims, nil
}

// verify checks raw's signature, or finds it checked already (see
// verifiedTokens), and returns its claims and the key that signed it.
func (v *Validator) verify(ctx context.Context, raw string) (*tokenClaims, SigningKey, error) {
	if seen, ok := v.seen.get(raw); ok {
		key, err := v.signingKey(ctx, &jwt.Token{Header: seen.header, Method: seen.method})
		if err == nil && key.PublicKey.Equal(seen.pub) {
			return &seen.claims, key, nil
		}
		// The key changed or went: verify afresh.
	}
	var (
		tc  tokenClaims
		key SigningKey
	)
	keyFunc := func(t *jwt.Token) (any, error) {
		var err error
		key, err = v.signingKey(ctx, t)
		if err != nil {
			return nil, err
		}
		return key.PublicKey, nil
	}
	tok, err := v.parser.ParseWithClaims(raw, &tc, keyFunc)
	if err != nil {
		return nil, SigningKey{}, err
	}
	v.seen.put(raw, &verified{header: tok.Header, method: tok.Method, pub: key.PublicKey, claims: tc})
	return &tc, key, nil
}

// signingKey is the parser's key function: RSA PKCS#1 v1.5 only, a kid,
// no critical extensions, an algorithm the metadata lists.
func (v *Validator) signingKey(ctx context.Context, t *jwt.Token) (SigningKey, error) {
	if _, ok := t.Method.(*jwt.SigningMethodRSA); !ok {
		return SigningKey{}, fmt.Errorf("signing method %q is not RSA PKCS#1 v1.5", t.Method.Alg())
	}
	if _, ok := t.Header["crit"]; ok {
		return SigningKey{}, errors.New("critical header extensions are not supported")
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return SigningKey{}, errors.New("token has no kid")
	}
	key, err := v.keys.SigningKey(ctx, kid)
	if err != nil {
		return SigningKey{}, err
	}
	alg := t.Method.Alg()
	if !slices.Contains(key.Algorithms, alg) || (key.Algorithm != "" && key.Algorithm != alg) {
		return SigningKey{}, fmt.Errorf("algorithm %s not allowed for key %q", alg, clip(kid))
	}
	if key.PublicKey == nil {
		return SigningKey{}, fmt.Errorf("key %q has no public key", clip(kid))
	}
	return key, nil
}

// checkClaims checks iss, aud, exp, nbf and serviceurl.
func (v *Validator) checkClaims(tc *tokenClaims, serviceURL string) (Claims, error) {
	now := v.now()
	if tc.Issuer != v.issuer {
		return Claims{}, fmt.Errorf("issuer %q is not %q", clip(tc.Issuer), v.issuer)
	}
	if err := checkAudience(tc.Audience, v.appID); err != nil {
		return Claims{}, err
	}
	if tc.ExpiresAt == nil {
		return Claims{}, errors.New("token has no exp")
	}
	exp := tc.ExpiresAt.Time
	if !now.Before(exp.Add(ClockSkew)) {
		return Claims{}, fmt.Errorf("token expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if tc.NotBefore != nil && now.Add(ClockSkew).Before(tc.NotBefore.Time) {
		return Claims{}, fmt.Errorf("token not valid before %s", tc.NotBefore.UTC().Format(time.RFC3339))
	}
	if tc.ServiceURL == nil || *tc.ServiceURL == "" {
		return Claims{}, errors.New("token has no serviceurl claim")
	}
	if serviceURL == "" || strings.TrimSuffix(*tc.ServiceURL, "/") != strings.TrimSuffix(serviceURL, "/") {
		return Claims{}, fmt.Errorf("serviceurl claim %q does not match activity serviceUrl %q", clip(*tc.ServiceURL), clip(serviceURL))
	}
	appID := tc.AppID
	if appID == "" {
		appID = tc.AuthorizedParty
	}
	return Claims{
		AppID:      appID,
		ServiceURL: *tc.ServiceURL,
		Audience:   v.appID,
		Issuer:     tc.Issuer,
		ExpiresAt:  exp,
	}, nil
}
