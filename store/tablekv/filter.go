package tablekv

import "strings"

// listFilter is the OData filter selecting the entities of table whose
// RowKey starts with prefix: an equality on the PartitionKey and a range
// [prefix, upper bound) on the RowKey, which the service serves from its
// index in key order.
func listFilter(table, prefix string) string {
	f := "PartitionKey eq " + quote(table)
	if prefix == "" {
		return f
	}
	f += " and RowKey ge " + quote(prefix)
	if upper, ok := upperBound(prefix); ok {
		f += " and RowKey lt " + quote(upper)
	}
	return f
}

// quote returns s as an OData string literal: in single quotes, with each
// single quote doubled.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// maxKeyByte is the largest byte kv.ValidKey allows ('~').
const maxKeyByte = 0x7e

// upperBound returns a bound such that the valid keys in [prefix, bound)
// are exactly those that start with prefix: prefix with its last byte
// incremented. Trailing '~' (the largest key byte) are dropped first rather
// than incremented to DEL, so the bound stays printable ASCII; a prefix of
// only '~' needs no bound (ok false).
func upperBound(prefix string) (string, bool) {
	p := strings.TrimRight(prefix, string(rune(maxKeyByte)))
	if p == "" {
		return "", false
	}
	return p[:len(p)-1] + string(p[len(p)-1]+1), true
}
