// An example target vault: RBAC mode (no access policies), soft delete and
// purge protection (a deleted secret can be recovered, never purged early),
// and Key Vault Secrets Officer for Keyturn's identity on this vault only.
// Consumers get Key Vault Secrets User on it, never more.

@description('Required. Name of the vault (3-24 letters, digits and hyphens, globally unique).')
param name string

@description('Required. Location of the vault.')
param location string

@description('Optional. Tags for the vault.')
param tags object = {}

@description('Required. Object ID of the principal that writes the secrets.')
param principalId string

@description('Optional. Days a deleted secret stays recoverable (7-90).')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

// Key Vault Secrets Officer (built-in role).
var secretsOfficer = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7')

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource secretsOfficerRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, secretsOfficer)
  scope: vault
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: secretsOfficer
  }
}

@description('The vault\'s URI, for the policy\'s vaults list.')
output vaultUri string = vault.properties.vaultUri

@description('Name of the vault.')
output name string = vault.name
