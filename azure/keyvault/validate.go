package keyvault

import (
	"fmt"
	"unicode/utf8"

	"github.com/keyturn/keyturn/rotation"
)

// Key Vault's limits for secrets.
const (
	maxNameLen        = 127
	maxValueBytes     = 25 * 1024
	maxTags           = 15
	maxTagNameLen     = 512
	maxTagValueLen    = 256
	maxContentTypeLen = 255
)

// validName reports whether name is a valid secret name: 1-127 characters
// of 0-9, a-z, A-Z and '-'.
func validName(name string) bool {
	if name == "" || len(name) > maxNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
		default:
			return false
		}
	}
	return true
}

// checkName returns a wrapped rotation.ErrInvalid when name is not valid.
func checkName(name string) error {
	if !validName(name) {
		return fmt.Errorf("secret name %q must be 1-%d characters of 0-9, a-z, A-Z and '-': %w", name, maxNameLen, rotation.ErrInvalid)
	}
	return nil
}

// checkSet validates what Set would write, without revealing value.
func checkSet(name string, value rotation.Secret, p rotation.SecretProps) error {
	if err := checkName(name); err != nil {
		return err
	}
	switch n := len(value.Reveal()); {
	case n == 0:
		return fmt.Errorf("secret %s: empty value: %w", name, rotation.ErrInvalid)
	case n > maxValueBytes:
		return fmt.Errorf("secret %s: value of %d bytes exceeds Key Vault's %d: %w", name, n, maxValueBytes, rotation.ErrInvalid)
	}
	if utf8.RuneCountInString(p.ContentType) > maxContentTypeLen {
		return fmt.Errorf("secret %s: content type longer than %d characters: %w", name, maxContentTypeLen, rotation.ErrInvalid)
	}
	if len(p.Tags) > maxTags {
		return fmt.Errorf("secret %s: %d tags, Key Vault allows %d: %w", name, len(p.Tags), maxTags, rotation.ErrInvalid)
	}
	for k, val := range p.Tags {
		if k == "" || utf8.RuneCountInString(k) > maxTagNameLen {
			return fmt.Errorf("secret %s: tag name %q must be 1-%d characters: %w", name, k, maxTagNameLen, rotation.ErrInvalid)
		}
		if utf8.RuneCountInString(val) > maxTagValueLen {
			return fmt.Errorf("secret %s: value of tag %q exceeds %d characters: %w", name, k, maxTagValueLen, rotation.ErrInvalid)
		}
	}
	if !p.NotBefore.IsZero() && !p.Expires.IsZero() && !p.NotBefore.Before(p.Expires) {
		return fmt.Errorf("secret %s: not-before %s is not before expiry %s: %w", name, p.NotBefore.UTC().Format("2006-01-02T15:04:05Z"), p.Expires.UTC().Format("2006-01-02T15:04:05Z"), rotation.ErrInvalid)
	}
	return nil
}
