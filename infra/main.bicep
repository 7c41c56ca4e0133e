// Keyturn in Azure: one resource group holding a user-assigned managed
// identity (the bot's App ID and Keyturn's identity for Graph, Key Vault and
// Table Storage: no secret anywhere), the Azure Bot with its Teams channel,
// Azure Container Apps running the image, the state table, Log Analytics
// for the container logs and, optionally, an example Key Vault.
//
// Deploy (see README.md next to this file):
//   az deployment group create --resource-group <rg> --template-file infra/main.bicep \
//     --parameters containerImage=<registry>/keyturn:<tag> policyContent=@keyturn.yaml [containerRegistryName=<acr>]
//
// What Bicep cannot do (Graph application permissions, ownership of the
// apps Keyturn rotates) is done by grant-permissions.sh afterwards.
targetScope = 'resourceGroup'

@description('Optional. Base name of every resource (letters, digits and hyphens). Names that must be globally unique get a suffix derived from the resource group.')
@minLength(3)
@maxLength(16)
param name string = 'keyturn'

@description('Optional. Location of the regional resources. The Azure Bot itself is global.')
param location string = resourceGroup().location

@description('Optional. Tags for every resource.')
param tags object = {}

@description('Required. The Keyturn container image, for example myregistry.azurecr.io/keyturn:1.0.0 (built from the repository\'s Dockerfile).')
param containerImage string

@description('Optional. Name of an Azure Container Registry in this resource group that holds the image. The managed identity gets AcrPull on it and pulls with no registry password. Empty for a public image.')
param containerRegistryName string = ''

@description('Required. The content of Keyturn\'s policy file (see docs/keyturn.example.yaml), for example policyContent=@keyturn.yaml on the az command line. It is mounted read-only at /etc/keyturn/keyturn.yaml.')
param policyContent string

@description('Optional. Fewest replicas. Keep at least 1: Teams expects an answer within about 15 s, and the scheduler (expiries, retirements, audit posts) runs in a replica.')
@minValue(1)
@maxValue(10)
param minReplicas int = 1

@description('Optional. Most replicas. Replicas share the state table and agree through its ETags and leases.')
@minValue(1)
@maxValue(10)
param maxReplicas int = 2

@description('Optional. Pricing tier of the Azure Bot: F0 (free, standard channels such as Teams are free either way) or S1.')
@allowed([
  'F0'
  'S1'
])
param botSku string = 'F0'

@description('Optional. Display name of the bot in the Azure portal. The name people see in Teams comes from the app package (keyturn manifest).')
param botDisplayName string = 'Keyturn'

@description('Optional. Replication of the state storage account. Standard_ZRS or a geo-redundant SKU where the region offers it.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_RAGRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
])
param storageSkuName string = 'Standard_ZRS'

@description('Optional. Name of the state table.')
param tableName string = 'keyturn'

@description('Optional. Days Log Analytics keeps the container logs.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 90

@description('Optional. Also create an example Key Vault (RBAC, soft delete, purge protection) on which the identity is Key Vault Secrets Officer. Add it to the policy\'s vaults to rotate into it.')
param deployExampleKeyVault bool = false

@description('Optional. Log level of the container: debug, info, warn or error.')
@allowed([
  'debug'
  'info'
  'warn'
  'error'
])
param logLevel string = 'info'

// A suffix that makes globally unique names stable per resource group.
var suffix = uniqueString(resourceGroup().id, name)

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: 'id-${name}'
  location: location
  tags: tags
}

// AcrPull (built-in role).
var acrPull = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '7f951dda-4ed3-4680-a7ca-43fe172d538d')

resource registry 'Microsoft.ContainerRegistry/registries@2025-11-01' existing = if (!empty(containerRegistryName)) {
  name: containerRegistryName
}

resource registryPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(containerRegistryName)) {
  name: guid(resourceGroup().id, containerRegistryName, identity.id, acrPull)
  scope: registry
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: acrPull
  }
}

module state 'modules/state.bicep' = {
  name: '${deployment().name}-state'
  params: {
    name: take(toLower('st${replace(name, '-', '')}${suffix}'), 24)
    location: location
    tags: tags
    skuName: storageSkuName
    tableName: tableName
    principalId: identity.properties.principalId
  }
}

module app 'modules/app.bicep' = {
  name: '${deployment().name}-app'
  dependsOn: [
    registryPull // the first revision pulls with the identity
  ]
  params: {
    name: name
    location: location
    tags: tags
    containerImage: containerImage
    containerRegistryServer: empty(containerRegistryName) ? '' : toLower('${containerRegistryName}${environment().suffixes.acrLoginServer}')
    policyContent: policyContent
    minReplicas: minReplicas
    maxReplicas: maxReplicas
    logRetentionInDays: logRetentionInDays
    logLevel: logLevel
    identityResourceId: identity.id
    identityClientId: identity.properties.clientId
    identityPrincipalId: identity.properties.principalId
    tenantId: identity.properties.tenantId
    tablesUrl: state.outputs.tablesUrl
    tableName: tableName
  }
}

module bot 'modules/bot.bicep' = {
  name: '${deployment().name}-bot'
  params: {
    name: 'bot-${name}-${suffix}'
    displayName: botDisplayName
    tags: tags
    skuName: botSku
    endpoint: app.outputs.messagingEndpoint
    identityResourceId: identity.id
    identityClientId: identity.properties.clientId
    tenantId: identity.properties.tenantId
  }
}

module vault 'modules/keyvault.bicep' = if (deployExampleKeyVault) {
  name: '${deployment().name}-vault'
  params: {
    name: take('kv-${name}-${suffix}', 24)
    location: location
    tags: tags
    principalId: identity.properties.principalId
  }
}

@description('The messaging endpoint the Azure Bot sends Teams activities to.')
output messagingEndpoint string = app.outputs.messagingEndpoint

@description('The bot\'s App ID (the managed identity\'s client ID): keyturn manifest --app-id.')
output botAppId string = identity.properties.clientId

@description('The container app\'s host name: keyturn manifest --domain.')
output fqdn string = app.outputs.fqdn

@description('Object ID of Keyturn\'s service principal (the managed identity): grant-permissions.sh and KEYTURN_PRINCIPAL_ID.')
output principalId string = identity.properties.principalId

@description('The tenant of the identity and the bot.')
output tenantId string = identity.properties.tenantId

@description('Resource ID of the managed identity.')
output identityResourceId string = identity.id

@description('Name of the container app (az containerapp logs show, revision restart).')
output containerAppName string = app.outputs.containerAppName

@description('Name of the state storage account (backups).')
output storageAccountName string = state.outputs.storageAccountName

@description('Table service endpoint of the state store (KEYTURN_TABLES_URL).')
output tablesUrl string = state.outputs.tablesUrl

@description('URI of the example Key Vault, empty when none was created.')
output exampleKeyVaultUri string = deployExampleKeyVault ? vault!.outputs.vaultUri : ''
