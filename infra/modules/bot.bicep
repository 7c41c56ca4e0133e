// The Azure Bot: its App ID is the user-assigned managed identity
// (msaAppType UserAssignedMSI), so neither Azure nor Keyturn holds a bot
// password. Teams is its only channel.

@description('Required. Globally unique name (handle) of the bot.')
param name string

@description('Required. Display name in the Azure portal.')
param displayName string

@description('Optional. Tags for the bot.')
param tags object = {}

@description('Required. F0 or S1.')
param skuName string

@description('Required. The messaging endpoint: https://<container app FQDN>/api/messages.')
param endpoint string

@description('Required. Resource ID of the user-assigned managed identity that is the bot\'s identity.')
param identityResourceId string

@description('Required. Client ID of that identity: the bot\'s App ID (MicrosoftAppId).')
param identityClientId string

@description('Required. Tenant of that identity (MicrosoftAppTenantId).')
param tenantId string

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: name
  location: 'global'
  tags: tags
  kind: 'azurebot'
  sku: {
    name: skuName
  }
  properties: {
    displayName: displayName
    endpoint: endpoint
    msaAppType: 'UserAssignedMSI'
    msaAppId: identityClientId
    msaAppTenantId: tenantId
    msaAppMSIResourceId: identityResourceId
  }
}

resource teams 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: {
      isEnabled: true
    }
  }
}

@description('Name of the bot resource.')
output name string = bot.name
