package main

import (
	"strings"
	"testing"
)

func TestConfigCloudAndOverrides(t *testing.T) {
	env := map[string]string{
		"HOME":                   "/home/ops",
		"KEYTURN_CLOUD":          "AzureUSGovernment",
		"KEYTURN_GRAPH_URL":      "https://dod-graph.microsoft.us/",
		"KEYTURN_VAULT_SUFFIX":   "vault.usgovcloudapi.net",
		"AZURE_AUTHORITY_HOST":   "https://login.microsoftonline.us",
		"KEYTURN_ALLOWED_VAULTS": "kv-a, https://kv-b.vault.usgovcloudapi.net/",
		"https_proxy":            "http://proxy:3128",
		"NO_PROXY":               "localhost",
		"MicrosoftAppId":         "11111111-1111-4111-8111-111111111111",
	}
	c, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Cloud.GraphURL != "https://dod-graph.microsoft.us" || c.Cloud.AuthorityHost != "https://login.microsoftonline.us/" ||
		c.Cloud.AzCore().ActiveDirectoryAuthorityHost != "https://login.microsoftonline.us/" {
		t.Errorf("cloud %+v", c.Cloud)
	}
	if strings.Join(c.AllowedVaults, " ") != "https://kv-a.vault.usgovcloudapi.net/ https://kv-b.vault.usgovcloudapi.net/" {
		t.Errorf("vaults %v", c.AllowedVaults)
	}
	if c.Proxy.HTTPSProxy != "http://proxy:3128" || c.Proxy.NoProxy != "localhost" {
		t.Errorf("proxy %+v", c.Proxy)
	}
	if c.StateDir != "/home/ops/.local/state/keyturn" || c.OwnClientID != env["MicrosoftAppId"] {
		t.Errorf("state %q own %q", c.StateDir, c.OwnClientID)
	}
	p := c.policy("https://ignored.vault.usgovcloudapi.net/")
	if len(p.AllowedVaults) != 2 || p.OwnClientID != env["MicrosoftAppId"] {
		t.Errorf("policy %+v", p)
	}
}

func TestConfigDefaultsToAzurePublic(t *testing.T) {
	c, err := loadConfig(func(k string) string {
		if k == "KEYTURN_STATE_DIR" {
			return "/tmp/kt"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Cloud.Name != "AzurePublic" || c.Cloud.AuthorityHost != "https://login.microsoftonline.com/" {
		t.Errorf("%+v", c.Cloud)
	}
	if p := c.policy("https://kv.vault.azure.net/"); len(p.AllowedVaults) != 1 {
		t.Errorf("the CLI's vault must be allowed when no list is set: %v", p.AllowedVaults)
	}
}

func TestConfigReportsEveryProblem(t *testing.T) {
	env := map[string]string{
		"KEYTURN_CLOUD": "Moon", "KEYTURN_GRAPH_URL": "http://graph", "KEYTURN_VAULT_SUFFIX": "a/b",
		"AZURE_AUTHORITY_HOST": "ftp://x", "AZURE_TENANT_ID": "t", "MicrosoftAppId": "bot",
		"KEYTURN_PRINCIPAL_ID": "p", "KEYTURN_ALLOWED_VAULTS": "x", "KEYTURN_LOG_LEVEL": "loud",
	}
	_, err := loadConfig(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"KEYTURN_CLOUD", "KEYTURN_GRAPH_URL", "KEYTURN_VAULT_SUFFIX", "AZURE_AUTHORITY_HOST", "AZURE_TENANT_ID",
		"MicrosoftAppId", "KEYTURN_PRINCIPAL_ID", "KEYTURN_ALLOWED_VAULTS", "KEYTURN_LOG_LEVEL", "KEYTURN_STATE_DIR"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problem with %s not reported in:\n%v", want, err)
		}
	}
}
