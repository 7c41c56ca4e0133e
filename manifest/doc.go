// Package manifest builds Keyturn's Teams app package: manifest.json for
// the bot, a 192×192 colour icon and a 32×32 outline icon, zipped the way
// Teams expects for an upload (the three files at the root of the zip).
//
// The bot's command lists come from bot/command's grammar, so the package
// never offers a command the bot does not parse. The manifest asks for no
// permission, device permission or single sign-on: Keyturn reads people's
// identities from the activities Teams sends it and their roles from Entra
// ID, and needs nothing from the Teams client.
//
// The package imports only the standard library and bot/command; it
// never reads flags or the environment (cmd/bot does).
package manifest
