package cards

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Adaptive Card enumeration values used here.
const (
	colorGood      = "Good"
	colorWarning   = "Warning"
	colorAttention = "Attention"
	colorAccent    = "Accent"
	weightBolder   = "Bolder"
	spacingSmall   = "Small"
	spacingMedium  = "Medium"
	spacingLarge   = "Large"
	fontMonospace  = "Monospace"
)

// DateLayout is how cards show times, always in UTC.
const DateLayout = "2 Jan 2006 15:04 UTC"

// maxText bounds any outside text shown in one run, and maxItems the
// entries listed per section, so a card stays far below Teams' message
// size limit (about 28 KB).
const (
	maxText  = 400
	maxItems = 10
)

// title is the card's heading, text written here.
func title(text, color string) textBlock {
	return textBlock{Type: "TextBlock", Text: text, Wrap: true, Style: "heading", Size: spacingLarge, Weight: weightBolder, Color: color}
}

// section starts a part of the card, text written here.
func section(text string) textBlock {
	return textBlock{Type: "TextBlock", Text: text, Wrap: true, Style: "heading", Weight: weightBolder, Spacing: spacingLarge, Separator: true}
}

// para is a paragraph written here.
func para(text string) textBlock {
	return textBlock{Type: "TextBlock", Text: text, Wrap: true}
}

// note is a small, subtle paragraph written here.
func note(text string) textBlock {
	return textBlock{Type: "TextBlock", Text: text, Wrap: true, Size: spacingSmall, IsSubtle: true, Spacing: spacingMedium}
}

// plain is a run of outside text: never interpreted as Markdown.
func plain(s string) textRun {
	return textRun{Type: "TextRun", Text: clip(s)}
}

// mono is a run of outside text in a monospace font (IDs, URIs).
func mono(s string) textRun {
	r := plain(s)
	r.FontType = fontMonospace
	return r
}

// strong is a run of outside text in bold.
func strong(s string) textRun {
	r := plain(s)
	r.Weight = weightBolder
	return r
}

// colored returns r in color.
func colored(r textRun, color string) textRun {
	r.Color = color
	return r
}

// subtle returns r de-emphasised.
func subtle(r textRun) textRun {
	r.IsSubtle = true
	return r
}

// line is one RichTextBlock of runs.
func line(runs ...textRun) richText {
	return richText{Type: "RichTextBlock", Inlines: runs}
}

// field is one row of a two-column table: a label written here and a value
// line of runs.
func field(label string, runs ...textRun) columnSet {
	return row(label, line(runs...))
}

// row is one row of a two-column table whose value is one or more
// elements (several lines of runs, one per URI say).
func row(label string, value ...element) columnSet {
	return columnSet{
		Type: "ColumnSet",
		Columns: []column{
			{Type: "Column", Width: 2, Items: []element{textBlock{Type: "TextBlock", Text: label, Wrap: true, Weight: weightBolder}}},
			{Type: "Column", Width: 5, Items: value},
		},
		Spacing: spacingSmall,
	}
}

// lines returns one line per run, for a row with several values.
func lines(runs ...textRun) []element {
	out := make([]element, 0, len(runs))
	for _, r := range runs {
		out = append(out, line(r))
	}
	return out
}

// table groups rows; separated from what precedes it when sep.
func table(sep bool, rows ...element) container {
	c := container{Type: "Container", Items: rows, Spacing: spacingMedium, Separator: sep}
	if len(c.Items) == 0 {
		c.Items = []element{}
	}
	return c
}

// more says how many entries a section left out.
func more(n int, what string) textBlock {
	return note("…and " + strconv.Itoa(n) + " more " + what + " (the CLI's status command lists them all).")
}

// date formats t for people; the zero time is "not set".
func date(t time.Time) string {
	if t.IsZero() {
		return "not set"
	}
	return t.UTC().Format(DateLayout)
}

// span formats a validity period.
func span(from, to time.Time) string {
	return date(from) + " – " + date(to)
}

// orNone replaces an empty value.
func orNone(s, none string) string {
	if strings.TrimSpace(s) == "" {
		return none
	}
	return s
}

// clip bounds outside text to maxText runes and drops invalid UTF-8.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= maxText {
		return s
	}
	r := []rune(s)
	return string(r[:maxText-1]) + "…"
}

// card assembles a Card from body elements.
func card(body ...element) Card {
	return Card{body: body}
}
