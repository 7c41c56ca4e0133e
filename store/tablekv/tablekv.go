// Package tablekv is a kv.Store on Azure Table Storage (or Cosmos DB's Table
// API), for deployments with several replicas. It imports kv and the Azure
// SDK (aztables, azcore); never rotation's adapters or the bot, and no SDK
// type leaves it.
//
// Every kv table lives in ONE Azure table (Options.Table, default
// DefaultTable): the PartitionKey is the kv table's name, the RowKey the
// key (kv.ValidKey keys are valid RowKeys), and the value is the binary
// property "v" (Edm.Binary; kv.MaxValueBytes stays under the service's
// 64 KiB property limit). ETags are the service's: Create is an insert that
// fails when the entity exists, Update a replace with If-Match, Delete a
// delete with If-Match (or "*"), so the service decides every race.
//
// Values are never logged or put in errors; keys and table names may be.
package tablekv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/keyturn/keyturn/store/kv"
)

// DefaultTable is the Azure table used when Options.Table is empty.
const DefaultTable = "keyturn"

// maxBinaryProperty is Azure Tables' limit on one binary property.
const maxBinaryProperty = 64 << 10

// The value must fit in one property: this fails to compile otherwise.
const _ = uint(maxBinaryProperty - kv.MaxValueBytes)

// Options configure a Store.
type Options struct {
	// Table is the Azure table that holds every kv table: 3 to 63 letters
	// and digits, starting with a letter. Empty means DefaultTable.
	Table string
	// Transport sends the HTTP requests; nil means azcore's default (which
	// honours the environment's proxy settings).
	Transport policy.Transporter
	// Logger receives the few events worth logging (table creation); nil
	// discards them.
	Logger *slog.Logger
}

// Store is a kv.Store on one Azure table. It is safe for concurrent use by
// several goroutines and several processes.
//
// Beyond kv.Store's contract: every method returns an error wrapping
// ErrTableNotFound when the Azure table does not exist (see CreateTable),
// and Get and List one wrapping ErrCorrupt for an entity that has no binary
// "v" property. Other service and network errors are returned wrapped.
// azcore retries a write whose response was lost; such a write may then
// report ErrExists or ErrConflict although it took effect, so callers
// re-read after a conflict, as they must anyway.
type Store struct {
	service *aztables.ServiceClient
	client  *aztables.Client
	table   string
	log     *slog.Logger
	// pageSize bounds the entities per List request; zero means the
	// service's page size (1000). Tests lower it to exercise paging.
	pageSize int32
}

var _ kv.Store = (*Store)(nil)

// azureTableName is the rule Azure applies to table names.
var azureTableName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{2,62}$`)

// NewWithCredential returns a Store on the table service at serviceURL
// (such as https://ACCOUNT.table.core.windows.net), authenticated with a
// Microsoft Entra token from cred: a managed identity in production. The
// identity needs the "Storage Table Data Contributor" role.
func NewWithCredential(serviceURL string, cred azcore.TokenCredential, opts Options) (*Store, error) {
	table, copts, err := prepare(opts)
	if err != nil {
		return nil, err
	}
	if cred == nil {
		return nil, errors.New("table store: nil credential")
	}
	svc, err := aztables.NewServiceClient(serviceURL, cred, copts)
	if err != nil {
		return nil, fmt.Errorf("table store client for %s: %w", serviceURL, err)
	}
	return newStore(svc, table, opts.Logger), nil
}

// NewFromConnectionString returns a Store on the account a storage
// connection string names, authenticated with its account key or SAS: for
// Azurite and development. The connection string holds a credential, so it
// never appears in errors or logs.
func NewFromConnectionString(connectionString string, opts Options) (*Store, error) {
	table, copts, err := prepare(opts)
	if err != nil {
		return nil, err
	}
	svc, err := aztables.NewServiceClientFromConnectionString(connectionString, copts)
	if err != nil {
		// The SDK's parse errors quote no part of the string.
		return nil, fmt.Errorf("table store from connection string: %w", err)
	}
	return newStore(svc, table, opts.Logger), nil
}

// prepare checks opts and returns the table name and SDK client options.
func prepare(opts Options) (string, *aztables.ClientOptions, error) {
	table := opts.Table
	if table == "" {
		table = DefaultTable
	}
	if !azureTableName.MatchString(table) || strings.EqualFold(table, "tables") {
		return "", nil, fmt.Errorf("table store: bad Azure table name %q (3-63 letters and digits, starting with a letter): %w",
			table, kv.ErrInvalid)
	}
	copts := &aztables.ClientOptions{}
	copts.Transport = opts.Transport
	return table, copts, nil
}

func newStore(svc *aztables.ServiceClient, table string, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Store{service: svc, client: svc.NewClient(table), table: table, log: log}
}

// Table returns the name of the Azure table the store uses.
func (s *Store) Table() string { return s.table }

// CreateTable creates the Azure table if it does not exist yet; an existing
// table is not an error.
func (s *Store) CreateTable(ctx context.Context) error {
	_, err := s.service.CreateTable(ctx, s.table, nil)
	if err == nil {
		s.log.InfoContext(ctx, "created azure table", "table", s.table)
		return nil
	}
	if errors.Is(translate(err), errTableExists) {
		return nil
	}
	return fmt.Errorf("create azure table %s: %w", s.table, translate(err))
}

// Ping reports whether the store can serve reads: nil when the table
// exists and the credential may query it. It reads at most one entity.
func (s *Store) Ping(ctx context.Context) error {
	top := int32(1)
	sel := "PartitionKey"
	pager := s.client.NewListEntitiesPager(&aztables.ListEntitiesOptions{Top: &top, Select: &sel})
	if _, err := pager.NextPage(ctx); err != nil {
		return fmt.Errorf("ping azure table %s: %w", s.table, translate(err))
	}
	return nil
}

// DeleteTable removes the Azure table and everything in it. Tests use it
// to clean up; Keyturn itself never calls it.
func (s *Store) DeleteTable(ctx context.Context) error {
	if _, err := s.service.DeleteTable(ctx, s.table, nil); err != nil {
		return fmt.Errorf("delete azure table %s: %w", s.table, translate(err))
	}
	return nil
}
