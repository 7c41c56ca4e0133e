// Keyturn's state store: a storage account reached only with Entra ID
// (shared keys off, so no connection string or account key exists to leak),
// its table, and Storage Table Data Contributor for Keyturn's identity.

@description('Required. Name of the storage account (3-24 lower-case letters and digits, globally unique).')
param name string

@description('Required. Location of the storage account.')
param location string

@description('Optional. Tags for the storage account.')
param tags object = {}

@description('Required. Replication SKU.')
param skuName string

@description('Required. Name of the state table.')
param tableName string

@description('Required. Object ID of the principal that reads and writes the table.')
param principalId string

// Storage Table Data Contributor (built-in role).
var tableDataContributor = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3')

resource storageAccount 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false // identity-based access only
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // Container Apps on the consumption plan reach it over its public
    // endpoint; every request still needs an Entra ID token.
    publicNetworkAccess: 'Enabled'
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2025-06-01' = {
  parent: storageAccount
  name: 'default'
}

resource table 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-06-01' = {
  parent: tableService
  name: tableName
}

// On the account, not the table: Keyturn creates its table if it is missing
// at start-up, which needs the account-level permission. The account holds
// nothing else.
resource tableRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, principalId, tableDataContributor)
  scope: storageAccount
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: tableDataContributor
  }
}

@description('The table service endpoint, without a trailing slash (KEYTURN_TABLES_URL).')
output tablesUrl string = 'https://${storageAccount.name}.table.${environment().suffixes.storage}'

@description('Name of the storage account.')
output storageAccountName string = storageAccount.name

@description('Name of the state table.')
output tableName string = table.name
