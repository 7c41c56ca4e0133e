package main

import (
	"github.com/keyturn/keyturn/azure/azcloud"
	"github.com/keyturn/keyturn/bot"
	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/rotation"
)

// loadPolicyFile reads the policy file at path (package policy checks it);
// cloud turns vault names into URIs, and keys the file leaves out keep
// base's values.
func loadPolicyFile(path string, cloud azcloud.Cloud, base rotation.Policy) (policy.Policy, error) {
	return policy.Load(path, policy.Options{VaultURI: cloud.VaultURI, Base: base})
}

// catalogApps turns the policy's apps into the bot's catalog entries.
func catalogApps(apps map[string]policy.App) map[string]bot.Target {
	out := make(map[string]bot.Target, len(apps))
	for alias, a := range apps {
		out[alias] = bot.Target{Name: alias, ClientID: a.ClientID, VaultURI: a.VaultURI, ClientIDName: a.ClientIDName,
			SecretName: a.SecretName, Lifetime: a.Lifetime, Overlap: a.Overlap}
	}
	return out
}
