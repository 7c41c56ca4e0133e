package bot

import "testing"

func TestStaticCatalogResolvesAListedAppByClientID(t *testing.T) {
	c := &StaticCatalog{
		Apps: map[string]Target{
			"reports-job": {ClientID: "3C8A1F52-9D4E-4B7A-8E21-6F0B5D7C9A13", VaultURI: "https://kv-shared.vault.azure.net/", SecretName: "reports-secret"},
			"reports":     {ClientID: "3c8a1f52-9d4e-4b7a-8e21-6f0b5d7c9a13", VaultURI: "https://kv-other.vault.azure.net/"},
		},
		DefaultVault: "https://kv-default.vault.azure.net/",
	}
	got, err := c.Resolve("3c8a1f52-9d4e-4b7a-8e21-6f0b5d7c9a13", "")
	if err != nil || got.Name != "reports" || got.VaultURI != "https://kv-other.vault.azure.net/" {
		t.Fatalf("a listed app by client ID takes its (first) alias's settings: %+v %v", got, err)
	}
	got, err = c.Resolve("11111111-1111-4111-8111-111111111111", "")
	if err != nil || got.Name != "11111111-1111-4111-8111-111111111111" || got.VaultURI != "https://kv-default.vault.azure.net/" {
		t.Fatalf("an unlisted app by client ID gets the default vault: %+v %v", got, err)
	}
}
