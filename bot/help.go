package bot

import (
	"github.com/keyturn/keyturn/bot/cards"
	"github.com/keyturn/keyturn/bot/command"
)

// helpItems is the grammar's table of commands, as the help card lists
// them: one list, so help shows every command the bot understands.
func helpItems() []cards.HelpItem {
	cmds := command.Commands()
	out := make([]cards.HelpItem, len(cmds))
	for i, c := range cmds {
		out[i] = cards.HelpItem{Usage: c.Usage, Summary: c.Summary}
	}
	return out
}
