// Package identity builds Keyturn's Entra ID token credentials (azidentity)
// and implements rotation.Verifier, which proves a new client secret works by
// acquiring a token with it.
//
// The package imports rotation and outbound; it must not import the bot, the
// other Azure adapters or cmd/bot. It never reads the environment itself:
// the authority host comes resolved in Options (azidentity would otherwise
// read AZURE_AUTHORITY_HOST on its own), except for what
// DefaultAzureCredential reads by design.
package identity

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/keyturn/keyturn/internal/outbound"
	"github.com/keyturn/keyturn/rotation"
)

// Options configures the credentials and the verifier.
type Options struct {
	// Cloud names the Entra ID authority (azcloud.Cloud.AzCore(), with any
	// AZURE_AUTHORITY_HOST override already applied by cmd/bot). Its
	// ActiveDirectoryAuthorityHost must be set.
	Cloud cloud.Configuration

	// Transport sends token requests: Keyturn's outbound *http.Client. Nil
	// means a new outbound transport without a proxy.
	Transport policy.Transporter

	// TenantID is Keyturn's home tenant, used by Default and as the
	// verifier's tenant when NewVerifier is given none.
	TenantID string

	// Logger receives debug lines with IDs and error codes only. Nil
	// discards.
	Logger *slog.Logger

	// Retry tunes azcore's retries of token requests; the zero value keeps
	// azcore's defaults (3 retries of 408, 429, 5xx and network failures).
	Retry policy.RetryOptions

	// DisableInstanceDiscovery skips Entra's instance metadata request;
	// only for private authorities (Azure Stack, tests).
	DisableInstanceDiscovery bool
}

// errNoAuthority is returned when Options.Cloud names no authority host.
var errNoAuthority = errors.New("no Entra ID authority host configured (Options.Cloud.ActiveDirectoryAuthorityHost)")

// clientOptions returns the azcore options every credential uses.
func (o Options) clientOptions() (azcore.ClientOptions, error) {
	if o.Cloud.ActiveDirectoryAuthorityHost == "" {
		return azcore.ClientOptions{}, errNoAuthority
	}
	t := o.Transport
	if t == nil {
		t = outbound.Client(outbound.Transport(nil))
	}
	return azcore.ClientOptions{
		Cloud:     o.Cloud,
		Transport: t,
		Telemetry: policy.TelemetryOptions{ApplicationID: "keyturn"},
		Retry:     o.Retry,
	}, nil
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// Default returns azidentity's DefaultAzureCredential (environment, workload
// identity, managed identity, Azure CLI, ...), for the CLI.
func Default(opts Options) (azcore.TokenCredential, error) {
	co, err := opts.clientOptions()
	if err != nil {
		return nil, fmt.Errorf("default credential: %w", err)
	}
	c, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
		ClientOptions:            co,
		TenantID:                 opts.TenantID,
		DisableInstanceDiscovery: opts.DisableInstanceDiscovery,
	})
	if err != nil {
		return nil, fmt.Errorf("default credential: %w", err)
	}
	return c, nil
}

// ManagedIdentity returns a managed identity credential: the user-assigned
// identity clientID, or the system-assigned one when clientID is empty.
func ManagedIdentity(clientID string, opts Options) (azcore.TokenCredential, error) {
	co, err := opts.clientOptions()
	if err != nil {
		return nil, fmt.Errorf("managed identity credential: %w", err)
	}
	mo := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: co}
	if clientID != "" {
		mo.ID = azidentity.ClientID(clientID)
	}
	c, err := azidentity.NewManagedIdentityCredential(mo)
	if err != nil {
		return nil, fmt.Errorf("managed identity credential: %w", err)
	}
	return c, nil
}

// ClientSecret returns a credential for the application clientID in tenant
// that authenticates with secret (Keyturn's own MicrosoftAppPassword).
func ClientSecret(tenant, clientID string, secret rotation.Secret, opts Options) (azcore.TokenCredential, error) {
	if secret.IsZero() {
		return nil, fmt.Errorf("client secret credential for %s: empty secret: %w", clientID, rotation.ErrInvalid)
	}
	c, err := newSecretCredential(tenant, clientID, secret, opts)
	if err != nil {
		return nil, fmt.Errorf("client secret credential for %s: %w", clientID, err)
	}
	return c, nil
}

// newSecretCredential builds a ClientSecretCredential; each one has its own,
// empty token cache.
func newSecretCredential(tenant, clientID string, secret rotation.Secret, opts Options) (*azidentity.ClientSecretCredential, error) {
	co, err := opts.clientOptions()
	if err != nil {
		return nil, err
	}
	c, err := azidentity.NewClientSecretCredential(tenant, clientID, secret.Reveal(), &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            co,
		DisableInstanceDiscovery: opts.DisableInstanceDiscovery,
	})
	if err != nil {
		return nil, redact(err, secret)
	}
	return c, nil
}

// ClientCertificate returns a credential for the application clientID in
// tenant that authenticates with a certificate; pemBytes holds the
// certificate (chain) and its unencrypted private key, in PEM.
func ClientCertificate(tenant, clientID string, pemBytes []byte, opts Options) (azcore.TokenCredential, error) {
	co, err := opts.clientOptions()
	if err != nil {
		return nil, fmt.Errorf("client certificate credential for %s: %w", clientID, err)
	}
	certs, key, err := azidentity.ParseCertificates(pemBytes, nil)
	if err != nil {
		// The parser's message is not repeated: it describes key material.
		return nil, fmt.Errorf("client certificate credential for %s: PEM must hold a certificate and its unencrypted private key: %w", clientID, rotation.ErrInvalid)
	}
	c, err := azidentity.NewClientCertificateCredential(tenant, clientID, certs, key, &azidentity.ClientCertificateCredentialOptions{
		ClientOptions:            co,
		DisableInstanceDiscovery: opts.DisableInstanceDiscovery,
	})
	if err != nil {
		return nil, fmt.Errorf("client certificate credential for %s: %w", clientID, err)
	}
	return c, nil
}
