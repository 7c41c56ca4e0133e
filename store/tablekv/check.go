package tablekv

import "github.com/keyturn/keyturn/store/kv"

// check rejects a table or key the kv rules reject, before any request.
func check(table, key string) error { return kv.CheckItem(table, key) }

// checkWrite is kv.CheckWrite; it returns the entity to send.
func checkWrite(table, key string, value []byte) ([]byte, error) {
	if err := kv.CheckWrite(table, key, value); err != nil {
		return nil, err
	}
	return encode(table, key, value)
}

// checkList is kv.CheckList.
func checkList(table, prefix string, limit int) error { return kv.CheckList(table, prefix, limit) }
