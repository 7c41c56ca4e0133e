// Package graphroles implements rotation.RoleDirectory with Microsoft Graph
// (msgraph-sdk-go v1.89.0): which directory roles a user holds, which of a
// list of groups a user is in (transitively), and who holds the app roles
// of Keyturn's own service principal.
//
//   - DirectoryRoleTemplates: GET /users/{id}/transitiveMemberOf/microsoft.graph.directoryRole
//     ?$select=id,roleTemplateId,displayName, every page, with
//     ConsistencyLevel: eventual and $count=true, which Graph documents as
//     required for an OData cast on a membership list (its index may lag a
//     role change briefly). Entries of another type are skipped, in case
//     the cast is ignored.
//   - MemberGroups: POST /users/{id}/checkMemberGroups {"groupIds":[...]}, at
//     most 20 IDs per request.
//   - AppRoleAssignments: GET /servicePrincipals/{spId}/appRoleAssignedTo
//     ?$select=appRoleId,principalId,principalType, every page, filtered here.
//
// For keyturn doctor it also implements doctor.Principals, doctor.Apps and
// doctor.Directory (setup.go): GETs of service principals (Keyturn's and
// Microsoft Graph's, with app roles), the app role assignments Keyturn
// holds, an application with its owners, the tenant default and
// app-specific app management policies, a group and a directory role
// template. A 403 wraps doctor.ErrForbidden and names the permission, a
// 404 doctor.ErrNotFound.
//
// The requests are built as kiota RequestInformation values and sent
// through the SDK's request adapter, authentication and middleware (see
// azure/internal/graphcore). The package imports the models and nothing
// else of msgraph-sdk-go: the users package's builders would add about 20 s
// and 1.2 GB of compiler memory to every cold build for two URLs, and the
// root package far more.
//
// All three calls are reads or a safe POST, so 429, 503 and 504 are retried
// (Retry-After honoured, else exponential backoff) by graphcore's loop,
// the SDK's own retry handler being off. IDs are validated as GUIDs before
// any URL is built (rotation.ErrInvalid); next links are followed only
// within the base URL. Errors name what Keyturn lacks: an unknown user, or
// the Graph application permission a 403 asks for. The Authorizer denies on
// any error.
//
// SDK types stop here. It must not import the bot, the vault adapter or
// cmd/bot.
package graphroles
