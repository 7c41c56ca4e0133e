// Package outbound builds the one HTTP transport every outbound client of
// Keyturn uses (Microsoft Graph, Key Vault, Entra ID token requests, the Bot
// Framework connector): proxy settings as given (HTTPS_PROXY, NO_PROXY, read
// by cmd/bot), the system trust store (SSL_CERT_FILE works as Go documents
// it), TLS 1.2 or later, and bounded timeouts. Nothing here can disable
// certificate checks.
//
// It imports nothing of Keyturn's.
package outbound

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// Transport returns a new transport that routes through the proxy proxy
// selects (nil: no proxy). Use ProxyFunc to build one from a configuration.
func Transport(proxy func(*url.URL) (*url.URL, error)) *http.Transport {
	return &http.Transport{
		Proxy: func(r *http.Request) (*url.URL, error) {
			if proxy == nil {
				return nil, nil
			}
			return proxy(r.URL)
		},
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		// RootCAs stays nil: the system store, which honours SSL_CERT_FILE
		// and SSL_CERT_DIR.
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32, // the bot's job pool posts to one connector host from many workers
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		ExpectContinueTimeout: time.Second,
		// A reply with a card (5–8 KB) and its headers fit one write of
		// the buffer: with the default 4 KB every reply took two writes.
		WriteBufferSize: 16 << 10,
	}
}

// ProxyFunc returns the proxy selector for cfg (HTTPS_PROXY, HTTP_PROXY,
// NO_PROXY semantics of golang.org/x/net/http/httpproxy). Unlike
// http.ProxyFromEnvironment it does not cache the environment on first use,
// so the configuration cmd/bot read is the one in force.
func ProxyFunc(cfg httpproxy.Config) func(*url.URL) (*url.URL, error) {
	return cfg.ProxyFunc()
}

// Client returns an *http.Client on t with no overall timeout: callers bound
// each call with a context.
func Client(t http.RoundTripper) *http.Client {
	return &http.Client{Transport: t}
}
