package graphroles

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	abs "github.com/microsoft/kiota-abstractions-go"

	"github.com/keyturn/keyturn/azure/azcloud"
	"github.com/keyturn/keyturn/azure/internal/graphcore"
	"github.com/keyturn/keyturn/rotation"
)

// DefaultMaxAttempts is the number of attempts a request makes when
// Options.MaxAttempts is not set: the first and up to three retries.
const DefaultMaxAttempts = graphcore.DefaultMaxAttempts

// maxPages bounds the pages one listing follows: 500 pages of Graph's
// default 100 entries. A longer chain is refused rather than followed.
const maxPages = 500

// Options tune a Client. The zero value is usable for directory roles and
// groups; app role lookups need ServicePrincipalID.
type Options struct {
	// Logger receives retry notices (IDs, status and codes only). Nil
	// discards them.
	Logger *slog.Logger

	// Sleep waits d or until ctx is done, returning ctx.Err() then. Nil
	// means a timer that honours ctx. Tests pass a fake.
	Sleep func(ctx context.Context, d time.Duration) error

	// MaxAttempts bounds the attempts per request, retries included.
	// Values below 1 mean DefaultMaxAttempts.
	MaxAttempts int

	// BaseURL replaces the cloud's Graph v1.0 root (tests, the sandbox). It
	// must be https, or http to a loopback host. Tokens are sent only to
	// its host.
	BaseURL string

	// ServicePrincipalID is the object ID of Keyturn's own service
	// principal (Enterprise applications → Object ID; not the client ID).
	// Required by AppRoleAssignments, which fails without it. It must be
	// a GUID.
	ServicePrincipalID string
}

// Client implements rotation.RoleDirectory against Microsoft Graph. It is
// safe for concurrent use.
type Client struct {
	adapter    abs.RequestAdapter
	retrier    graphcore.Retrier
	log        *slog.Logger
	base       *url.URL // the adapter's base URL: next links must stay under it
	spID       string   // canonical; "" when not configured
	reqOptions []abs.RequestOption
	maxPages   int
}

var _ rotation.RoleDirectory = (*Client)(nil)

// New returns a Client that authenticates with cred (scope
// c.GraphScope()), sends through hc's transport wrapped in the Graph
// middleware chain (its retry handler switched off) and talks to
// c.GraphBaseURL() unless opts.BaseURL says otherwise. A nil hc means
// outbound's transport without a proxy.
func New(cred azcore.TokenCredential, c azcloud.Cloud, hc *http.Client, opts Options) (*Client, error) {
	var spID string
	if opts.ServicePrincipalID != "" {
		id, ok := graphcore.CanonicalGUID(opts.ServicePrincipalID)
		if !ok {
			return nil, errors.New("graph roles client: service principal id is not a GUID")
		}
		spID = id
	}
	adapter, err := graphcore.NewAdapter(cred, c, hc, opts.BaseURL, nil)
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(adapter.GetBaseUrl())
	if err != nil {
		return nil, errors.New("graph roles client: base url does not parse")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{
		adapter:    adapter,
		retrier:    graphcore.NewRetrier(log, opts.Sleep, opts.MaxAttempts),
		log:        log,
		base:       base,
		spID:       spID,
		reqOptions: graphcore.RequestOptions(),
		maxPages:   maxPages,
	}, nil
}
