package console

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/upgradebot/upgradebot/bot"
)

// render lays a message out for a terminal: a header line saying where it
// went, then its content indented under a bar, its times and command hints
// written by plain.
func render(header string, m bot.Message, plain bot.Plain) string {
	var b strings.Builder
	b.WriteString(header + "\n")
	bar := "  │ "
	if m.Alert {
		bar = "  ┃ "
	}
	write := func(s string) {
		for _, l := range strings.Split(s, "\n") {
			b.WriteString(strings.TrimRight(bar+l, " ") + "\n")
		}
	}
	if m.Title != "" {
		write(m.Title)
	}
	// Values line up in one column, wide enough for the longest label
	// ("Blast radius:" sets it unless a longer one comes).
	width := 13
	for _, f := range m.Fields {
		width = max(width, utf8.RuneCountInString(f.Label)+1)
	}
	for _, f := range m.Fields {
		// A value of several lines (the readiness checklist) keeps its
		// column.
		value := strings.ReplaceAll(plain.Text(f.Value), "\n", "\n"+strings.Repeat(" ", width+1))
		write(fmt.Sprintf("%-*s %s", width, f.Label+":", value))
	}
	for _, l := range m.Lines {
		write(plain.Text(l))
	}
	for _, r := range m.Ready {
		write(fmt.Sprintf("[ Mark met: %d. %s ]  (:ready %s %d)", r.Criterion, r.Text, r.UpgradeID, r.Criterion))
	}
	if m.Debrief != nil {
		write("[ Write debrief ]  (:debrief " + m.Debrief.UpgradeID + " <text...>)")
	}
	if m.Ack != nil {
		write("[ Acknowledge ]  (:press " + m.Ack.UpgradeID + " " + m.Ack.Scope + ")")
	}
	return b.String()
}
