package cards

// secretNote is the promise every card about secrets repeats.
const secretNote = "Keyturn never shows a secret. It writes the new secret straight into Azure Key Vault and shows only the vault URI; applications read the secret from the vault."

// HelpItem is one command on the help card: its usage ("rotate <app>
// [into <vault>]") and what it does in a sentence. The bot passes in its
// grammar's table (bot/command.Commands), the one list of commands.
type HelpItem struct {
	Usage, Summary string
}

// Help is the command list. botName is how users mention the bot in a
// channel; examples, if any, are shown as example messages (for instance
// with the aliases configured in this deployment).
func Help(botName string, cmds []HelpItem, examples ...string) Card {
	return help(title("What I can do", ""), botName, cmds, examples)
}

// NotUnderstood answers a message that is no command: it says so, then
// lists the commands as Help does.
func NotUnderstood(botName string, cmds []HelpItem) Card {
	return help(title("I did not understand that", colorWarning), botName, cmds, nil)
}

func help(heading element, botName string, cmds []HelpItem, examples []string) Card {
	body := []element{
		heading,
		line(plain("In a channel, mention "), strong("@"+orNone(botName, "Keyturn")), plain(" before the command; in a chat with me, just type it.")),
	}
	items := make([]element, 0, 2*len(cmds))
	for _, c := range cmds {
		// The syntax has angle brackets: a TextRun keeps them from being
		// read as HTML or Markdown.
		syntax := line(colored(strong(c.Usage), colorAccent))
		syntax.Inlines[0].FontType = fontMonospace
		syntax.Spacing = spacingMedium
		what := line(plain(c.Summary))
		what.Spacing = "None"
		items = append(items, syntax, what)
	}
	body = append(body, table(true, items...),
		line(subtle(mono("<app>")), subtle(plain(" is the application (client) ID or its alias; ")),
			subtle(mono("<vault>")), subtle(plain(" is a Key Vault name or its https URI."))))
	if len(examples) > 0 {
		runs := make([]textRun, 0, min(len(examples), maxItems))
		for _, e := range examples[:min(len(examples), maxItems)] {
			runs = append(runs, mono(e))
		}
		body = append(body, section("Examples"))
		body = append(body, lines(runs...)...)
	}
	body = append(body, note(secretNote))
	return card(body...)
}

// Welcome greets a team or chat the bot was just added to.
func Welcome(botName string) Card {
	return card(
		title("Hello!", ""),
		line(plain("I'm "), strong(orNone(botName, "Keyturn")), plain(".")),
		para("I rotate the client secrets of Entra ID applications straight into Azure Key Vault, so that no person ever sees them. Each rotation is verified before the previous secret is retired, and every step is audited."),
		para("Type **help** to see the commands."),
		note(secretNote),
	)
}

// WhoAmI shows the caller as Keyturn authorizes them: the Entra object ID
// and tenant from the activity, and the roles that grants, each a line
// such as "Application Administrator: may approve rotations, …".
func WhoAmI(name, objectID, tenantID string, roles []string) Card {
	roleRuns := make([]textRun, 0, len(roles))
	for _, r := range roles[:min(len(roles), maxItems)] {
		roleRuns = append(roleRuns, plain(r))
	}
	roleValue := lines(roleRuns...)
	if len(roles) == 0 {
		roleValue = []element{line(subtle(plain("none")))}
	}
	if len(roles) > maxItems {
		roleValue = append(roleValue, more(len(roles)-maxItems, "roles"))
	}
	return card(
		title("Who you are to Keyturn", ""),
		table(false,
			field("Name", plain(orNone(name, "(no name)"))),
			field("Object ID", mono(orNone(objectID, "(none)"))),
			field("Tenant", mono(orNone(tenantID, "(none)"))),
			row("Roles", roleValue...),
		),
		note("Keyturn decides what you may do from your object ID and tenant, never from your display name."),
	)
}

// Error tells the user a request failed. message is the sentence for
// people (never internal detail); referenceID matches the log line and is
// left out when empty.
func Error(message, referenceID string) Card {
	body := []element{
		title("That did not work", colorAttention),
		line(plain(orNone(message, "Something went wrong."))),
	}
	if referenceID != "" {
		body = append(body,
			table(false, field("Reference", mono(referenceID))),
			note("Quote the reference when you ask an administrator: it finds the matching entry in Keyturn's log."),
		)
	}
	return card(body...)
}
