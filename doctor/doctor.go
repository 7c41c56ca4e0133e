package doctor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// GraphAppID is the app ID of Microsoft Graph's service principal, the
// same in every tenant.
const GraphAppID = "00000003-0000-0000-c000-000000000000"

// Store kinds, as KEYTURN_STORE names them.
const (
	StoreBolt   = "bbolt"
	StoreTables = "azure-tables"
)

// App is an app the policy lists.
type App struct {
	Alias    string
	ClientID string
	// Lifetime is the lifetime a rotation of this app asks for.
	Lifetime time.Duration
}

// Config is the setup to check, as cmd/bot loaded it: plain data.
type Config struct {
	// GraphURL is the cloud's Graph root (https://graph.microsoft.com),
	// quoted in az rest fixes.
	GraphURL   string
	GraphScope string
	VaultScope string
	// PrincipalID is the object ID of Keyturn's service principal
	// (KEYTURN_PRINCIPAL_ID), if configured.
	PrincipalID string
	// ClientID is Keyturn's own client ID (MicrosoftAppId or
	// AZURE_CLIENT_ID), if configured.
	ClientID string

	// PolicySource names the policy ("built-in", a file path).
	PolicySource string
	// PolicyErr is the policy's parse or validation error; nil when it
	// parsed. The fields below are what it says.
	PolicyErr error
	Apps      []App
	Vaults    []string // canonical vault URIs
	Roles     []rotation.RoleSource
	Tenants   []string

	// BotAppID is MicrosoftAppId; empty means emulator mode.
	BotAppID   string
	BotAppType string

	// Store is StoreBolt or StoreTables; StoreWhere says where, for people.
	Store      string
	StoreWhere string
	Table      string

	// WriteProbe runs the vault write probe.
	WriteProbe bool
	// ProbeName names a vault's probe secret; nil means
	// "keyturn-doctor-probe-" and 8 random hex digits.
	ProbeName func() string
}

// Probes are the live views of the setup. A nil probe makes its checks
// Unknown, with the reason.
type Probes struct {
	Tokens     Tokens
	Principals Principals
	Apps       Apps
	Directory  Directory
	Vaults     Vaults
	Resources  VaultResources
	OpenID     Pinger // the Bot Framework OpenID metadata and keys
	Connector  Pinger // a connector token for MicrosoftAppId
	Store      Pinger
}

// run is one doctor run: what earlier checks learnt, for later ones.
type run struct {
	cfg Config
	p   Probes
	rep Report

	claims *Claims           // from the Graph token
	sp     *ServicePrincipal // Keyturn's
}

// Run makes every check and returns the checklist. It changes nothing
// unless cfg.WriteProbe is set.
func Run(ctx context.Context, cfg Config, p Probes) Report {
	r := &run{cfg: cfg, p: p}
	r.identity(ctx)
	r.graph(ctx)
	r.apps(ctx)
	r.vaults(ctx)
	r.bot(ctx)
	r.store(ctx)
	r.policy(ctx)
	return r.rep
}

// spID is Keyturn's service principal object ID, or a placeholder for
// fixes.
func (r *run) spID() string {
	switch {
	case r.sp != nil:
		return r.sp.ObjectID
	case r.cfg.PrincipalID != "":
		return r.cfg.PrincipalID
	}
	return "<keyturn-sp-object-id>"
}

// clientID is Keyturn's own client ID, or a placeholder for fixes.
func (r *run) clientID() string {
	switch {
	case r.sp != nil && r.sp.AppID != "":
		return r.sp.AppID
	case r.cfg.ClientID != "":
		return r.cfg.ClientID
	}
	return "<keyturn-client-id>"
}

func (r *run) probeName() string {
	if r.cfg.ProbeName != nil {
		return r.cfg.ProbeName()
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "keyturn-doctor-probe-" + hex.EncodeToString(b[:])
}

// vaultName is the first label of a vault URI's host.
func vaultName(uri string) string {
	host := strings.TrimSuffix(strings.TrimPrefix(uri, "https://"), "/")
	name, _, _ := strings.Cut(host, ".")
	return name
}

// days writes d as whole days where it is.
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
