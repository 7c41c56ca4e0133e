// Package bot is Keyturn's Teams front door: an echo server whose
// POST /api/messages authenticates Bot Framework activities, turns
// @mention commands and card actions into work, answers invokes in the same
// HTTP response, and runs rotations on a bounded worker pool after the
// acknowledgement, posting outcomes back into the conversation.
//
// It knows rotation's API and Teams, never an Azure SDK or adapter: those
// arrive through the small interfaces in ports.go, wired by cmd/bot. It
// never logs bodies, headers or tokens, and nothing it posts or answers
// carries a secret value: rotation results hold none.
package bot
