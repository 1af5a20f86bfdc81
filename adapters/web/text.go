package web

import (
	"strings"

	"github.com/upgradebot/upgradebot/bot"
)

// httpText renders the core's rich text for HTTP answers (error messages
// of the API and the pages): plain, times in UTC, people by name, links
// as "label (URL)". A command hint (SpanCommand) is for chat ("Try
// /upgrade list."): there is nothing to type over HTTP, so it is left out
// with the clause that offers it, back to the sentence or clause before
// ("Unknown upgrade UPG-9. Try <hint>." -> "Unknown upgrade UPG-9.").
func httpText(t bot.Text) string {
	var b strings.Builder
	skipping := false // in the clause of a hint, until it ends
	for _, s := range t {
		var part string
		switch s.Kind {
		case bot.SpanCommand:
			if !skipping {
				cut := strings.TrimRight(b.String(), " \t")
				i := max(strings.LastIndex(cut, ". "), strings.LastIndex(cut, "; "))
				if i < 0 { // the hint is in the first clause: all of it goes
					i = 0
				}
				rest := cut[:i]
				b.Reset()
				b.WriteString(rest)
				skipping = true
			}
			continue
		case bot.SpanTime:
			part = bot.FormatTime(s.At, nil)
		case bot.SpanMention:
			part = s.Who.Name
		case bot.SpanChannel:
			part = bot.ChannelName(s.ID)
		case bot.SpanLink:
			part = s.URL
			if s.Text != "" && s.Text != s.URL {
				part = s.Text + " (" + s.URL + ")"
			}
		case bot.SpanTyped, bot.SpanTypedCode:
			part = bot.Retyped(s.Text, "")
		default:
			part = s.Text
		}
		if skipping {
			end := clauseEnd(part)
			if end < 0 {
				continue
			}
			skipping = false
			if b.Len() > 0 {
				b.WriteString(".")
				part = part[end+1:]
			} else {
				part = strings.TrimLeft(part[end+1:], " \t")
			}
		}
		b.WriteString(part)
	}
	if skipping && b.Len() > 0 {
		b.WriteString(".")
	}
	return strings.TrimSpace(b.String())
}

// clauseEnd is the index of the mark that ends the first clause of s (a
// full stop, semicolon, question or exclamation mark at the end or before
// a space), or -1.
func clauseEnd(s string) int {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(".;!?", s[i]) >= 0 && (i+1 == len(s) || s[i+1] == ' ' || s[i+1] == '\n') {
			return i
		}
	}
	return -1
}

// httpMessage is the user-safe message of an error of the core, worded
// for HTTP (httpText).
func httpMessage(err error) string { return httpText(bot.ErrorText(err)) }
