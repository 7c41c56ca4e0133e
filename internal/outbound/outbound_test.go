package outbound

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"golang.org/x/net/http/httpproxy"
)

func TestProxyFromConfiguration(t *testing.T) {
	tr := Transport(ProxyFunc(httpproxy.Config{
		HTTPSProxy: "http://proxy.corp.example:3128",
		NoProxy:    "vault.azure.net,.internal.example",
	}))
	cases := map[string]string{
		"https://graph.microsoft.com/v1.0/applications":  "http://proxy.corp.example:3128",
		"https://login.microsoftonline.com/x/token":      "http://proxy.corp.example:3128",
		"https://kv-payments.vault.azure.net/secrets/a":  "",
		"https://api.internal.example/":                  "",
		"http://graph.microsoft.com/plain-http-no-proxy": "", // no HTTP_PROXY set
	}
	for target, want := range cases {
		req, _ := http.NewRequest(http.MethodGet, target, nil)
		got, err := tr.Proxy(req)
		if err != nil {
			t.Fatal(err)
		}
		if (got == nil) != (want == "") || (got != nil && got.String() != want) {
			t.Errorf("%s: proxy %v, want %q", target, got, want)
		}
	}
	if p, _ := Transport(nil).Proxy(&http.Request{URL: &url.URL{Scheme: "https", Host: "graph.microsoft.com"}}); p != nil {
		t.Errorf("nil selector must mean no proxy, got %v", p)
	}
}

// TestRequestsGoThroughTheProxy sends a real request: the proxy (a local
// server) receives it, which proves the transport uses the selector.
func TestRequestsGoThroughTheProxy(t *testing.T) {
	var seen string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.URL.String()
		w.WriteHeader(http.StatusTeapot)
	}))
	defer proxy.Close()
	pu, _ := url.Parse(proxy.URL)
	c := Client(Transport(func(*url.URL) (*url.URL, error) { return pu, nil }))
	resp, err := c.Get("http://graph.example.invalid/v1.0/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot || seen != "http://graph.example.invalid/v1.0/me" {
		t.Fatalf("status %d, proxy saw %q", resp.StatusCode, seen)
	}
}

// TestTLSIsVerifiedAgainstTheSystemStore: a self-signed server is refused,
// and nothing in the transport disables verification.
func TestTLSIsVerifiedAgainstTheSystemStore(t *testing.T) {
	tr := Transport(nil)
	cfg := tr.TLSClientConfig
	if cfg.InsecureSkipVerify || cfg.RootCAs != nil || cfg.MinVersion < tls.VersionTLS12 {
		t.Fatalf("TLS config %+v", cfg)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	if _, err := Client(tr).Get(srv.URL); err == nil {
		t.Fatal("a certificate outside the system store was trusted")
	}
}
