package graphapps

import (
	"context"
	"errors"
	"net"
	"testing"

	khttp "github.com/microsoft/kiota-http-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/keyturn/keyturn/azure/azcloud"
	"github.com/keyturn/keyturn/azure/internal/graphcore"
	"github.com/keyturn/keyturn/azure/internal/graphcore/graphtest"
)

// stockMiddlewares is the Graph SDK's default chain, retry handler included.
func stockMiddlewares() []khttp.Middleware {
	return msgraphcore.GetDefaultMiddlewaresWithOptions(&msgraphcore.GraphClientOptions{})
}

// stockRetryChain is kiota's RetryHandler with the default options the Graph
// chain gives it (retry 429/503/504, POSTs included), alone: the stock chain
// orders its middlewares by map iteration, and in some orders a retried POST
// goes out with a gzip header over an uncompressed body, which would blur
// the count this proof relies on.
func stockRetryChain() []khttp.Middleware {
	return []khttp.Middleware{khttp.NewRetryHandler()}
}

// rawAddPassword posts addPassword through c's adapter without Keyturn's
// request options.
func rawAddPassword(c *Client) error {
	name := "raw"
	end := testEnd
	cred := models.NewPasswordCredential()
	cred.SetDisplayName(&name)
	cred.SetEndDateTime(&end)
	body := applications.NewItemAddPasswordPostRequestBody()
	body.SetPasswordCredential(cred)
	_, err := applications.NewApplicationsRequestBuilderInternal(map[string]string{}, c.adapter).
		ByApplicationId(testObjectID).AddPassword().Post(context.Background(), body, nil)
	return err
}

func TestNewChainHasNoRetryingHandler(t *testing.T) {
	h := newHarness(t)
	h.graph.Inject(graphtest.Fault{Method: "POST", Suffix: "/addPassword", Status: 503, Code: "ServiceUnavailable", Times: -1,
		Header: map[string]string{"Retry-After": "0"}})
	// Without the per-request option, New's chain still sends once.
	if err := rawAddPassword(h.c); err == nil {
		t.Fatal("raw addPassword succeeded against a 503")
	}
	if n := h.graph.Count("POST", "/addPassword"); n != 1 {
		t.Errorf("New's middleware chain sent %d POSTs, want 1", n)
	}
	mw, err := graphcore.Middlewares()
	if err != nil {
		t.Fatal(err)
	}
	if len(mw) != len(stockMiddlewares()) {
		t.Errorf("chain has %d middlewares, stock has %d", len(mw), len(stockMiddlewares()))
	}
}

func TestNewValidation(t *testing.T) {
	cloud := graphtest.Cloud(t)
	cred := &graphtest.Credential{}
	tests := []struct {
		name string
		cred *graphtest.Credential
		c    azcloud.Cloud
		opts Options
	}{
		{"nil credential", nil, cloud, Options{}},
		{"no cloud", cred, azcloud.Cloud{}, Options{}},
		{"http to a remote host", cred, cloud, Options{BaseURL: "http://graph.example.com/v1.0"}},
		{"credentials in url", cred, cloud, Options{BaseURL: "https://u:p@graph.microsoft.com/v1.0"}},
		{"query in url", cred, cloud, Options{BaseURL: "https://graph.microsoft.com/v1.0?x=1"}},
		{"relative url", cred, cloud, Options{BaseURL: "/v1.0"}},
		{"ftp", cred, cloud, Options{BaseURL: "ftp://graph.microsoft.com/v1.0"}},
		{"bad sp id", cred, cloud, Options{ServicePrincipalID: "keyturn"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.cred == nil {
				_, err = New(nil, tc.c, nil, tc.opts)
			} else {
				_, err = New(tc.cred, tc.c, nil, tc.opts)
			}
			if err == nil {
				t.Error("New accepted it")
			}
		})
	}
	c, err := New(cred, cloud, nil, Options{})
	if err != nil {
		t.Fatalf("New with defaults: %v", err)
	}
	if got := c.adapter.GetBaseUrl(); got != "https://graph.microsoft.com/v1.0" {
		t.Errorf("base url = %q", got)
	}
	if c.retrier.MaxAttempts() != DefaultMaxAttempts || c.log == nil {
		t.Errorf("defaults not applied: %+v", c)
	}
	for _, base := range []string{"http://127.0.0.1:8080/v1.0", "http://localhost:1/v1.0", "http://[::1]:1/v1.0", "https://graph.microsoft.us/v1.0/"} {
		if _, err := New(cred, cloud, nil, Options{BaseURL: base}); err != nil {
			t.Errorf("New(BaseURL %s): %v", base, err)
		}
	}
}

// TestTokensOnlyForTheGraphHost: the auth provider attaches tokens only to
// the base URL's host.
func TestTokensOnlyForTheGraphHost(t *testing.T) {
	h := newHarness(t)
	c, err := New(h.cred, graphtest.Cloud(t), nil, Options{BaseURL: h.graph.URL + "/v1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetApp(context.Background(), testClientID); err != nil {
		t.Fatalf("GetApp: %v", err)
	}
	if got := h.graph.Seen()[0].Header.Get("Authorization"); got != "Bearer "+graphtest.Token {
		t.Errorf("Authorization to the base url host = %q", got)
	}
	// Same server reached under another name: no token goes there.
	_, port, err := net.SplitHostPort(h.graph.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.adapter.SetBaseUrl("http://localhost:" + port + "/v1.0")
	_, err = c.GetApp(context.Background(), testClientID)
	var ge *graphError
	if !errors.As(err, &ge) || ge.Facts.Status != 401 {
		t.Fatalf("err = %v, want the fake's 401 for a request without token", err)
	}
	if got := h.graph.Seen()[1].Header.Get("Authorization"); got != "" {
		t.Errorf("token sent to a host other than the base url's: %q", got)
	}
}
