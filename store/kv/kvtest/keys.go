package kvtest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/store/kv"
)

func testTablesIndependent(t *testing.T, s kv.Store) {
	ej := mustCreate(t, s, kv.TableJournal, "shared", []byte("journal"))
	ea := mustCreate(t, s, kv.TableAudit, "shared", []byte("audit"))
	wantItem(t, s, kv.TableJournal, "shared", []byte("journal"), ej)
	wantItem(t, s, kv.TableAudit, "shared", []byte("audit"), ea)

	ej = mustUpdate(t, s, kv.TableJournal, "shared", []byte("journal 2"), ej)
	wantItem(t, s, kv.TableAudit, "shared", []byte("audit"), ea)

	if err := s.Delete(t.Context(), kv.TableAudit, "shared", ""); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantItem(t, s, kv.TableJournal, "shared", []byte("journal 2"), ej)
	for _, table := range []string{kv.TableAudit, kv.TableOutbox} {
		items, err := s.List(t.Context(), table, "", 0)
		if err != nil || len(items) != 0 {
			t.Errorf("List(%s) = %q, %v; want no items", table, keysOf(items), err)
		}
	}
}

func testInvalid(t *testing.T, s kv.Store) {
	ctx := t.Context()
	etag := mustCreate(t, s, kv.TableJournal, "ok", []byte("v"))
	tables := []string{"", "nope", "Journal", "journal ", "journal/x"}
	keys := []string{"", "a/b", `a\b`, "a#b", "a?b", "a\nb", "tab\t", "del\x7f", "caf\u00e9", strings.Repeat("k", 513)}
	big := make([]byte, kv.MaxValueBytes+1)

	type call struct {
		name string
		err  error
	}
	var calls []call
	for _, table := range tables {
		_, errG := s.Get(ctx, table, "ok")
		_, errC := s.Create(ctx, table, "new", []byte("v"))
		_, errU := s.Update(ctx, table, "ok", []byte("v"), etag)
		errD := s.Delete(ctx, table, "ok", "")
		_, errL := s.List(ctx, table, "", 0)
		calls = append(calls,
			call{fmt.Sprintf("Get(table %q)", table), errG},
			call{fmt.Sprintf("Create(table %q)", table), errC},
			call{fmt.Sprintf("Update(table %q)", table), errU},
			call{fmt.Sprintf("Delete(table %q)", table), errD},
			call{fmt.Sprintf("List(table %q)", table), errL})
	}
	for _, key := range keys {
		_, errG := s.Get(ctx, kv.TableJournal, key)
		_, errC := s.Create(ctx, kv.TableJournal, key, []byte("v"))
		_, errU := s.Update(ctx, kv.TableJournal, key, []byte("v"), etag)
		errD := s.Delete(ctx, kv.TableJournal, key, "")
		calls = append(calls,
			call{fmt.Sprintf("Get(key %.20q)", key), errG},
			call{fmt.Sprintf("Create(key %.20q)", key), errC},
			call{fmt.Sprintf("Update(key %.20q)", key), errU},
			call{fmt.Sprintf("Delete(key %.20q)", key), errD})
		if key != "" {
			_, errL := s.List(ctx, kv.TableJournal, key, 0)
			calls = append(calls, call{fmt.Sprintf("List(prefix %.20q)", key), errL})
		}
	}
	_, errC := s.Create(ctx, kv.TableJournal, "big", big)
	_, errU := s.Update(ctx, kv.TableJournal, "ok", big, etag)
	_, errE := s.Update(ctx, kv.TableJournal, "ok", []byte("v"), "")
	_, errN := s.List(ctx, kv.TableJournal, "", -1)
	calls = append(calls,
		call{"Create(value of MaxValueBytes+1)", errC},
		call{"Update(value of MaxValueBytes+1)", errU},
		call{"Update(empty etag)", errE},
		call{"List(limit -1)", errN})
	for _, c := range calls {
		if !errors.Is(c.err, kv.ErrInvalid) {
			t.Errorf("%s: error %v, want ErrInvalid", c.name, c.err)
		}
	}
	// Nothing changed, and nothing was created.
	wantItem(t, s, kv.TableJournal, "ok", []byte("v"), etag)
	wantMissing(t, s, kv.TableJournal, "big")
	items, err := s.List(ctx, kv.TableJournal, "", 0)
	if err != nil || !slices.Equal(keysOf(items), []string{"ok"}) {
		t.Fatalf("List after invalid calls = %q, %v; want [ok]", keysOf(items), err)
	}
}

// specialKeys are valid keys made of the characters most likely to be
// mangled by URL paths, OData filters or byte ordering.
func specialKeys() []string {
	keys := []string{
		" ", "   ", "%", "%20", "%2F", "%25", "~", ":", ";", "@", "=", "+", "|", "<", ">",
		"'", "''", "a'b", `"`, "&", "$", "!", "*", "(", ")", ",", "[", "]", "{", "}", "^", "`",
		"a b+c%d~e:f;g@h=i|j<k>l", "x'); drop", "PartitionKey eq 'x'", "..", ".", "-",
		strings.Repeat("z", 512),
	}
	var every strings.Builder
	for c := byte(0x20); c < 0x7f; c++ {
		if kv.ValidKey(string(c)) {
			every.WriteByte(c)
		}
	}
	return append(keys, every.String())
}

func testSpecialKeys(t *testing.T, s kv.Store) {
	keys := specialKeys()
	etags := make(map[string]string)
	for _, k := range keys {
		if !kv.ValidKey(k) {
			t.Fatalf("test key %q is not valid", k)
		}
		etags[k] = mustCreate(t, s, kv.TableRefs, k, []byte("v:"+k))
	}
	for _, k := range keys {
		wantItem(t, s, kv.TableRefs, k, []byte("v:"+k), etags[k])
		_, err := s.Create(t.Context(), kv.TableRefs, k, nil)
		wantErr(t, fmt.Sprintf("Create(%q) again", k), err, kv.ErrExists)
		etags[k] = mustUpdate(t, s, kv.TableRefs, k, []byte("w:"+k), etags[k])
		wantItem(t, s, kv.TableRefs, k, []byte("w:"+k), etags[k])
	}

	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	items, err := s.List(t.Context(), kv.TableRefs, "", 0)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if got := keysOf(items); !slices.Equal(got, sorted) {
		t.Fatalf("List = %q\nwant %q", got, sorted)
	}
	for _, k := range keys {
		var want []string
		for _, o := range sorted {
			if strings.HasPrefix(o, k) {
				want = append(want, o)
			}
		}
		items, err := s.List(t.Context(), kv.TableRefs, k, 0)
		if err != nil {
			t.Fatalf("List(%q): %v", k, err)
		}
		if got := keysOf(items); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, want %q", k, got, want)
		}
	}

	for _, k := range keys {
		if err := s.Delete(t.Context(), kv.TableRefs, k, etags[k]); err != nil {
			t.Fatalf("Delete(%q): %v", k, err)
		}
		wantMissing(t, s, kv.TableRefs, k)
	}
}
