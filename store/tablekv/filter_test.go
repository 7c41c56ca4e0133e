package tablekv

import (
	"strings"
	"testing"
)

func TestListFilter(t *testing.T) {
	tests := []struct {
		table, prefix, want string
	}{
		{"journal", "", "PartitionKey eq 'journal'"},
		{"audit", "req:", "PartitionKey eq 'audit' and RowKey ge 'req:' and RowKey lt 'req;'"},
		{"refs", "a'b", "PartitionKey eq 'refs' and RowKey ge 'a''b' and RowKey lt 'a''c'"},
		{"refs", "x&", "PartitionKey eq 'refs' and RowKey ge 'x&' and RowKey lt 'x'''"},
		{"refs", "a~", "PartitionKey eq 'refs' and RowKey ge 'a~' and RowKey lt 'b'"},
		{"refs", "a}~~", "PartitionKey eq 'refs' and RowKey ge 'a}~~' and RowKey lt 'a~'"},
		{"refs", "~~", "PartitionKey eq 'refs' and RowKey ge '~~'"},
		{"refs", " ", "PartitionKey eq 'refs' and RowKey ge ' ' and RowKey lt '!'"},
	}
	for _, tt := range tests {
		if got := listFilter(tt.table, tt.prefix); got != tt.want {
			t.Errorf("listFilter(%q, %q) =\n%s\nwant\n%s", tt.table, tt.prefix, got, tt.want)
		}
	}
}

// TestUpperBoundSelectsPrefix checks, over every key and prefix of up to
// three bytes from an alphabet with the extreme key bytes, that a key lies
// in [prefix, bound) exactly when it starts with prefix.
func TestUpperBoundSelectsPrefix(t *testing.T) {
	alphabet := []string{" ", "!", "a", "}", "~"}
	var words []string
	var grow func(w string)
	grow = func(w string) {
		if w != "" {
			words = append(words, w)
		}
		if len(w) == 3 {
			return
		}
		for _, c := range alphabet {
			grow(w + c)
		}
	}
	grow("")
	for _, prefix := range words {
		upper, bounded := upperBound(prefix)
		if bounded && strings.ContainsRune(upper, 0x7f) {
			t.Fatalf("upperBound(%q) = %q contains DEL", prefix, upper)
		}
		for _, key := range words {
			in := key >= prefix && (!bounded || key < upper)
			if in != strings.HasPrefix(key, prefix) {
				t.Fatalf("prefix %q, bound %q (%v): key %q in range = %v", prefix, upper, bounded, key, in)
			}
		}
	}
}
