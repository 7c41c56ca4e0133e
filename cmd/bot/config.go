package main

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"golang.org/x/net/http/httpproxy"

	"github.com/keyturn/keyturn/azure/azcloud"
	"github.com/keyturn/keyturn/rotation"
)

// env reads one environment variable. Only cmd/bot reads the environment,
// and only through this, so tests pass their own.
type env func(string) string

// first returns the first non-empty value of the named variables.
func (e env) first(names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(e(n)); v != "" {
			return v
		}
	}
	return ""
}

// config is everything Keyturn reads from the environment, checked as a
// whole at start-up.
type config struct {
	Cloud    azcloud.Cloud
	GraphURL string // Graph root override, if any
	Proxy    httpproxy.Config
	StateDir string
	TenantID string // AZURE_TENANT_ID, optional for the CLI
	// OwnClientID is Keyturn's own app (MicrosoftAppId, else
	// AZURE_CLIENT_ID), which it never rotates.
	OwnClientID string
	// PrincipalID is the object ID of Keyturn's service principal, quoted
	// in advice about owners and roles (KEYTURN_PRINCIPAL_ID, optional).
	PrincipalID   string
	AllowedVaults []string // canonical URIs; empty: the CLI allows the vault it is given
	LogLevel      string
}

// loadConfig reads the environment and reports every problem at once.
func loadConfig(getenv env) (config, error) {
	var errs []error
	c := config{LogLevel: getenv.first("KEYTURN_LOG_LEVEL")}
	cl, err := azcloud.Lookup(getenv.first("KEYTURN_CLOUD"))
	if err != nil {
		errs = append(errs, fmt.Errorf("KEYTURN_CLOUD: %w", err))
	}
	if v := getenv.first("KEYTURN_GRAPH_URL"); v != "" {
		if u, err := url.Parse(v); err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			errs = append(errs, fmt.Errorf("KEYTURN_GRAPH_URL: %q must be an https root such as https://graph.microsoft.com", v))
		} else {
			cl.GraphURL = strings.TrimSuffix(v, "/")
			c.GraphURL = cl.GraphURL
		}
	}
	if v := getenv.first("KEYTURN_VAULT_SUFFIX"); v != "" {
		if strings.ContainsAny(v, "/:@ ") || !strings.Contains(v, ".") {
			errs = append(errs, fmt.Errorf("KEYTURN_VAULT_SUFFIX: %q must be a DNS suffix such as vault.azure.net", v))
		} else {
			cl.VaultSuffix = strings.TrimPrefix(v, ".")
		}
	}
	// azidentity reads AZURE_AUTHORITY_HOST only when the cloud
	// configuration names no authority; since ours always does, honour the
	// variable here so every token request uses it.
	if v := getenv.first("AZURE_AUTHORITY_HOST"); v != "" {
		if u, err := url.Parse(v); err != nil || u.Scheme != "https" || u.Host == "" {
			errs = append(errs, fmt.Errorf("AZURE_AUTHORITY_HOST: %q must be an https URL", v))
		} else {
			cl.AuthorityHost = strings.TrimSuffix(v, "/") + "/"
		}
	}
	c.Cloud = cl
	c.Proxy = httpproxy.Config{
		HTTPProxy:  getenv.first("HTTP_PROXY", "http_proxy"),
		HTTPSProxy: getenv.first("HTTPS_PROXY", "https_proxy"),
		NoProxy:    getenv.first("NO_PROXY", "no_proxy"),
	}
	for name, v := range map[string]string{"HTTPS_PROXY": c.Proxy.HTTPSProxy, "HTTP_PROXY": c.Proxy.HTTPProxy} {
		if v == "" {
			continue
		}
		if _, err := url.Parse(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: not a URL", name))
		}
	}
	c.StateDir = getenv.first("KEYTURN_STATE_DIR")
	if c.StateDir == "" {
		switch {
		case getenv.first("XDG_STATE_HOME") != "":
			c.StateDir = filepath.Join(getenv.first("XDG_STATE_HOME"), "keyturn")
		case getenv.first("HOME") != "":
			c.StateDir = filepath.Join(getenv.first("HOME"), ".local", "state", "keyturn")
		default:
			errs = append(errs, errors.New("KEYTURN_STATE_DIR: not set and no HOME to default from"))
		}
	}
	c.TenantID = getenv.first("AZURE_TENANT_ID")
	if c.TenantID != "" && !rotation.IsGUID(c.TenantID) {
		errs = append(errs, fmt.Errorf("AZURE_TENANT_ID: %q is not a GUID", c.TenantID))
	}
	c.OwnClientID = getenv.first("MicrosoftAppId", "AZURE_CLIENT_ID")
	if c.OwnClientID != "" && !rotation.IsGUID(c.OwnClientID) {
		errs = append(errs, fmt.Errorf("MicrosoftAppId/AZURE_CLIENT_ID: %q is not a GUID", c.OwnClientID))
	}
	c.PrincipalID = getenv.first("KEYTURN_PRINCIPAL_ID")
	if c.PrincipalID != "" && !rotation.IsGUID(c.PrincipalID) {
		errs = append(errs, fmt.Errorf("KEYTURN_PRINCIPAL_ID: %q is not a GUID", c.PrincipalID))
	}
	for _, v := range strings.Split(getenv.first("KEYTURN_ALLOWED_VAULTS"), ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		uri, err := cl.VaultURI(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("KEYTURN_ALLOWED_VAULTS: %w", err))
			continue
		}
		c.AllowedVaults = append(c.AllowedVaults, uri)
	}
	switch strings.ToLower(c.LogLevel) {
	case "", "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("KEYTURN_LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel))
	}
	return c, errors.Join(errs...)
}

// policy returns the rotation policy for c; extra names vaults the CLI was
// given on its command line, allowed when no list is configured.
func (c config) policy(extra ...string) rotation.Policy {
	p := rotation.DefaultPolicy()
	p.OwnClientID = c.OwnClientID
	p.AllowedVaults = c.AllowedVaults
	if len(p.AllowedVaults) == 0 {
		p.AllowedVaults = extra
	}
	return p
}
