// Package keyvault implements rotation.Vault with the Azure Key Vault secrets
// client (azsecrets). It is the one place in Keyturn that hands a secret
// value to Key Vault, and the one place that turns Key Vault's errors into
// rotation's sentinels.
//
// The package imports rotation, azcloud and outbound; it must not import the
// bot, the Graph adapter or cmd/bot. azsecrets types stop here.
package keyvault

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/keyturn/keyturn/azure/azcloud"
	"github.com/keyturn/keyturn/internal/outbound"
	"github.com/keyturn/keyturn/rotation"
)

// DefaultRecoverTimeout bounds how long Recover waits, in total sleep time,
// for a recovered secret to become readable.
const DefaultRecoverTimeout = 2 * time.Minute

// Options configures a Vault. The zero value refuses every vault (no
// VaultSuffix) and is therefore safe.
type Options struct {
	// Transport sends the requests: Keyturn's outbound *http.Client. Nil
	// means a new outbound transport without a proxy.
	Transport policy.Transporter

	// Logger receives debug lines with IDs only. Nil discards.
	Logger *slog.Logger

	// Sleep waits for d or until ctx is done (returning ctx.Err()). Recover
	// uses it between reads. Nil means a timer.
	Sleep func(ctx context.Context, d time.Duration) error

	// VaultSuffix is the cloud's Key Vault DNS suffix (azcloud.Cloud's
	// VaultSuffix, e.g. "vault.azure.net"). Vault URIs whose host does not
	// end in it are refused before any token is requested.
	VaultSuffix string

	// PrincipalID is the object ID of Keyturn's service principal, used
	// only to make the "grant access" hint in ErrVaultForbidden errors
	// copy-pasteable. Empty prints a placeholder.
	PrincipalID string

	// RecoverTimeout bounds Recover's wait; zero means DefaultRecoverTimeout.
	RecoverTimeout time.Duration

	// ClientOptions, when set, may adjust the options of every azsecrets
	// client before it is created (tests disable retries with it).
	ClientOptions func(*azsecrets.ClientOptions)
}

// Vault implements rotation.Vault for the vaults of one Azure cloud. It keeps
// one azsecrets client per vault, created on first use. It is safe for
// concurrent use.
type Vault struct {
	cred  azcore.TokenCredential
	opts  Options
	cloud azcloud.Cloud
	log   *slog.Logger
	sleep func(context.Context, time.Duration) error

	mu      sync.Mutex
	clients map[string]*azsecrets.Client // by canonical vault URI
}

var _ rotation.Vault = (*Vault)(nil)

// New returns a Vault that authenticates with cred.
func New(cred azcore.TokenCredential, opts Options) *Vault {
	if opts.Transport == nil {
		opts.Transport = outbound.Client(outbound.Transport(nil))
	}
	if opts.RecoverTimeout <= 0 {
		opts.RecoverTimeout = DefaultRecoverTimeout
	}
	v := &Vault{
		cred:    cred,
		opts:    opts,
		cloud:   azcloud.Cloud{VaultSuffix: strings.TrimPrefix(opts.VaultSuffix, ".")},
		log:     opts.Logger,
		sleep:   opts.Sleep,
		clients: map[string]*azsecrets.Client{},
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	if v.sleep == nil {
		v.sleep = rotation.SystemClock{}.Sleep
	}
	return v
}

// client returns the cached client for ref's vault and the canonical vault
// URI, refusing vaults outside the configured suffix (rotation.ErrInvalid).
func (v *Vault) client(ref rotation.SecretRef) (*azsecrets.Client, string, error) {
	if v.cloud.VaultSuffix == "" {
		return nil, "", fmt.Errorf("vault %q: no Key Vault DNS suffix configured: %w", ref.VaultURI, rotation.ErrInvalid)
	}
	uri, err := v.cloud.VaultURI(ref.VaultURI)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", err, rotation.ErrInvalid)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if c, ok := v.clients[uri]; ok {
		return c, uri, nil
	}
	co := &azsecrets.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: v.opts.Transport,
		Telemetry: policy.TelemetryOptions{ApplicationID: "keyturn"},
	}}
	if v.opts.ClientOptions != nil {
		v.opts.ClientOptions(co)
	}
	c, err := azsecrets.NewClient(uri, markedCredential{cred: v.cred}, co)
	if err != nil {
		return nil, "", fmt.Errorf("create Key Vault client for %s: %w", uri, err)
	}
	v.clients[uri] = c
	return c, uri, nil
}

// vaultName returns the vault's name: the first label of its host.
func vaultName(uri string) string {
	host := strings.TrimSuffix(strings.TrimPrefix(uri, "https://"), "/")
	name, _, _ := strings.Cut(host, ".")
	return name
}
