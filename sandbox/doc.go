// Package sandbox is Keyturn's local try-it-out: the real bot, served in
// emulator mode on loopback, with everything Azure replaced by in-process
// stand-ins, and a local web page that looks and works like a Teams channel.
//
// The pieces:
//
//   - the demo tenant file (tenant.go, demo-tenant.jsonc): the directory
//     (users with object IDs, groups that nest and hold roles, directory
//     and app roles, app registrations owned by Keyturn or not), vaults,
//     and the Teams team and channels. One file a person can edit.
//   - the policy file (policy.go, demo-policy.yaml): an ordinary Keyturn
//     policy, read and decided on by package policy exactly as serve does.
//   - World (world.go, persist.go, directory.go): the stand-ins of package
//     rotation/memory (directory, verifier, vault, role directory) seeded
//     from the tenant file and the policy and persisted in the state
//     directory. Secret values are never written to disk; each
//     carries SecretMarker so tests can prove none reaches the page.
//   - the channel (channel.go): turns what a person does on the page into
//     Teams activities (messages with an @mention, Action.Execute invokes,
//     Action.Submit messages, installation updates) and posts them to the
//     bot's real /api/messages.
//   - the connector emulator (connector.go): the bot's serviceUrl. It takes
//     the bot's POST and PUT v3/conversations/... calls, stores them per
//     channel (chat.go) and pushes them to the page over Server-Sent Events
//     (events.go).
//   - the page (web/, page.go): HTML, CSS and JavaScript embedded with
//     go:embed; cards are rendered by Microsoft's official renderer from
//     third_party/adaptivecards. No network at run time.
//
// Run serves all this next to the bot; cmd/bot builds the bot from World's
// stand-ins and passes its Serve method in. The package never imports
// package bot or an Azure SDK: it talks to the bot over HTTP only, as Teams
// would.
package sandbox
