package command

import (
	"html"
	"strings"
	"unicode"
)

// normalize turns message text as Teams sends it into plain words: mention
// elements left over are dropped with their content, other tags removed
// (block tags become spaces), entities unescaped, invisible characters
// removed, white space (NBSP included) made plain and trailing punctuation
// cut.
func normalize(s string) string {
	s = dropMentionElements(s)
	s = stripTags(s)
	s = html.UnescapeString(s)
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\u200b', r == '\u200c', r == '\u200d', r == '\u2060', r == '\ufeff':
			return -1
		case unicode.IsSpace(r), unicode.IsControl(r):
			return ' '
		}
		return r
	}, s)
	return strings.TrimRightFunc(s, func(r rune) bool {
		return r == ' ' || r == '.' || r == '!' || r == '?' || r == ','
	})
}

// dropMentionElements removes every <at>...</at> element, content included.
// Tag names match case-insensitively.
func dropMentionElements(s string) string {
	for {
		start := indexASCIIFold(s, "<at>")
		if start < 0 {
			return s
		}
		end := indexASCIIFold(s[start:], "</at>")
		if end < 0 {
			return s
		}
		s = s[:start] + " " + s[start+end+len("</at>"):]
	}
}

// indexASCIIFold is strings.Index with ASCII letters of s compared
// case-insensitively to the lower-case ASCII sub. Unlike lower-casing s
// first, it keeps byte offsets valid whatever s holds.
func indexASCIIFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		match := true
		for j := 0; j < len(sub); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

// stripTags removes HTML tags: a '<' followed by a letter, '/' or '!' up to
// the next '>'. A '<' that opens no tag stays. Tags that break lines or
// blocks become a space so the words on either side stay apart.
func stripTags(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 || i+1 >= len(s) || !opensTag(s[i+1]) {
			if i < 0 || i+1 >= len(s) {
				b.WriteString(s)
				return b.String()
			}
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		if breaksWords(s[i+1 : i+j]) {
			b.WriteByte(' ')
		}
		s = s[i+j+1:]
	}
}

func opensTag(c byte) bool {
	return c == '/' || c == '!' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// breaksWords reports whether the tag (without its angle brackets) separates
// words: line breaks and block elements.
func breaksWords(tag string) bool {
	name := strings.TrimPrefix(tag, "/")
	if k := strings.IndexAny(name, " \t\r\n/"); k >= 0 {
		name = name[:k]
	}
	switch strings.ToLower(name) {
	case "br", "p", "div", "li", "ul", "ol", "tr", "td", "th", "table", "blockquote", "pre", "h1", "h2", "h3", "hr":
		return true
	}
	return false
}
