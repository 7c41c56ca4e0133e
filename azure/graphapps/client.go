package graphapps

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	abs "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"

	"github.com/keyturn/keyturn/azure/azcloud"
	"github.com/keyturn/keyturn/azure/internal/graphcore"
	"github.com/keyturn/keyturn/rotation"
)

// DefaultMaxAttempts is the number of attempts a call makes when
// Options.MaxAttempts is not set: the first and up to three retries.
const DefaultMaxAttempts = graphcore.DefaultMaxAttempts

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
	adapter    abs.RequestAdapter
	retrier    graphcore.Retrier
	log        *slog.Logger
	ownerID    string // quoted in ErrNotOwner advice
	reqOptions []abs.RequestOption
}

var _ rotation.Applications = (*Client)(nil)

// New returns a Client that authenticates with cred (scope
// c.GraphScope()), sends through hc's transport wrapped in the Graph
// middleware chain (its retry handler switched off) and talks to
// c.GraphBaseURL() unless opts.BaseURL says otherwise. A nil hc means
// outbound's transport without a proxy.
func New(cred azcore.TokenCredential, c azcloud.Cloud, hc *http.Client, opts Options) (*Client, error) {
	mw, err := graphcore.Middlewares()
	if err != nil {
		return nil, err
	}
	return newClient(cred, c, hc, opts, mw)
}

// newClient is New with the middleware chain as a parameter, so a test can
// prove that the per-request option alone stops kiota's stock retry handler.
func newClient(cred azcore.TokenCredential, c azcloud.Cloud, hc *http.Client, opts Options, mw []khttp.Middleware) (*Client, error) {
	ownerID := "<keyturn-sp-object-id>"
	if opts.ServicePrincipalID != "" {
		id, ok := graphcore.CanonicalGUID(opts.ServicePrincipalID)
		if !ok {
			return nil, errors.New("graph client: service principal id is not a GUID")
		}
		ownerID = id
	}
	adapter, err := graphcore.NewAdapter(cred, c, hc, opts.BaseURL, mw)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{
		adapter:    adapter,
		retrier:    graphcore.NewRetrier(log, opts.Sleep, opts.MaxAttempts),
		log:        log,
		ownerID:    ownerID,
		reqOptions: graphcore.RequestOptions(),
	}, nil
}
