// Package azcloud names the endpoints of the Azure clouds Keyturn supports, so
// one setting (KEYTURN_CLOUD) points every client at the right sovereign
// cloud. It holds data and pure functions; cmd/bot reads the environment.
package azcloud

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
)

// Cloud is the set of endpoints Keyturn talks to in one Azure cloud.
type Cloud struct {
	Name string
	// AuthorityHost is the Entra ID authority for token requests.
	AuthorityHost string
	// GraphURL is the Microsoft Graph root, without version or slash.
	GraphURL string
	// VaultSuffix is the Key Vault DNS suffix (vault.azure.net).
	VaultSuffix string
	// BotOpenIDMetadata is the Bot Framework channel's OpenID metadata URL.
	BotOpenIDMetadata string
	// BotTokenIssuer is the issuer of channel → bot tokens.
	BotTokenIssuer string
	// BotScope is the scope of bot → connector tokens.
	BotScope string
	// ResourceManagerURL is the Azure Resource Manager root, without slash
	// (keyturn doctor reads vault resources there).
	ResourceManagerURL string
}

// The supported clouds, by their KEYTURN_CLOUD names.
const (
	AzurePublic       = "AzurePublic"
	AzureUSGovernment = "AzureUSGovernment"
	AzureChina        = "AzureChina"
)

var clouds = map[string]Cloud{
	AzurePublic: {
		Name:               AzurePublic,
		AuthorityHost:      "https://login.microsoftonline.com/",
		GraphURL:           "https://graph.microsoft.com",
		VaultSuffix:        "vault.azure.net",
		BotOpenIDMetadata:  "https://login.botframework.com/v1/.well-known/openidconfiguration",
		BotTokenIssuer:     "https://api.botframework.com",
		BotScope:           "https://api.botframework.com/.default",
		ResourceManagerURL: "https://management.azure.com",
	},
	AzureUSGovernment: {
		Name:               AzureUSGovernment,
		AuthorityHost:      "https://login.microsoftonline.us/",
		GraphURL:           "https://graph.microsoft.us",
		VaultSuffix:        "vault.usgovcloudapi.net",
		BotOpenIDMetadata:  "https://login.botframework.azure.us/v1/.well-known/openidconfiguration",
		BotTokenIssuer:     "https://api.botframework.us",
		BotScope:           "https://api.botframework.us/.default",
		ResourceManagerURL: "https://management.usgovcloudapi.net",
	},
	AzureChina: {
		Name:               AzureChina,
		AuthorityHost:      "https://login.chinacloudapi.cn/",
		GraphURL:           "https://microsoftgraph.chinacloudapi.cn",
		VaultSuffix:        "vault.azure.cn",
		BotOpenIDMetadata:  "https://login.botframework.azure.cn/v1/.well-known/openidconfiguration",
		BotTokenIssuer:     "https://api.botframework.azure.cn",
		BotScope:           "https://api.botframework.azure.cn/.default",
		ResourceManagerURL: "https://management.chinacloudapi.cn",
	},
}

// Lookup returns the cloud called name (case-insensitive); empty means
// AzurePublic.
func Lookup(name string) (Cloud, error) {
	if name == "" {
		name = AzurePublic
	}
	for k, c := range clouds {
		if strings.EqualFold(k, name) {
			return c, nil
		}
	}
	names := make([]string, 0, len(clouds))
	for k := range clouds {
		names = append(names, k)
	}
	sort.Strings(names)
	return Cloud{}, fmt.Errorf("unknown cloud %q (want one of %s)", name, strings.Join(names, ", "))
}

// GraphScope is the scope for Microsoft Graph tokens.
func (c Cloud) GraphScope() string { return strings.TrimSuffix(c.GraphURL, "/") + "/.default" }

// ResourceManagerScope is the scope for Azure Resource Manager tokens.
func (c Cloud) ResourceManagerScope() string {
	return strings.TrimSuffix(c.ResourceManagerURL, "/") + "/.default"
}

// GraphBaseURL is the Graph v1.0 root the SDK request adapter uses.
func (c Cloud) GraphBaseURL() string { return strings.TrimSuffix(c.GraphURL, "/") + "/v1.0" }

// AzCore returns the azcore configuration for azidentity and the SDK clients.
func (c Cloud) AzCore() cloud.Configuration {
	return cloud.Configuration{ActiveDirectoryAuthorityHost: c.AuthorityHost, Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}}
}

// VaultURI turns a vault name ("kv-payments") or URI
// ("https://kv-payments.vault.azure.net/") into the canonical URI
// "https://kv-payments.vault.azure.net/". A URI must be https, carry no path,
// query or credentials, and its host must end in the cloud's vault suffix.
func (c Cloud) VaultURI(nameOrURI string) (string, error) {
	s := strings.TrimSpace(nameOrURI)
	if s == "" {
		return "", fmt.Errorf("vault name is empty")
	}
	if !strings.Contains(s, "://") {
		if !validVaultName(s) {
			return "", fmt.Errorf("vault name %q is not valid: 3-24 letters, digits and dashes, starting with a letter", s)
		}
		return "https://" + strings.ToLower(s) + "." + c.VaultSuffix + "/", nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("vault URI %q is not a URL", s)
	}
	if u.Scheme != "https" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Port() != "" {
		return "", fmt.Errorf("vault URI %q must be https://<name>.%s/", s, c.VaultSuffix)
	}
	host := strings.ToLower(u.Hostname())
	name, ok := strings.CutSuffix(host, "."+strings.ToLower(c.VaultSuffix))
	if !ok || !validVaultName(name) {
		return "", fmt.Errorf("vault URI %q must be https://<name>.%s/", s, c.VaultSuffix)
	}
	return "https://" + host + "/", nil
}

// validVaultName applies Key Vault's naming rule: 3-24 characters of
// letters, digits and dashes, starting with a letter, no consecutive or
// trailing dash.
func validVaultName(s string) bool {
	if len(s) < 3 || len(s) > 24 || strings.Contains(s, "--") || strings.HasSuffix(s, "-") {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case (r >= '0' && r <= '9') || r == '-':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}
