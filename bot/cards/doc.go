// Package cards builds the Adaptive Cards (schema 1.5) that Keyturn posts
// in Teams: help, welcome, who-am-I, errors, rotation progress and results,
// status, retirements and approval requests.
//
// Cards never hold a secret. Builders take only rotation.Result,
// rotation.Status, rotation.Retirement, rotation.ApprovalRequest, Viewer
// and plain strings, none of which can carry a rotation.Secret (a test
// walks their types to keep it so); a rotated secret is shown only as the
// versioned Key Vault URI that holds it.
//
// Only the approval card has buttons: Universal Actions (Action.Execute,
// answered by the bot in the invoke's HTTP response), each with an
// Action.Submit fallback for clients without them, and a refresh that lets
// approvers' clients fetch their own version of the card. The values its
// actions send back (ActionData) are data for the bot, never displayed.
//
// Markdown rule: Teams interprets Markdown (links, emphasis, lists) in
// TextBlock text and in Fact titles and values. Those carry only text
// written in this package. Every value that comes from outside (an app's
// display name, a credential's name, an error message, a user's name, an
// ID, a URI) is put in a TextRun inside a RichTextBlock, where Adaptive
// Cards never interpret Markdown, so a display name such as
// "[Sign in again](https://evil.example)" shows as typed and cannot become a
// link in a card that comes from a trusted bot.
//
// Output is deterministic: the same input gives the same bytes. Times are
// shown in UTC ("2 Jan 2006 15:04 UTC").
//
// The package imports rotation and the standard library only; it knows
// nothing of Teams transport (send the card with Attachment's values).
package cards
