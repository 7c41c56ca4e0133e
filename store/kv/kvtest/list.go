package kvtest

import (
	"bytes"
	"slices"
	"testing"

	"github.com/keyturn/keyturn/store/kv"
)

// keysOf returns the keys of items in order.
func keysOf(items []kv.Item) []string {
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = it.Key
	}
	return keys
}

func testList(t *testing.T, s kv.Store) {
	// Inserted out of order; sorted bytewise: ' ' < ':' < ';' < 'b' < '~'.
	for _, k := range []string{"b", "a~", "a;", "a:2", "ab", "a", "a:1", "a b", "c:1", "B"} {
		mustCreate(t, s, kv.TableAudit, k, []byte("v-"+k))
	}
	mustCreate(t, s, kv.TableRefs, "a:3", []byte("other table"))
	all := []string{"B", "a", "a b", "a:1", "a:2", "a;", "ab", "a~", "b", "c:1"}
	tests := []struct {
		prefix string
		limit  int
		want   []string
	}{
		{"", 0, all},
		{"", 3, all[:3]},
		{"", 100, all},
		{"a", 0, []string{"a", "a b", "a:1", "a:2", "a;", "ab", "a~"}},
		{"a", 2, []string{"a", "a b"}},
		{"a:", 0, []string{"a:1", "a:2"}},
		{"a:", 1, []string{"a:1"}},
		{"a:1", 0, []string{"a:1"}},
		{"a~", 0, []string{"a~"}},
		{"b", 0, []string{"b"}},
		{"A", 0, nil},
		{"zzz", 0, nil},
		{"a:10", 0, nil},
	}
	for _, tt := range tests {
		items, err := s.List(t.Context(), kv.TableAudit, tt.prefix, tt.limit)
		if err != nil {
			t.Fatalf("List(%q, %d): %v", tt.prefix, tt.limit, err)
		}
		if got := keysOf(items); !slices.Equal(got, tt.want) {
			t.Errorf("List(%q, %d) = %q, want %q", tt.prefix, tt.limit, got, tt.want)
		}
	}
}

func testListItems(t *testing.T, s kv.Store) {
	e1 := mustCreate(t, s, kv.TableApprovals, "req:1", []byte{0, 1, 2})
	e1 = mustUpdate(t, s, kv.TableApprovals, "req:1", []byte{3, 4}, e1)
	e2 := mustCreate(t, s, kv.TableApprovals, "req:2", []byte{})
	items, err := s.List(t.Context(), kv.TableApprovals, "req:", 0)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := []kv.Item{{Key: "req:1", Value: []byte{3, 4}, ETag: e1}, {Key: "req:2", Value: []byte{}, ETag: e2}}
	if len(items) != len(want) {
		t.Fatalf("List = %q, want %q", keysOf(items), keysOf(want))
	}
	for i, it := range items {
		if it.Key != want[i].Key || !bytes.Equal(it.Value, want[i].Value) || it.ETag != want[i].ETag {
			t.Errorf("List()[%d] = %q %v %q, want %q %v %q", i, it.Key, it.Value, it.ETag, want[i].Key, want[i].Value, want[i].ETag)
		}
	}
	// The listed ETag is the one a conditional write needs.
	mustUpdate(t, s, kv.TableApprovals, "req:2", []byte("x"), items[1].ETag)
}
