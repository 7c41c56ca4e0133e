package azcloud

import (
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	for _, name := range []string{"", "AzurePublic", "azureusgovernment", "AzureChina"} {
		c, err := Lookup(name)
		if err != nil || c.AuthorityHost == "" || c.GraphURL == "" || c.VaultSuffix == "" || c.BotOpenIDMetadata == "" || c.BotScope == "" || !strings.HasPrefix(c.ResourceManagerScope(), "https://management.") {
			t.Errorf("Lookup(%q) = %+v, %v", name, c, err)
		}
	}
	if _, err := Lookup("AzureGermany"); err == nil {
		t.Error("unknown cloud accepted")
	}
	gov, _ := Lookup(AzureUSGovernment)
	if gov.GraphScope() != "https://graph.microsoft.us/.default" || gov.GraphBaseURL() != "https://graph.microsoft.us/v1.0" {
		t.Errorf("gov endpoints %s %s", gov.GraphScope(), gov.GraphBaseURL())
	}
	if gov.AzCore().ActiveDirectoryAuthorityHost != "https://login.microsoftonline.us/" {
		t.Error("azcore authority")
	}
}

func TestVaultURI(t *testing.T) {
	pub, _ := Lookup("")
	china, _ := Lookup(AzureChina)
	ok := map[string]string{
		"kv-payments":                          "https://kv-payments.vault.azure.net/",
		"KV-Payments":                          "https://kv-payments.vault.azure.net/",
		" kv-payments ":                        "https://kv-payments.vault.azure.net/",
		"https://kv-payments.vault.azure.net":  "https://kv-payments.vault.azure.net/",
		"https://KV-payments.vault.azure.net/": "https://kv-payments.vault.azure.net/",
	}
	for in, want := range ok {
		if got, err := pub.VaultURI(in); err != nil || got != want {
			t.Errorf("VaultURI(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "kv", "1kv", "kv--x", "kv-", "kv_payments", "a-very-long-vault-name-over-24",
		"http://kv.vault.azure.net/", "https://kv.vault.azure.net.evil.example/", "https://kv.vault.azure.net:443/",
		"https://user@kv.vault.azure.net/", "https://kv.vault.azure.net/secrets/x", "https://kv.vault.azure.net/?x=1",
		"https://kv-payments.vault.azure.cn/"} {
		if got, err := pub.VaultURI(in); err == nil {
			t.Errorf("VaultURI(%q) accepted as %q", in, got)
		}
	}
	if got, err := china.VaultURI("kv-payments"); err != nil || got != "https://kv-payments.vault.azure.cn/" {
		t.Errorf("china: %q %v", got, err)
	}
}
