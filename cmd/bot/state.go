package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/keyturn/keyturn/internal/outbound"
	"github.com/keyturn/keyturn/store/boltkv"
	"github.com/keyturn/keyturn/store/kv"
	"github.com/keyturn/keyturn/store/kvstore"
	"github.com/keyturn/keyturn/store/tablekv"
)

// Store backends (KEYTURN_STORE).
const (
	storeBolt   = "bbolt"
	storeTables = "azure-tables"
)

// stateConfig says where Keyturn's state lives.
type stateConfig struct {
	Kind     string // storeBolt or storeTables
	TableURL string // https://<account>.table.core.windows.net (managed identity)
	Table    string
	// ConnString is for Azurite and development only: it holds an account
	// key, which Keyturn never needs in Azure.
	ConnString string
}

func loadStateConfig(getenv env) (stateConfig, error) {
	c := stateConfig{
		Kind:       strings.ToLower(getenv.first("KEYTURN_STORE")),
		TableURL:   getenv.first("KEYTURN_TABLES_URL"),
		Table:      getenv.first("KEYTURN_TABLES_TABLE"),
		ConnString: getenv.first("KEYTURN_TABLES_CONNECTION_STRING"),
	}
	switch c.Kind {
	case "", storeBolt:
		c.Kind = storeBolt
	case storeTables:
		if (c.TableURL == "") == (c.ConnString == "") {
			return c, errors.New("KEYTURN_STORE=azure-tables needs KEYTURN_TABLES_URL (managed identity) or, for Azurite, KEYTURN_TABLES_CONNECTION_STRING")
		}
		if c.TableURL != "" && !strings.HasPrefix(c.TableURL, "https://") {
			return c, fmt.Errorf("KEYTURN_TABLES_URL: %q must be https", c.TableURL)
		}
	default:
		return c, fmt.Errorf("KEYTURN_STORE: %q is not bbolt or azure-tables", c.Kind)
	}
	return c, nil
}

// describe says which store is in use, for the first log lines.
func (c stateConfig) describe(stateDir string) string {
	if c.Kind == storeTables {
		if c.TableURL != "" {
			return "azure tables at " + c.TableURL + " (shared by replicas)"
		}
		return "azure tables from a connection string (development)"
	}
	return "bbolt at " + filepath.Join(stateDir, "keyturn.db") + " (one replica)"
}

// openState opens the state store. cred is used for Azure Tables with a
// URL; it may be nil otherwise.
func openState(ctx context.Context, cfg config, sc stateConfig, cred azcore.TokenCredential) (*kvstore.Store, func(ctx context.Context) error, func(), error) {
	var backend kv.Store
	var ping func(ctx context.Context) error
	var closer func()
	switch sc.Kind {
	case storeTables:
		opts := tablekv.Options{Table: sc.Table, Transport: outbound.Client(outbound.Transport(outbound.ProxyFunc(cfg.Proxy)))}
		var t *tablekv.Store
		var err error
		if sc.ConnString != "" {
			t, err = tablekv.NewFromConnectionString(sc.ConnString, opts)
		} else {
			if cred == nil {
				return nil, nil, nil, errors.New("azure tables: no Azure credential")
			}
			t, err = tablekv.NewWithCredential(sc.TableURL, cred, opts)
		}
		if err != nil {
			return nil, nil, nil, err
		}
		if err := t.CreateTable(ctx); err != nil {
			return nil, nil, nil, err
		}
		backend, ping, closer = t, t.Ping, func() {}
	default:
		b, err := boltkv.Open(filepath.Join(cfg.StateDir, "keyturn.db"), boltkv.Options{})
		if err != nil {
			return nil, nil, nil, err
		}
		backend, ping, closer = b, b.Ping, func() { _ = b.Close() }
	}
	return kvstore.New(crashStore(backend), nil), ping, closer, nil
}
