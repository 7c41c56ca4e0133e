package graphapps

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	abs "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	kiotaauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/keyturn/keyturn/azure/azcloud"
	"github.com/keyturn/keyturn/internal/outbound"
	"github.com/keyturn/keyturn/rotation"
)

// DefaultMaxAttempts is the number of attempts a call makes when
// Options.MaxAttempts is not set: the first and up to three retries.
const DefaultMaxAttempts = 4

// sdkVersion is the msgraph-sdk-go version pinned in go.mod. It only feeds
// the SdkVersion telemetry header; the root package that exports it is the
// one this package must not import.
const sdkVersion = "1.89.0"

// Options tune a Client. The zero value is usable.
type Options struct {
	// Logger receives retry notices (IDs, status and codes only). Nil
	// discards them.
	Logger *slog.Logger

	// Sleep waits d or until ctx is done, returning ctx.Err() then. Nil
	// means a timer that honours ctx. Tests pass a fake.
	Sleep func(ctx context.Context, d time.Duration) error

	// MaxAttempts bounds the attempts per call, retries included. Values
	// below 1 mean DefaultMaxAttempts.
	MaxAttempts int

	// BaseURL replaces the cloud's Graph v1.0 root (tests, the sandbox). It
	// must be https, or http to a loopback host. Tokens are sent only to
	// its host.
	BaseURL string

	// ServicePrincipalID is the object ID of Keyturn's own service
	// principal. Optional; when set, ErrNotOwner errors quote it in the
	// `az ad app owner add` command they suggest. It must be a GUID.
	ServicePrincipalID string
}

// Client implements rotation.Applications against Microsoft Graph. It is
// safe for concurrent use.
type Client struct {
	adapter     abs.RequestAdapter
	log         *slog.Logger
	sleep       func(ctx context.Context, d time.Duration) error
	maxAttempts int
	ownerID     string // quoted in ErrNotOwner advice
	reqOptions  []abs.RequestOption
}

var _ rotation.Applications = (*Client)(nil)

// New returns a Client that authenticates with cred (scope
// c.GraphScope()), sends through hc's transport wrapped in the Graph
// middleware chain (its retry handler switched off) and talks to
// c.GraphBaseURL() unless opts.BaseURL says otherwise. A nil hc means
// outbound's transport without a proxy.
func New(cred azcore.TokenCredential, c azcloud.Cloud, hc *http.Client, opts Options) (*Client, error) {
	mw, err := graphMiddlewares()
	if err != nil {
		return nil, err
	}
	return newClient(cred, c, hc, opts, mw)
}

// newClient is New with the middleware chain as a parameter, so a test can
// prove that the per-request option alone stops kiota's stock retry handler.
func newClient(cred azcore.TokenCredential, c azcloud.Cloud, hc *http.Client, opts Options, mw []khttp.Middleware) (*Client, error) {
	if cred == nil {
		return nil, errors.New("graph client: token credential is nil")
	}
	if c.GraphURL == "" {
		return nil, errors.New("graph client: cloud has no graph url")
	}
	base := opts.BaseURL
	if base == "" {
		base = c.GraphBaseURL()
	}
	host, err := checkBaseURL(base)
	if err != nil {
		return nil, err
	}
	ownerID := "<keyturn-sp-object-id>"
	if opts.ServicePrincipalID != "" {
		id, ok := canonicalGUID(opts.ServicePrincipalID)
		if !ok {
			return nil, errors.New("graph client: service principal id is not a GUID")
		}
		ownerID = id
	}

	auth, err := kiotaauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(
		cred, []string{c.GraphScope()}, []string{host})
	if err != nil {
		return nil, fmt.Errorf("graph client: auth provider: %w", err)
	}
	if hc == nil {
		hc = outbound.Client(outbound.Transport(nil))
	}
	parent := hc.Transport
	if parent == nil {
		parent = http.DefaultTransport
	}
	// The recorder goes last, next to the wire: it sees every send,
	// whoever makes it.
	chain := append(append([]khttp.Middleware(nil), mw...), recorder{})
	httpClient := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(parent, chain...),
		// The redirect middleware decides; net/http must not follow too.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Jar:           hc.Jar,
		Timeout:       hc.Timeout,
	}

	// Local registries: the SDK's defaults are process-wide globals that the
	// root package fills in; this package neither imports it nor mutates them.
	parsers := absser.NewParseNodeFactoryRegistry()
	parsers.ContentTypeAssociatedFactories["application/json"] = jsonser.NewJsonParseNodeFactory()
	writers := absser.NewSerializationWriterFactoryRegistry()
	writers.ContentTypeAssociatedFactories["application/json"] = jsonser.NewJsonSerializationWriterFactory()

	adapter, err := msgraphcore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, msgraphcore.GraphClientOptions{GraphServiceLibraryVersion: sdkVersion}, parsers, writers, httpClient)
	if err != nil {
		return nil, fmt.Errorf("graph client: request adapter: %w", err)
	}
	adapter.SetBaseUrl(strings.TrimSuffix(base, "/"))

	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sleep := opts.Sleep
	if sleep == nil {
		sleep = rotation.SystemClock{}.Sleep
	}
	attempts := opts.MaxAttempts
	if attempts < 1 {
		attempts = DefaultMaxAttempts
	}
	return &Client{
		adapter:     adapter,
		log:         log,
		sleep:       sleep,
		maxAttempts: attempts,
		ownerID:     ownerID,
		reqOptions:  []abs.RequestOption{noRetryOption()},
	}, nil
}

// checkBaseURL accepts an https URL, or an http one to a loopback host, with
// no credentials, query or fragment, and returns its host name.
func checkBaseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", errors.New("graph client: base url is not an absolute url")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("graph client: base url must not carry credentials, query or fragment")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", errors.New("graph client: base url must be https (http only to a loopback host)")
		}
	default:
		return "", errors.New("graph client: base url must be https")
	}
	return strings.ToLower(u.Hostname()), nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
