package graphcore

import (
	"errors"
	"fmt"
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
)

// SDKVersion is the msgraph-sdk-go version pinned in go.mod. It only feeds
// the SdkVersion telemetry header; the root package that exports it is the
// one Keyturn's adapters must not import.
const SDKVersion = "1.89.0"

// NewAdapter returns a Graph request adapter that authenticates with cred
// (scope c.GraphScope(), tokens sent only to the base URL's host), sends
// through hc's transport wrapped in mw and the wire recorder, and talks to
// base, or to c.GraphBaseURL() when base is empty. A nil mw means
// Middlewares(); a nil hc means outbound's transport without a proxy.
func NewAdapter(cred azcore.TokenCredential, c azcloud.Cloud, hc *http.Client, base string, mw []khttp.Middleware) (abs.RequestAdapter, error) {
	if cred == nil {
		return nil, errors.New("graph client: token credential is nil")
	}
	if c.GraphURL == "" {
		return nil, errors.New("graph client: cloud has no graph url")
	}
	if base == "" {
		base = c.GraphBaseURL()
	}
	host, err := CheckBaseURL(base)
	if err != nil {
		return nil, err
	}
	if mw == nil {
		if mw, err = Middlewares(); err != nil {
			return nil, err
		}
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
	// root package fills in; Keyturn neither imports it nor mutates them.
	parsers := absser.NewParseNodeFactoryRegistry()
	parsers.ContentTypeAssociatedFactories["application/json"] = jsonser.NewJsonParseNodeFactory()
	writers := absser.NewSerializationWriterFactoryRegistry()
	writers.ContentTypeAssociatedFactories["application/json"] = jsonser.NewJsonSerializationWriterFactory()

	adapter, err := msgraphcore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, msgraphcore.GraphClientOptions{GraphServiceLibraryVersion: SDKVersion}, parsers, writers, httpClient)
	if err != nil {
		return nil, fmt.Errorf("graph client: request adapter: %w", err)
	}
	adapter.SetBaseUrl(strings.TrimSuffix(base, "/"))
	return adapter, nil
}

// NoRetryOption returns kiota RetryHandler options that never retry.
//
// In kiota-http-go v1.5.4 a MaxRetries below 1 means "the default, 3", not
// "none", and a nil ShouldRetry panics once a 429/503/504 arrives, because
// the handler calls it unchecked. A ShouldRetry that always answers false is
// the one setting that switches retries off. Passed as a request option it
// overrides whatever handler the chain holds, for that request.
func NoRetryOption() *khttp.RetryHandlerOptions {
	return &khttp.RetryHandlerOptions{
		ShouldRetry: func(time.Duration, int, *http.Request, *http.Response) bool { return false },
	}
}

// Middlewares returns the Graph SDK's default middleware chain (telemetry,
// URL replacement, redirect, compression, parameter name decoding, user
// agent, headers inspection) with its retry handler replaced by one that
// never retries.
func Middlewares() ([]khttp.Middleware, error) {
	mw := msgraphcore.GetDefaultMiddlewaresWithOptions(&msgraphcore.GraphClientOptions{GraphServiceLibraryVersion: SDKVersion})
	replaced := 0
	for i, m := range mw {
		switch m.(type) {
		case *khttp.RetryHandler, khttp.RetryHandler:
			mw[i] = khttp.NewRetryHandlerWithOptions(*NoRetryOption())
			replaced++
		}
	}
	if replaced != 1 {
		return nil, errors.New("graph client: the sdk's middleware chain no longer holds exactly one retry handler")
	}
	return mw, nil
}

// CheckBaseURL accepts an https URL, or an http one to a loopback host, with
// no credentials, query or fragment, and returns its host name in lower
// case.
func CheckBaseURL(s string) (string, error) {
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
