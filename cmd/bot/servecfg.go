package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/keyturn/keyturn/bot"
	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/rotation"
)

// App types, as Microsoft's Bot Framework SDKs name them (MicrosoftAppType).
const (
	appTypeMSI          = "UserAssignedMSI"
	appTypeSingleTenant = "SingleTenant"
	appTypeMultiTenant  = "MultiTenant"
)

// serveConfig is what `serve` reads on top of config.
type serveConfig struct {
	Addr         string // listen address
	AppID        string // MicrosoftAppId; empty: emulator mode
	AppType      string
	AppTenantID  string
	AppPassword  rotation.Secret // MicrosoftAppPassword (SingleTenant, MultiTenant)
	AppCertPEM   []byte          // KEYTURN_APP_CERTIFICATE_FILE, instead of a password
	OpenIDURL    string          // BotOpenIdMetadata
	Tenants      []string        // KEYTURN_ALLOWED_TENANTS, default MicrosoftAppTenantId
	Apps         map[string]policy.App
	DefaultVault string
	Workers      int
	PolicyPath   string // KEYTURN_POLICY
	// BotName and Schedule are left to the bot's defaults by serve; the
	// sandbox sets them.
	BotName  string
	Schedule time.Duration
	// Emulator maps Bot Framework Emulator senders (the sandbox's demo
	// users); nil for serve.
	Emulator bot.EmulatorIdentity
}

// loadServeConfig reads the Bot Framework variables and Keyturn's serve
// settings, reporting every problem at once.
func loadServeConfig(getenv env, base config) (serveConfig, error) {
	var errs []error
	c := serveConfig{
		AppID:       getenv.first("MicrosoftAppId"),
		AppType:     getenv.first("MicrosoftAppType"),
		AppTenantID: getenv.first("MicrosoftAppTenantId"),
		OpenIDURL:   getenv.first("BotOpenIdMetadata", "ToBotFromChannelOpenIdMetadataUrl"),
		Apps:        map[string]policy.App{},
	}
	port := getenv.first("PORT")
	if port == "" {
		port = "3978"
	}
	host := getenv.first("KEYTURN_LISTEN_HOST")
	if host == "" && c.AppID == "" {
		host = "127.0.0.1" // emulator mode: loopback only
	}
	c.Addr = net.JoinHostPort(host, port)
	c.PolicyPath = getenv.first("KEYTURN_POLICY")
	if c.OpenIDURL == "" {
		c.OpenIDURL = base.Cloud.BotOpenIDMetadata
	}
	if c.AppID != "" {
		if !rotation.IsGUID(c.AppID) {
			errs = append(errs, fmt.Errorf("MicrosoftAppId: %q is not a GUID", c.AppID))
		}
		if c.AppType == "" {
			c.AppType = appTypeMultiTenant // the Bot Framework SDKs' default
		}
		switch c.AppType {
		case appTypeMSI:
		case appTypeSingleTenant, appTypeMultiTenant:
			if pw := getenv("MicrosoftAppPassword"); pw != "" {
				c.AppPassword = rotation.NewSecret(pw)
			}
			if f := getenv.first("KEYTURN_APP_CERTIFICATE_FILE"); f != "" {
				b, err := os.ReadFile(f)
				if err != nil {
					errs = append(errs, fmt.Errorf("KEYTURN_APP_CERTIFICATE_FILE: %w", err))
				}
				c.AppCertPEM = b
			}
			if c.AppPassword.IsZero() && c.AppCertPEM == nil {
				errs = append(errs, fmt.Errorf("MicrosoftAppType %s needs MicrosoftAppPassword or KEYTURN_APP_CERTIFICATE_FILE (or use UserAssignedMSI: no secret at all)", c.AppType))
			}
			if c.AppType == appTypeMultiTenant && c.AppCertPEM != nil {
				errs = append(errs, errors.New("KEYTURN_APP_CERTIFICATE_FILE is for SingleTenant bots"))
			}
		default:
			errs = append(errs, fmt.Errorf("MicrosoftAppType: %q is not UserAssignedMSI, SingleTenant or MultiTenant", c.AppType))
		}
		if c.AppTenantID == "" {
			errs = append(errs, errors.New("MicrosoftAppTenantId: required (it is also the default tenant allow-list)"))
		} else if !rotation.IsGUID(c.AppTenantID) {
			errs = append(errs, fmt.Errorf("MicrosoftAppTenantId: %q is not a GUID", c.AppTenantID))
		}
	}
	for _, t := range splitList(getenv.first("KEYTURN_ALLOWED_TENANTS")) {
		if !rotation.IsGUID(t) {
			errs = append(errs, fmt.Errorf("KEYTURN_ALLOWED_TENANTS: %q is not a GUID", t))
		}
		c.Tenants = append(c.Tenants, strings.ToLower(t))
	}
	if len(c.Tenants) == 0 && c.AppTenantID != "" {
		c.Tenants = []string{strings.ToLower(c.AppTenantID)}
	}
	if v := getenv.first("KEYTURN_DEFAULT_VAULT"); v != "" {
		uri, err := base.Cloud.VaultURI(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("KEYTURN_DEFAULT_VAULT: %w", err))
		}
		c.DefaultVault = uri
	}
	// KEYTURN_APPS: alias=client-id[@vault], comma-separated.
	for _, entry := range splitList(getenv.first("KEYTURN_APPS")) {
		alias, rest, ok := strings.Cut(entry, "=")
		alias = strings.ToLower(strings.TrimSpace(alias))
		id, vault, _ := strings.Cut(strings.TrimSpace(rest), "@")
		if !ok || alias == "" || !rotation.IsGUID(id) {
			errs = append(errs, fmt.Errorf("KEYTURN_APPS: %q must be alias=client-id[@vault]", entry))
			continue
		}
		t := policy.App{Alias: alias, ClientID: strings.ToLower(id)}
		if vault != "" {
			uri, err := base.Cloud.VaultURI(vault)
			if err != nil {
				errs = append(errs, fmt.Errorf("KEYTURN_APPS %s: %w", alias, err))
			}
			t.VaultURI = uri
		}
		c.Apps[alias] = t
	}
	return c, errors.Join(errs...)
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
