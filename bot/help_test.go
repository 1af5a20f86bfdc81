package bot_test

import (
	"context"
	"testing"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// TestHelpIsMarked: the answer to help says which page it is, so that a
// platform that does not type the grammar (Discord) writes its own; its
// lines stay the typed grammar's for every other platform.
func TestHelpIsMarked(t *testing.T) {
	f := newFixture(t)
	for text, topic := range map[string]string{
		"help": "", "": "", "help SCHEDULE": "schedule", "help unready": "unready",
	} {
		m := f.do(t, "alice", text)
		if m.Help == nil || m.Help.Topic != topic {
			t.Errorf("%q: Help %+v, want topic %q", text, m.Help, topic)
		}
		got, want := bot.Plain{}.Message(m), commands.HelpText(topic)
		if got != want {
			t.Errorf("%q: the page in the typed grammar changed:\n%s\nwant\n%s", text, got, want)
		}
	}
	for topic, want := range map[string]string{"show": "show", " Show ": "show", "frobnicate": ""} {
		m := f.b.Do(context.Background(), who("alice"), commands.Help{Topic: topic})
		if m.Help == nil || m.Help.Topic != want {
			t.Errorf("Do(help %q): Help %+v, want topic %q", topic, m.Help, want)
		}
	}
	if m := f.do(t, "alice", "list"); m.Help != nil {
		t.Errorf("list is marked as help: %+v", m.Help)
	}
}

// TestUsageLinesNameTheirSubcommand: a refusal's usage lines carry the
// subcommand they are the usage of (Span.Verb), whether the grammar or the
// command refused; a usage that is no one subcommand's carries none.
func TestUsageLinesNameTheirSubcommand(t *testing.T) {
	f := newFixture(t)
	verbs := func(m bot.Message) (out []string) {
		for _, l := range m.Lines {
			for _, s := range l {
				if s.Kind == bot.SpanTypedCode {
					out = append(out, s.Verb)
				}
			}
		}
		return out
	}
	for text, want := range map[string][]string{
		"show":                             {"show"},
		"schedule payments v1 at someday":  {"schedule"},
		"rollback UPG-1 broken":            {"rollback"}, // refused by the core: no such upgrade
		"freeze frobnicate":                {"freeze", "freeze", "freeze"},
		"frobnicate 7":                     {""}, // the pointer to help
		`show "UPG-1`:                      {"show"},
		"stats paymnts":                    {"stats"},
		"complete UPG-9 all green, really": {"complete"},
	} {
		m := f.do(t, "alice", text)
		got := verbs(m)
		if m.Kind != bot.KindError || len(got) != len(want) {
			t.Errorf("%q: usage verbs %q, want %q (%s)", text, got, want, lines(m))
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%q: usage verbs %q, want %q", text, got, want)
			}
		}
	}
}
