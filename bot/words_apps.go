package bot

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/keyturn/keyturn/rotation"
)

// UnknownAppError is an <app> that is neither a listed alias nor a client
// ID: Near are the listed aliases it is probably a typo of, closest
// first, and Aliases all of them. It wraps rotation.ErrInvalid.
type UnknownAppError struct {
	Typed   string
	Near    []string
	Aliases []string
}

// Error implements error.
func (e *UnknownAppError) Error() string {
	return fmt.Sprintf("unknown app %q (near %v)", e.Typed, e.Near)
}

// Unwrap makes errors.Is(err, rotation.ErrInvalid) hold.
func (e *UnknownAppError) Unwrap() error { return rotation.ErrInvalid }

// unknownAppWords says that the app is not known, what it may have been
// meant to be, and what is known.
func unknownAppWords(e *UnknownAppError) string {
	var b strings.Builder
	fmt.Fprintf(&b, "I don't know an app called `%s`.", e.Typed)
	if len(e.Near) > 0 {
		fmt.Fprintf(&b, " Did you mean %s?", orList(quoted(e.Near)))
	}
	switch {
	case len(e.Aliases) == 0:
		b.WriteString(" No app aliases are configured here: use the app's Application (client) ID.")
	case len(e.Aliases) > maxAliasesShown:
		fmt.Fprintf(&b, " Apps I know by name: %s and %d more; or use an app's Application (client) ID.", strings.Join(quoted(e.Aliases[:maxAliasesShown]), ", "), len(e.Aliases)-maxAliasesShown)
	default:
		fmt.Fprintf(&b, " Apps I know by name: %s; or use an app's Application (client) ID.", strings.Join(quoted(e.Aliases), ", "))
	}
	return b.String()
}

// unlistedAppWords explains a client ID that is not a listed app and that
// the directory does not show.
func unlistedAppWords(clientID string) string {
	return "I don't know an app with client ID `" + clientID + "`: it is not one of the listed apps, and Entra ID shows me no app registration with that Application (client) ID. " +
		"Check the ID on the app's Overview page (the Application (client) ID, not the Object ID). " +
		"Apps that are not listed can still be rotated by client ID into an allowed vault, if Keyturn is one of their owners."
}

// targetWords puts an error about target t into words: an unlisted client
// ID that the directory does not know is explained as such.
func targetWords(err error, t Target, ref string) string {
	if !t.Listed && errors.Is(err, rotation.ErrAppNotFound) {
		if ref == "" {
			return unlistedAppWords(t.ClientID)
		}
		return unlistedAppWords(t.ClientID) + " (reference " + ref + ")"
	}
	return userMessage(err, ref)
}

const (
	maxAliasesShown = 12
	maxNear         = 3
)

// nearest returns the names within a typo's reach of typed, closest first:
// an edit distance of at most a quarter of the longer word (at least 1,
// at most 3), or typed as the start of a name.
func nearest(typed string, names []string) []string {
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	for _, n := range names {
		d := editDistance(typed, n)
		limit := min(3, max(1, max(len(typed), len(n))/4))
		if d <= limit || (len(typed) >= 3 && strings.HasPrefix(n, typed)) {
			cs = append(cs, cand{n, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	out := make([]string, 0, min(len(cs), maxNear))
	for _, c := range cs[:min(len(cs), maxNear)] {
		out = append(out, c.name)
	}
	return out
}

// editDistance is the Damerau-Levenshtein distance (optimal string
// alignment) between a and b, in bytes: aliases are ASCII.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

func quoted(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "`" + n + "`"
	}
	return out
}

// orList joins "a", "a or b", "a, b or c".
func orList(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
