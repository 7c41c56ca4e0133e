package main

import (
	"context"
	"fmt"
)

// openStore opens only the state store, for commands that read it and
// nothing else (audit verify and show): the embedded file and a Table
// Storage connection string need no Azure sign-in, so none is asked for.
// stateDir, when set, replaces KEYTURN_STATE_DIR (the sandbox keeps its
// state in <state-dir>/sandbox). A Table Storage endpoint reached with the
// managed identity needs the credential: then it opens as open does.
func (c *cli) openStore(ctx context.Context, stateDir string) (*session, int) {
	getenv := c.getenv
	if stateDir != "" {
		getenv = func(k string) string {
			if k == "KEYTURN_STATE_DIR" {
				return stateDir
			}
			return c.getenv(k)
		}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintf(c.stderr, "configuration:\n%v\n", err)
		return nil, exitUsage
	}
	sc, err := loadStateConfig(getenv)
	if err != nil {
		fmt.Fprintf(c.stderr, "configuration:\n%v\n", err)
		return nil, exitUsage
	}
	if sc.Kind == storeTables && sc.ConnString == "" {
		sub := *c
		sub.getenv = getenv
		return sub.open(ctx)
	}
	store, ping, closeAll, err := openState(ctx, cfg, sc, nil)
	if err != nil {
		fmt.Fprintf(c.stderr, "error: state store: %v\n", err)
		return nil, exitFailure
	}
	return &session{cfg: cfg, store: store, ping: ping, state: sc, close: closeAll}, exitOK
}
