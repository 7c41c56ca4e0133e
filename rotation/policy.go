package rotation

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Policy is what Keyturn allows, as data. The zero value allows nothing;
// start from DefaultPolicy.
type Policy struct {
	// OwnClientID is Keyturn's own application (client) ID, never rotated.
	OwnClientID string
	// AllowedVaults lists canonical vault URIs (https://name.vault.azure.net/).
	AllowedVaults []string
	// SecretNamePrefixes, when not empty, restricts vault secret names to
	// those starting with one of these prefixes.
	SecretNamePrefixes []string

	DefaultLifetime time.Duration
	MinLifetime     time.Duration
	MaxLifetime     time.Duration
	// Overlap is how long the previous credential lives on after the new one
	// is verified, so consumers can pick the new one up.
	Overlap time.Duration

	// VerifyAttempts is how many token requests in a row must succeed.
	VerifyAttempts int
	// VerifyDeadline bounds the whole verification.
	VerifyDeadline time.Duration
}

// DefaultPolicy returns the built-in policy: secrets live 180 days (at most
// 365, at least 1), the previous secret 7 more days, verification needs 3
// successes in a row within 5 minutes. No vault is allowed until listed.
func DefaultPolicy() Policy {
	return Policy{
		DefaultLifetime: 180 * 24 * time.Hour,
		MinLifetime:     24 * time.Hour,
		MaxLifetime:     365 * 24 * time.Hour,
		Overlap:         7 * 24 * time.Hour,
		VerifyAttempts:  3,
		VerifyDeadline:  5 * time.Minute,
	}
}

// Validate reports every problem with p at once.
func (p Policy) Validate() error {
	var errs []error
	if p.OwnClientID != "" && !IsGUID(p.OwnClientID) {
		errs = append(errs, fmt.Errorf("own client ID %q is not a GUID", p.OwnClientID))
	}
	if p.MinLifetime <= 0 || p.MaxLifetime < p.MinLifetime {
		errs = append(errs, fmt.Errorf("lifetime bounds %s..%s are not valid", p.MinLifetime, p.MaxLifetime))
	}
	if p.DefaultLifetime < p.MinLifetime || p.DefaultLifetime > p.MaxLifetime {
		errs = append(errs, fmt.Errorf("default lifetime %s is outside %s..%s", p.DefaultLifetime, p.MinLifetime, p.MaxLifetime))
	}
	if p.Overlap < 0 {
		errs = append(errs, fmt.Errorf("overlap %s is negative", p.Overlap))
	}
	if p.VerifyAttempts < 1 {
		errs = append(errs, fmt.Errorf("verify attempts %d must be at least 1", p.VerifyAttempts))
	}
	if p.VerifyDeadline <= 0 {
		errs = append(errs, fmt.Errorf("verify deadline %s must be positive", p.VerifyDeadline))
	}
	for _, v := range p.AllowedVaults {
		if !strings.HasPrefix(v, "https://") || !strings.HasSuffix(v, "/") {
			errs = append(errs, fmt.Errorf("allowed vault %q is not a canonical vault URI", v))
		}
	}
	for _, pre := range p.SecretNamePrefixes {
		if !ValidSecretName(pre) {
			errs = append(errs, fmt.Errorf("secret name prefix %q is not a valid secret name", pre))
		}
	}
	return errors.Join(errs...)
}

// VaultAllowed reports whether uri (canonical) is an allowed vault.
func (p Policy) VaultAllowed(uri string) bool {
	for _, v := range p.AllowedVaults {
		if strings.EqualFold(v, uri) {
			return true
		}
	}
	return false
}

// SecretNameAllowed reports whether name is a valid Key Vault secret name
// that policy allows.
func (p Policy) SecretNameAllowed(name string) bool {
	if !ValidSecretName(name) {
		return false
	}
	if len(p.SecretNamePrefixes) == 0 {
		return true
	}
	for _, pre := range p.SecretNamePrefixes {
		if strings.HasPrefix(strings.ToLower(name), strings.ToLower(pre)) {
			return true
		}
	}
	return false
}

// Lifetime returns the lifetime a request gets: the default for zero,
// otherwise requested clamped to [MinLifetime, MaxLifetime]; clamped
// reports whether it differs from a non-zero request.
func (p Policy) Lifetime(requested time.Duration) (d time.Duration, clamped bool) {
	switch {
	case requested == 0:
		return p.DefaultLifetime, false
	case requested < p.MinLifetime:
		return p.MinLifetime, true
	case requested > p.MaxLifetime:
		return p.MaxLifetime, true
	}
	return requested, false
}

// ValidSecretName reports whether s is a valid Key Vault secret name: 1 to
// 127 characters of 0-9, a-z, A-Z and '-'.
func ValidSecretName(s string) bool {
	if len(s) < 1 || len(s) > 127 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-') {
			return false
		}
	}
	return true
}

// IsGUID reports whether s has the 8-4-4-4-12 hexadecimal form of an Entra
// ID object or client ID.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
				return false
			}
		}
	}
	return true
}

// DefaultSecretNames returns the vault secret names used when a request
// names none: "<app>-client-id" and "<app>-client-secret", where <app> is
// the app's display name reduced to lower-case letters, digits and dashes.
func DefaultSecretNames(appName, clientID string) (clientIDName, secretName string) {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(appName) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	base := strings.TrimSuffix(b.String(), "-")
	if len(base) > 100 {
		base = strings.TrimSuffix(base[:100], "-")
	}
	if base == "" {
		base = "app-" + strings.ToLower(clientID)
	}
	return base + "-client-id", base + "-client-secret"
}
