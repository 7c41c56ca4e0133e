// Package command turns the text of a Teams message into a Keyturn Command:
// it strips the bot's @mention (found by the mentioned account's ID, never
// by display name), tolerates the HTML and spacing Teams adds, and parses
// the small grammar the bot understands:
//
//	help
//	rotate <app> [into <vault>]
//	status <app>
//	retire <app>
//	whoami
//	audit here
//	radar here
//	expiring [within <days>d]
//
// <app> is an application's client ID (a GUID) or an alias; <vault> is a Key
// Vault name or its https URI. Parsing is pure: it decides nothing about
// whether the caller may do what it asks.
//
// The package imports only the standard library and bot/activity; never an
// Azure SDK or adapter.
package command

import (
	"regexp"
	"strings"

	"github.com/keyturn/keyturn/bot/activity"
)

// Verb is what a command asks for.
type Verb string

// Verbs. NotForUs marks a group message that does not mention the bot: the
// caller ignores it without answering.
const (
	Help      Verb = "help"
	Rotate    Verb = "rotate"
	Status    Verb = "status"
	Retire    Verb = "retire"
	WhoAmI    Verb = "whoami"
	AuditHere Verb = "audit here"
	RadarHere Verb = "radar here"
	Expiring  Verb = "expiring"
	NotForUs  Verb = "not-for-us"
)

// MaxTextBytes is the longest message text Parse accepts.
const MaxTextBytes = 1024

// Command is a parsed message.
type Command struct {
	Verb Verb
	// App is the target application for Rotate, Status and Retire: a
	// lower-case client ID (see IsClientID) or a lower-case alias matching
	// AppPattern.
	App string
	// Vault is the optional target of Rotate: a lower-case vault name, or a
	// vault URI normalised to "https://<host>/".
	Vault string
	// Unknown is set with Verb Help when the first word is not a verb: the
	// caller shows the help card.
	Unknown bool
	// WithinDays is how far ahead Expiring looks; 0 means the default.
	WithinDays int
}

// ParseError is a message that names a verb but does not follow its
// grammar. Reason is one line for people, ending with the verb's usage; it
// never repeats the user's input.
type ParseError struct {
	Reason string
}

// Error returns the reason.
func (e *ParseError) Error() string { return e.Reason }

// AppPattern is the form of an app alias, after lower-casing.
var AppPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

var (
	clientIDPattern  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	vaultNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,22}[a-z0-9]$`)
)

// IsClientID reports whether app is a client ID (a lower-case GUID) rather
// than an alias.
func IsClientID(app string) bool {
	return clientIDPattern.MatchString(app)
}

// Parse parses the text of message a. In a channel or group chat the message
// must mention the bot (a mention entity whose mentioned.id equals
// a.Recipient.ID), else Parse returns Command{Verb: NotForUs}. In a personal
// chat a mention is optional. Mention markup is removed before parsing.
//
// Errors: *ParseError only. Empty text (a bare mention) is Help.
func Parse(a *activity.Activity) (Command, error) {
	mentions := a.Mentions()
	forUs := false
	for _, m := range mentions {
		if a.Recipient.ID != "" && strings.EqualFold(m.Mentioned.ID, a.Recipient.ID) {
			forUs = true
		}
	}
	if a.IsGroup() && !forUs {
		return Command{Verb: NotForUs}, nil
	}
	if len(a.Text) > MaxTextBytes {
		return Command{}, errTooLong
	}
	text := a.Text
	// Mentioned accounts are never arguments: remove the markup of every
	// mention, the bot's included, by the exact text its entity names.
	for _, m := range mentions {
		markup := m.Text
		if markup == "" && m.Mentioned.Name != "" {
			markup = "<at>" + m.Mentioned.Name + "</at>"
		}
		if markup != "" {
			text = strings.Replace(text, markup, " ", 1)
		}
	}
	return parse(text)
}

// ParseText parses text that carries no mention entities (the bot's mention
// already removed, or a personal chat). It applies the same HTML clean-up,
// limits and grammar as Parse. Errors: *ParseError only.
func ParseText(text string) (Command, error) {
	if len(text) > MaxTextBytes {
		return Command{}, errTooLong
	}
	return parse(text)
}

var errTooLong = &ParseError{Reason: "message too long: commands are at most 1 KB"}

func parse(text string) (Command, error) {
	return parseWords(strings.Fields(normalize(text)))
}
