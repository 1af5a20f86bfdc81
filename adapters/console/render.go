package console

import (
	"fmt"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// render lays a message out for a terminal: a header line saying where it
// went, then its content indented under a bar.
func render(header string, m bot.Message, loc *time.Location) string {
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
	for _, f := range m.Fields {
		// A value of several lines (the readiness checklist) keeps its
		// column.
		value := strings.ReplaceAll(f.Value.Plain(loc), "\n", "\n"+strings.Repeat(" ", 14))
		write(fmt.Sprintf("%-13s %s", f.Label+":", value))
	}
	for _, l := range m.Lines {
		write(l.Plain(loc))
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
