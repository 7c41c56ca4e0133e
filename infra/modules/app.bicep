// Keyturn's runtime: Log Analytics for the container logs, a Container Apps
// environment, and the container app running `keyturn serve` with the
// user-assigned identity, HTTPS ingress to port 3978, health probes, and the
// policy file mounted from a Container Apps secret.

@description('Required. Base name of the resources.')
param name string

@description('Required. Location of the resources.')
param location string

@description('Optional. Tags for the resources.')
param tags object = {}

@description('Required. The Keyturn container image.')
param containerImage string

@description('Required. Login server of a private registry, or empty for a public image.')
param containerRegistryServer string

@description('Required. Content of the policy file.')
param policyContent string

@description('Required. Fewest replicas.')
param minReplicas int

@description('Required. Most replicas.')
param maxReplicas int

@description('Required. Days Log Analytics keeps the logs.')
param logRetentionInDays int

@description('Required. KEYTURN_LOG_LEVEL.')
param logLevel string

@description('Required. Resource ID of the user-assigned managed identity.')
param identityResourceId string

@description('Required. Client ID of the identity: the bot\'s App ID and AZURE_CLIENT_ID.')
param identityClientId string

@description('Required. Object ID of the identity\'s service principal (KEYTURN_PRINCIPAL_ID).')
param identityPrincipalId string

@description('Required. Tenant of the bot (MicrosoftAppTenantId).')
param tenantId string

@description('Required. Table service endpoint (KEYTURN_TABLES_URL).')
param tablesUrl string

@description('Required. Name of the state table (KEYTURN_TABLES_TABLE).')
param tableName string

var port = 3978
var policyDir = '/etc/keyturn'

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' = {
  name: 'log-${name}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionInDays
  }
}

resource managedEnvironment 'Microsoft.App/managedEnvironments@2026-01-01' = {
  name: 'cae-${name}'
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspace.properties.customerId
        // Read by Azure Resource Manager during the deployment; nobody
        // types or sees it.
        sharedKey: workspace.listKeys().primarySharedKey
      }
    }
  }
}

resource containerApp 'Microsoft.App/containerApps@2026-01-01' = {
  name: toLower('ca-${name}')
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    environmentId: managedEnvironment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true // the Bot Framework service calls it from the internet
        targetPort: port
        transport: 'auto'
        allowInsecure: false
      }
      registries: empty(containerRegistryServer)
        ? []
        : [
            {
              server: containerRegistryServer
              identity: identityResourceId
            }
          ]
      // The policy is not a secret, but a Container Apps secret is the one
      // way to mount a file without a file share (which would need a
      // storage account key).
      secrets: [
        {
          name: 'keyturn-policy'
          value: policyContent
        }
      ]
    }
    template: {
      // On SIGTERM Keyturn stops accepting and gives in-flight work 30 s;
      // what is cut short is finished or undone by the journal's recovery.
      terminationGracePeriodSeconds: 45
      containers: [
        {
          name: 'keyturn'
          image: containerImage
          args: [
            'serve'
          ]
          resources: {
            cpu: json('0.25')
            memory: '0.5Gi'
          }
          env: [
            {
              name: 'MicrosoftAppId'
              value: identityClientId
            }
            {
              name: 'MicrosoftAppType'
              value: 'UserAssignedMSI'
            }
            {
              name: 'MicrosoftAppTenantId'
              value: tenantId
            }
            {
              name: 'AZURE_CLIENT_ID'
              value: identityClientId
            }
            {
              name: 'KEYTURN_PRINCIPAL_ID'
              value: identityPrincipalId
            }
            {
              name: 'KEYTURN_STORE'
              value: 'azure-tables'
            }
            {
              name: 'KEYTURN_TABLES_URL'
              value: tablesUrl
            }
            {
              name: 'KEYTURN_TABLES_TABLE'
              value: tableName
            }
            {
              name: 'KEYTURN_POLICY'
              value: '${policyDir}/keyturn.yaml'
            }
            {
              name: 'KEYTURN_LOG_LEVEL'
              value: logLevel
            }
            {
              name: 'PORT'
              value: string(port)
            }
            // Not read by Keyturn: it changes with the policy, so a policy
            // change rolls out a new revision (a changed secret alone does not).
            {
              name: 'KEYTURN_POLICY_DIGEST'
              value: uniqueString(policyContent)
            }
          ]
          volumeMounts: [
            {
              volumeName: 'policy'
              mountPath: policyDir
            }
          ]
          probes: [
            {
              type: 'Liveness'
              httpGet: {
                path: '/healthz'
                port: port
              }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/readyz'
                port: port
              }
              periodSeconds: 5
              failureThreshold: 3
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
      }
      volumes: [
        {
          name: 'policy'
          storageType: 'Secret'
          secrets: [
            {
              secretRef: 'keyturn-policy'
              path: 'keyturn.yaml'
            }
          ]
        }
      ]
    }
  }
}

@description('The container app\'s host name.')
output fqdn string = containerApp.properties.configuration.ingress.fqdn

@description('The bot\'s messaging endpoint.')
output messagingEndpoint string = 'https://${containerApp.properties.configuration.ingress.fqdn}/api/messages'

@description('Name of the container app.')
output containerAppName string = containerApp.name
