package graphcore

import (
	"context"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/keyturn/keyturn/azure/azcloud"
)

type nopCred struct{}

func (nopCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "t", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func TestCheckBaseURL(t *testing.T) {
	tests := []struct {
		in       string
		wantHost string // "" means rejected
	}{
		{"https://graph.microsoft.com/v1.0", "graph.microsoft.com"},
		{"https://Graph.Microsoft.US/v1.0/", "graph.microsoft.us"},
		{"http://127.0.0.1:8080/v1.0", "127.0.0.1"},
		{"http://localhost:1/v1.0", "localhost"},
		{"http://[::1]:1/v1.0", "::1"},
		{"http://graph.example.com/v1.0", ""},
		{"https://u:p@graph.microsoft.com/v1.0", ""},
		{"https://graph.microsoft.com/v1.0?x=1", ""},
		{"https://graph.microsoft.com/v1.0#f", ""},
		{"/v1.0", ""},
		{"ftp://graph.microsoft.com/v1.0", ""},
		{"", ""},
	}
	for _, tc := range tests {
		host, err := CheckBaseURL(tc.in)
		switch {
		case tc.wantHost == "" && err == nil:
			t.Errorf("CheckBaseURL(%q) accepted it (host %q)", tc.in, host)
		case tc.wantHost != "" && (err != nil || host != tc.wantHost):
			t.Errorf("CheckBaseURL(%q) = %q, %v; want %q", tc.in, host, err, tc.wantHost)
		}
	}
}

func TestNoRetryOptionSemantics(t *testing.T) {
	o := NoRetryOption()
	if o.ShouldRetry == nil || o.ShouldRetry(0, 0, nil, nil) {
		t.Error("ShouldRetry must exist and refuse")
	}
	// Documented trap: MaxRetries 0 means the default, not "none".
	if got := (&khttp.RetryHandlerOptions{}).GetMaxRetries(); got == 0 {
		t.Errorf("kiota now treats MaxRetries 0 as %d; revisit NoRetryOption's comment", got)
	}
	opts := RequestOptions()
	if len(opts) != 1 {
		t.Fatalf("RequestOptions = %d options, want 1", len(opts))
	}
	ro, ok := opts[0].(*khttp.RetryHandlerOptions)
	if !ok || ro.ShouldRetry == nil || ro.ShouldRetry(0, 0, nil, nil) {
		t.Errorf("RequestOptions()[0] = %#v, want retry options that refuse", opts[0])
	}
}

func TestMiddlewaresReplaceTheRetryHandler(t *testing.T) {
	mw, err := Middlewares()
	if err != nil {
		t.Fatal(err)
	}
	stock := msgraphcore.GetDefaultMiddlewaresWithOptions(&msgraphcore.GraphClientOptions{})
	if len(mw) != len(stock) {
		t.Errorf("chain has %d middlewares, stock has %d", len(mw), len(stock))
	}
	handlers := 0
	for _, m := range mw {
		if _, ok := m.(*khttp.RetryHandler); ok {
			handlers++
		}
	}
	if handlers != 1 {
		t.Errorf("chain holds %d retry handlers, want exactly the replaced one", handlers)
	}
}

func TestNewAdapter(t *testing.T) {
	cloud, err := azcloud.Lookup(azcloud.AzurePublic)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewAdapter(nil, cloud, nil, "", nil); err == nil {
		t.Error("NewAdapter accepted a nil credential")
	}
	if _, err := NewAdapter(nopCred{}, azcloud.Cloud{}, nil, "", nil); err == nil {
		t.Error("NewAdapter accepted a cloud without graph url")
	}
	if _, err := NewAdapter(nopCred{}, cloud, nil, "http://graph.example.com/v1.0", nil); err == nil {
		t.Error("NewAdapter accepted http to a remote host")
	}
	a, err := NewAdapter(nopCred{}, cloud, nil, "", nil)
	if err != nil {
		t.Fatalf("NewAdapter with defaults: %v", err)
	}
	if got := a.GetBaseUrl(); got != "https://graph.microsoft.com/v1.0" {
		t.Errorf("base url = %q", got)
	}
	a, err = NewAdapter(nopCred{}, cloud, nil, "http://127.0.0.1:9/v1.0/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.GetBaseUrl(); got != "http://127.0.0.1:9/v1.0" {
		t.Errorf("base url = %q, want the trailing slash trimmed", got)
	}
}
