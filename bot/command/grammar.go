package command

import (
	"net/url"
	"regexp"
	"strings"
)

// Usage lines, shown at the end of every ParseError.
const (
	usageRotate = "rotate <app> [into <vault>]"
	usageStatus = "status <app>"
	usageRetire = "retire <app>"
	usageWhoAmI = "whoami"
	usageAudit  = "audit here"
	usageRadar  = "radar here"
	usageExpire = "expiring [within <days>d]"
)

// Syntax is one command of the grammar as people see it: on the help card,
// in the Teams app manifest's command lists.
type Syntax struct {
	// Verb is the command; its words are what a user types first.
	Verb Verb
	// Usage is the command's words and arguments, such as
	// "rotate <app> [into <vault>]".
	Usage string
	// Summary says in one sentence what the command does (at most 128
	// characters: the Teams command menu's limit for a description).
	Summary string
}

// grammar is every command the bot understands, in the order help lists
// them. parseWords recognises a first word only through this table, so
// Commands lists every command Parse can return.
var grammar = []struct {
	Syntax
	parse func(verb string, args []string) (Command, error)
}{
	{Syntax{Help, "help", "Show what Keyturn can do."}, parseHelp},
	{Syntax{Rotate, usageRotate, "Ask for a new client secret for an app, written straight into Key Vault once approved."}, parseRotate},
	{Syntax{Status, usageStatus, "Show an app's client secrets, what the vault holds and any pending retirement."}, parseAppVerb},
	{Syntax{Retire, usageRetire, "Retire an app's previous secrets whose overlap window has ended."}, parseAppVerb},
	{Syntax{WhoAmI, usageWhoAmI, "Show your Entra object ID, tenant and Keyturn roles."}, parseWhoAmI},
	{Syntax{AuditHere, usageAudit, "Approvers only: post Keyturn's audit trail to this conversation."}, parseAudit},
	{Syntax{RadarHere, usageRadar, "Approvers only: post warnings about client secrets that expire soon to this conversation."}, parseRadar},
	{Syntax{Expiring, usageExpire, "List the apps whose client secrets expire soon (within 30 days unless you say)."}, parseExpiring},
}

// Commands returns the commands of the grammar, in the order help lists
// them. It is the one list of commands: the Teams app manifest's command
// lists are built from it.
func Commands() []Syntax {
	out := make([]Syntax, len(grammar))
	for i, g := range grammar {
		out[i] = g.Syntax
	}
	return out
}

func parseWords(words []string) (Command, error) {
	if len(words) == 0 {
		return Command{Verb: Help}, nil
	}
	verb, _ := asciiLower(words[0])
	for _, g := range grammar {
		if first, _, _ := strings.Cut(string(g.Verb), " "); first == verb {
			return g.parse(verb, words[1:])
		}
	}
	return Command{Verb: Help, Unknown: true}, nil
}

func parseHelp(string, []string) (Command, error) {
	return Command{Verb: Help}, nil
}

// parseAppVerb parses status and retire: the verb and one app.
func parseAppVerb(verb string, args []string) (Command, error) {
	usage := usageStatus
	if verb == string(Retire) {
		usage = usageRetire
	}
	if len(args) == 0 {
		return Command{}, perr(verb+" needs an app", usage)
	}
	if len(args) > 1 {
		return Command{}, perr("too many words", usage)
	}
	app, err := parseApp(args[0], usage)
	if err != nil {
		return Command{}, err
	}
	return Command{Verb: Verb(verb), App: app}, nil
}

func parseWhoAmI(_ string, args []string) (Command, error) {
	if len(args) > 0 {
		return Command{}, perr("whoami takes no arguments", usageWhoAmI)
	}
	return Command{Verb: WhoAmI}, nil
}

func parseAudit(_ string, args []string) (Command, error) {
	return parseHere(args, AuditHere, "audit works only for this conversation", usageAudit)
}

func parseRadar(_ string, args []string) (Command, error) {
	return parseHere(args, RadarHere, "the radar works only for this conversation", usageRadar)
}

