package botauth

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"slices"
	"strings"
)

// supportedAlgorithms are the only algorithms a token may use, whatever the
// metadata says: RSA PKCS#1 v1.5. Never none, never HMAC, never PSS or EC.
var supportedAlgorithms = []string{"RS256", "RS384", "RS512"}

// Bounds on an RSA signing key taken from a JWKS.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// SigningKey is one RSA key from the channel's JWKS, with what the metadata
// document said about it. A KeySource returns copies; changing one changes
// nothing else.
type SigningKey struct {
	// KeyID is the JWK's kid.
	KeyID string
	// PublicKey is the RSA public key (at least 2048 bits).
	PublicKey *rsa.PublicKey
	// Endorsements are the channel IDs the key is endorsed for ("msteams").
	Endorsements []string
	// Algorithm is the JWK's alg, if it names one ("" otherwise).
	Algorithm string
	// Algorithms are the metadata's id_token_signing_alg_values_supported
	// intersected with RS256, RS384 and RS512, in the metadata's order.
	Algorithms []string
}

func (k SigningKey) clone() SigningKey {
	k.Endorsements = slices.Clone(k.Endorsements)
	k.Algorithms = slices.Clone(k.Algorithms)
	return k
}

// openIDMetadata is the part of the OpenID metadata document we read.
type openIDMetadata struct {
	JWKSURI     string   `json:"jwks_uri"`
	SigningAlgs []string `json:"id_token_signing_alg_values_supported"`
}

// rawJWK is one entry of a JWKS "keys" array.
type rawJWK struct {
	Kty          string   `json:"kty"`
	Use          string   `json:"use"`
	Kid          string   `json:"kid"`
	Alg          string   `json:"alg"`
	N            string   `json:"n"`
	E            string   `json:"e"`
	Endorsements []string `json:"endorsements"`
}

// allowedAlgorithms intersects the metadata's list with supportedAlgorithms.
func allowedAlgorithms(listed []string) []string {
	var out []string
	for _, a := range listed {
		if slices.Contains(supportedAlgorithms, a) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// parseJWKS parses a JWKS document into RSA signing keys by kid. Entries
// that are not usable RSA signature keys are skipped and described in
// skipped (for a log line); a document with no usable key is an error.
func parseJWKS(body []byte, algs []string) (keys map[string]SigningKey, skipped []string, err error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, nil, fmt.Errorf("decode jwks: %w", err)
	}
	keys = make(map[string]SigningKey, len(doc.Keys))
	for i, raw := range doc.Keys {
		k, err := parseJWK(raw)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("key %d: %v", i, err))
			continue
		}
		if _, dup := keys[k.KeyID]; dup {
			skipped = append(skipped, fmt.Sprintf("key %d: duplicate kid %q", i, k.KeyID))
			continue
		}
		if k.Algorithm != "" && !slices.Contains(algs, k.Algorithm) {
			skipped = append(skipped, fmt.Sprintf("key %d: alg %q not allowed", i, k.Algorithm))
			continue
		}
		k.Algorithms = algs
		keys[k.KeyID] = k
	}
	if len(keys) == 0 {
		return nil, skipped, errors.New("jwks has no usable rsa signing key")
	}
	return keys, skipped, nil
}

// parseJWK parses one JWK; only RSA signature keys are accepted.
func parseJWK(raw json.RawMessage) (SigningKey, error) {
	var j rawJWK
	if err := json.Unmarshal(raw, &j); err != nil {
		return SigningKey{}, fmt.Errorf("decode: %w", err)
	}
	switch {
	case j.Kty != "RSA":
		return SigningKey{}, fmt.Errorf("kty %q is not RSA", j.Kty)
	case j.Kid == "":
		return SigningKey{}, errors.New("no kid")
	case j.Use != "" && j.Use != "sig":
		return SigningKey{}, fmt.Errorf("use %q is not sig", j.Use)
	}
	n, err := decodeB64URLInt(j.N)
	if err != nil {
		return SigningKey{}, fmt.Errorf("modulus: %w", err)
	}
	if bits := n.BitLen(); bits < minRSABits || bits > maxRSABits {
		return SigningKey{}, fmt.Errorf("modulus of %d bits", bits)
	}
	e, err := decodeB64URLInt(j.E)
	if err != nil {
		return SigningKey{}, fmt.Errorf("exponent: %w", err)
	}
	if e.BitLen() > 31 || e.Int64() < 3 || e.Bit(0) == 0 {
		return SigningKey{}, errors.New("exponent out of range")
	}
	var endorsements []string
	for _, c := range j.Endorsements {
		if c != "" && !slices.Contains(endorsements, c) {
			endorsements = append(endorsements, c)
		}
	}
	return SigningKey{
		KeyID:        j.Kid,
		PublicKey:    &rsa.PublicKey{N: n, E: int(e.Int64())},
		Endorsements: endorsements,
		Algorithm:    j.Alg,
	}, nil
}

// decodeB64URLInt decodes a base64url big-endian unsigned integer, with or
// without padding.
func decodeB64URLInt(s string) (*big.Int, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, errors.New("empty")
	}
	return new(big.Int).SetBytes(b), nil
}

// checkFetchURL requires an absolute https URL, or http on a loopback host
// (local test servers).
func checkFetchURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse url: %w", err)
	}
	if err := checkScheme(u); err != nil {
		return nil, err
	}
	return u, nil
}

func checkScheme(u *url.URL) error {
	if u.Host == "" {
		return fmt.Errorf("url %q is not absolute", u.Redacted())
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("url %q is not https", u.Redacted())
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
