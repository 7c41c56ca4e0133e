package bot

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/keyturn/keyturn/rotation"
)

// StaticCatalog resolves apps from configuration: aliases to targets, any
// client ID as itself, and a default vault.
type StaticCatalog struct {
	// Apps maps lower-case aliases to their targets (ClientID required).
	Apps map[string]Target
	// DefaultVault is the canonical URI used when neither the command nor
	// the alias names a vault.
	DefaultVault string
	// VaultURI turns a vault name or URI typed in chat into the canonical
	// URI of the configured cloud.
	VaultURI func(string) (string, error)
}

// Resolve resolves an app alias or client ID, and an optional vault, to a
// Target. Errors are *rotation.Error with code rotation.ErrInvalid, whose
// message says what is wrong in words for the person who typed it.
func (c *StaticCatalog) Resolve(app, vault string) (Target, error) {
	key := strings.ToLower(strings.TrimSpace(app))
	t, ok := c.Apps[key]
	switch {
	case ok:
		t.Name, t.Listed = key, true
	case rotation.IsGUID(key):
		// A listed app named by its client ID gets its alias's vault and
		// secret names, as the radar's Request rotation button names it.
		t = Target{Name: key, ClientID: key}
		aliases := slices.Sorted(maps.Keys(c.Apps)) // the first alias, if several name the app
		for _, alias := range aliases {
			if at := c.Apps[alias]; strings.EqualFold(at.ClientID, key) {
				t, t.Name, t.Listed = at, alias, true
				break
			}
		}
	default:
		return Target{}, &UnknownAppError{Typed: clip(key), Near: nearest(key, c.names()), Aliases: c.names()}
	}
	if vault != "" {
		uri, err := c.VaultURI(vault)
		if err != nil {
			return Target{}, &rotation.Error{Code: rotation.ErrInvalid, Message: fmt.Sprintf("%q is not a vault name or URI", clip(vault)), Err: err}
		}
		t.VaultURI = uri
	}
	if t.VaultURI == "" {
		t.VaultURI = c.DefaultVault // may stay empty: status needs no vault
	}
	return t, nil
}

// names returns the aliases in order.
func (c *StaticCatalog) names() []string {
	names := make([]string, 0, len(c.Apps))
	for k := range c.Apps {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
