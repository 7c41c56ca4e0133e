package tablekv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/keyturn/keyturn/store/kv"
)

// Entity property names.
const (
	propValue     = "v"
	edmBinary     = "Edm.Binary"
	propValueType = propValue + "@odata.type"
)

// entityOut is an entity as Store writes it.
type entityOut struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	Value        []byte `json:"v"` // encoding/json writes base64, as Edm.Binary wants
	ValueType    string `json:"v@odata.type"`
}

// entityIn is the part of a returned entity (minimal metadata) Store reads.
type entityIn struct {
	RowKey    string  `json:"RowKey"`
	Value     *[]byte `json:"v"`
	ValueType string  `json:"v@odata.type"`
	ETag      string  `json:"odata.etag"`
}

// encode returns the JSON entity for an item.
func encode(table, key string, value []byte) ([]byte, error) {
	if value == nil {
		value = []byte{}
	}
	return json.Marshal(entityOut{PartitionKey: table, RowKey: key, Value: value, ValueType: edmBinary})
}

// decode reads an entity returned by the service; etag, when not empty,
// overrides the entity's own odata.etag (GetEntity returns it as a header).
func decode(raw []byte, etag string) (kv.Item, error) {
	var e entityIn
	if err := json.Unmarshal(raw, &e); err != nil {
		return kv.Item{}, fmt.Errorf("decode entity: %w", err)
	}
	if e.Value == nil || e.ValueType != edmBinary {
		return kv.Item{}, fmt.Errorf("entity %q has no binary %q property: %w", e.RowKey, propValue, ErrCorrupt)
	}
	if etag == "" {
		etag = e.ETag
	}
	if etag == "" {
		return kv.Item{}, fmt.Errorf("entity %q has no etag: %w", e.RowKey, ErrCorrupt)
	}
	value := *e.Value
	if value == nil {
		value = []byte{}
	}
	return kv.Item{Key: e.RowKey, Value: value, ETag: etag}, nil
}

// Get implements kv.Store.
func (s *Store) Get(ctx context.Context, table, key string) (kv.Item, error) {
	if err := check(table, key); err != nil {
		return kv.Item{}, fmt.Errorf("get %s: %w", table, err)
	}
	resp, err := s.client.GetEntity(ctx, table, key, nil)
	if err != nil {
		return kv.Item{}, fmt.Errorf("get %s %q: %w", table, key, translate(err))
	}
	it, err := decode(resp.Value, string(resp.ETag))
	if err != nil {
		return kv.Item{}, fmt.Errorf("get %s %q: %w", table, key, err)
	}
	it.Key = key
	return it, nil
}

// Create implements kv.Store.
func (s *Store) Create(ctx context.Context, table, key string, value []byte) (string, error) {
	body, err := checkWrite(table, key, value)
	if err != nil {
		return "", fmt.Errorf("create in %s: %w", table, err)
	}
	resp, err := s.client.AddEntity(ctx, body, nil)
	if err != nil {
		return "", fmt.Errorf("create %s %q: %w", table, key, translate(err))
	}
	return string(resp.ETag), nil
}

// Update implements kv.Store. A missing entity is ErrNotFound whatever
// the etag, as the service reports it.
func (s *Store) Update(ctx context.Context, table, key string, value []byte, etag string) (string, error) {
	body, err := checkWrite(table, key, value)
	if err != nil {
		return "", fmt.Errorf("update in %s: %w", table, err)
	}
	if etag == "" {
		// The SDK would send If-Match: * for an empty etag.
		return "", fmt.Errorf("update %s %q: empty etag: %w", table, key, kv.ErrInvalid)
	}
	match := azcore.ETag(etag)
	resp, err := s.client.UpdateEntity(ctx, body, &aztables.UpdateEntityOptions{
		IfMatch: &match, UpdateMode: aztables.UpdateModeReplace,
	})
	if err != nil {
		return "", fmt.Errorf("update %s %q: %w", table, key, translate(err))
	}
	return string(resp.ETag), nil
}

// Delete implements kv.Store.
func (s *Store) Delete(ctx context.Context, table, key, etag string) error {
	if err := check(table, key); err != nil {
		return fmt.Errorf("delete in %s: %w", table, err)
	}
	match := azcore.ETagAny
	if etag != "" {
		match = azcore.ETag(etag)
	}
	_, err := s.client.DeleteEntity(ctx, table, key, &aztables.DeleteEntityOptions{IfMatch: &match})
	if err = translate(err); err != nil && !errors.Is(err, kv.ErrNotFound) {
		return fmt.Errorf("delete %s %q: %w", table, key, err)
	}
	return nil
}

// List implements kv.Store with one range query on the table's partition,
// following continuation tokens until limit items are read.
func (s *Store) List(ctx context.Context, table, prefix string, limit int) ([]kv.Item, error) {
	if err := checkList(table, prefix, limit); err != nil {
		return nil, fmt.Errorf("list %s: %w", table, err)
	}
	filter := listFilter(table, prefix)
	opts := &aztables.ListEntitiesOptions{Filter: &filter}
	if top := s.pageTop(limit); top > 0 {
		opts.Top = &top
	}
	var items []kv.Item
	pager := s.client.NewListEntitiesPager(opts)
	for pager.More() && (limit == 0 || len(items) < limit) {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s %q: %w", table, prefix, translate(err))
		}
		for _, raw := range page.Entities {
			if limit > 0 && len(items) == limit {
				break
			}
			it, err := decode(raw, "")
			if err != nil {
				return nil, fmt.Errorf("list %s %q: %w", table, prefix, err)
			}
			items = append(items, it)
		}
	}
	return items, nil
}

// pageTop is the $top for a List with limit: the smaller of limit and the
// page size, zero when neither bounds it.
func (s *Store) pageTop(limit int) int32 {
	top := s.pageSize
	if limit > 0 && (top == 0 || int64(limit) < int64(top)) {
		top = int32(min(limit, 1000))
	}
	return top
}