// parseHere parses the one word "here" after a verb that acts on the
// conversation it is said in.
func parseHere(args []string, verb Verb, reason, usage string) (Command, error) {
	if len(args) != 1 {
		return Command{}, perr(reason, usage)
	}
	if w, _ := asciiLower(args[0]); w != "here" {
		return Command{}, perr(reason, usage)
	}
	return Command{Verb: verb}, nil
}

// maxWithinDays bounds "expiring within N": a year, like a secret's
// longest lifetime.
const maxWithinDays = 365

// parseExpiring parses "expiring" and "expiring within 14d" (days, or
// weeks with w).
func parseExpiring(_ string, args []string) (Command, error) {
	switch len(args) {
	case 0:
		return Command{Verb: Expiring}, nil
	case 2:
	default:
		return Command{}, perr("say how far ahead, such as: expiring within 14d", usageExpire)
	}
	if w, _ := asciiLower(args[0]); w != "within" {
		return Command{}, perr("say how far ahead, such as: expiring within 14d", usageExpire)
	}
	n, unit := args[1], byte('d')
	if l := len(n); l > 1 && (n[l-1] == 'd' || n[l-1] == 'w' || n[l-1] == 'D' || n[l-1] == 'W') {
		n, unit = n[:l-1], n[l-1]|0x20
	}
	days := 0
	for _, c := range n {
		if c < '0' || c > '9' || days > maxWithinDays*7 {
			return Command{}, perr("the time must be a number of days, such as 14d or 2w", usageExpire)
		}
		days = days*10 + int(c-'0')
	}
	if unit == 'w' {
		days *= 7
	}
	if days < 1 || days > maxWithinDays || n == "" {
		return Command{}, perr("the time must be between 1d and 365d", usageExpire)
	}
	return Command{Verb: Expiring, WithinDays: days}, nil
}

func parseRotate(_ string, args []string) (Command, error) {
	if len(args) == 0 {
		return Command{}, perr("rotate needs an app", usageRotate)
	}
	app, err := parseApp(args[0], usageRotate)
	if err != nil {
		return Command{}, err
	}
	cmd := Command{Verb: Rotate, App: app}
	rest := args[1:]
	if len(rest) == 0 {
		return cmd, nil
	}
	if w, _ := asciiLower(rest[0]); w != "into" || len(rest) > 2 {
		return Command{}, perr("too many words", usageRotate)
	}
	if len(rest) == 1 {
		return Command{}, perr("into needs a vault", usageRotate)
	}
	if cmd.Vault, err = parseVault(rest[1]); err != nil {
		return Command{}, err
	}
	return cmd, nil
}

// parseApp validates and lower-cases an app word. Only ASCII is accepted
// before lower-casing, so look-alike letters (Cyrillic, the Kelvin sign)
// never fold into a valid alias.
func parseApp(word, usage string) (string, error) {
	app, ok := asciiLower(word)
	if !ok || !AppPattern.MatchString(app) {
		return "", perr("the app must be a client ID or an alias of letters, digits, '-', '_' and '.'", usage)
	}
	return app, nil
}

var hostPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)

// parseVault returns a lower-case vault name (Key Vault's rules: 3-24
// characters, a letter first, letters, digits and single dashes, no dash
// last) or a vault URI normalised to "https://<host>/".
func parseVault(word string) (string, error) {
	badVault := perr("the vault must be a Key Vault name or an https URI", usageRotate)
	v, ok := asciiLower(word)
	if !ok {
		return "", badVault
	}
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "https" || u.Opaque != "" || u.User != nil ||
			u.Port() != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" ||
			(u.Path != "" && u.Path != "/") || len(u.Host) > 253 || !hostPattern.MatchString(u.Host) {
			return "", badVault
		}
		return "https://" + u.Host + "/", nil
	}
	if !vaultNamePattern.MatchString(v) || strings.Contains(v, "--") {
		return "", badVault
	}
	return v, nil
}

// asciiLower lower-cases s if it is all ASCII; ok is false otherwise.
func asciiLower(s string) (string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return s, false
		}
	}
	return strings.ToLower(s), true
}

func perr(reason, usage string) *ParseError {
	return &ParseError{Reason: reason + ": " + usage}
}
