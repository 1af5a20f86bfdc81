package github

import (
	"strings"
	"testing"
)

func TestNotes(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"headings", "## What's Changed\n### Fixes ###", "# What's Changed\n# Fixes"},
		{"setext heading", "Highlights\n==========\ntext", "# Highlights\ntext"},
		{"bullets of every kind", "- one\n* two\n+ three", "- one\n- two\n- three"},
		{"nested bullets", "- top\n  - nested\n    * deeper\n\t- tab", "- top\n  - nested\n    - deeper\n    - tab"},
		{"tasks", "- [x] done\n- [ ] open", "- ☑ done\n- ☐ open"},
		{"numbered", "1. first\n2) second", "1. first\n2. second"},
		{"bold kept, italics and strike plain", "**bold** __also__ *it* _it_ ~~gone~~ snake_case_name 2*3*4", "**bold** **also** it it gone snake_case_name 2*3*4"},
		{"links", `see [the **docs**](https://docs.example/a_b_c "title") and [local](./x.md) and <https://example.com/x>`, "see [the docs](https://docs.example/a_b_c) and local and https://example.com/x"},
		{"no javascript links", "[click](javascript:alert)", "click"},
		{"generated notes", "## What's Changed\n* Fix auth by @octocat in https://github.com/acme/payments/pull/12\n\n**Full Changelog**: https://github.com/acme/payments/compare/v2.4.0...v2.5.0",
			"# What's Changed\n- Fix auth by @octocat in [#12](https://github.com/acme/payments/pull/12)\n**Full Changelog**: [v2.4.0...v2.5.0](https://github.com/acme/payments/compare/v2.4.0...v2.5.0)"},
		{"punctuation after a URL", "Docs: https://docs.example/x.", "Docs: https://docs.example/x."},
		{"code", "Run `make up`\n```sh\nmake migrate\n```\n", "Run `make up`\n`make migrate`"},
		{"html, comments, images, rules, tables", "<!-- template\ncomment -->\n<details><summary>More</summary>\n\n![shot](https://x/y.png) Screens\n---\n| a | b |\n|---|:-:|\n</details>",
			"More\nScreens\n| a | b |"},
		{"quotes", "> **Note**\n> - careful", "**Note**\n- careful"},
		{"entities and escapes", "a &amp; b \\*not italic\\* &lt;tag&gt;", "a & b *not italic* <tag>"},
		{"escapes in a link", `[a\_b](https://x.example/) \[not a link\](https://y.example/)`, "[a_b](https://x.example/) [not a link](https://y.example/)"},
		{"blank lines and CRLF", "\r\n\r\nfirst\r\n\r\n\r\nsecond\r\n", "first\nsecond"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Notes(c.in); got != c.want {
				t.Errorf("Notes(%q)\n got: %q\nwant: %q", c.in, got, c.want)
			}
		})
	}
}

func TestNotesKeepsTheFirstLinesOnly(t *testing.T) {
	var b strings.Builder
	for i := range 100 {
		b.WriteString("- item " + strings.Repeat("x", i*10) + "\n")
	}
	got := strings.Split(Notes(b.String()), "\n")
	if len(got) != maxNoteLines {
		t.Fatalf("%d lines kept, want %d", len(got), maxNoteLines)
	}
	for _, l := range got {
		if len(l) > maxNoteLine {
			t.Errorf("a line of %d bytes kept", len(l))
		}
	}
}

// TestNotesCutALongLineBetweenItsLinks: a line past maxNoteLine is cut
// before a link, bold or code span, or a bare URL, that the cut would
// split, so that no markup shows as typed and no URL leads elsewhere; a
// span that starts the line keeps its words up to the cut.
func TestNotesCutALongLineBetweenItsLinks(t *testing.T) {
	words := strings.Repeat("word ", 74) // 370 bytes
	long := strings.Repeat("word ", 90)  // 450 bytes
	cases := []struct{ name, in, want string }{
		{"a link", words + "see [the docs](https://docs.example/a/long/path/to/the/page) now", words + "see…"},
		{"a pull request link", "- " + words + "fixed in https://github.com/acme/payments/pull/12345", "- " + words + "fixed in…"},
		{"a bare URL", words + "at https://docs.example/a/long/path/to/the/page", words + "at…"},
		{"bold", words + "and **a bold phrase that runs on** past", words + "and…"},
		{"code", words + "run `make migrate-all-the-things` first", words + "run…"},
		{"a link that starts the line", "- [" + long + "](https://docs.example/x)", "- " + long[:maxNoteLine-len("- […")] + "…"},
		{"bold that starts the line", "# **" + long + "more words**", "# " + long[:maxNoteLine-len("# **…")] + "…"},
		{"bold after a word", "- Fixed **" + long + "**", "- Fixed " + long[:maxNoteLine-len("- Fixed **…")] + "…"},
		{"a link after a task box", "- ☐ [" + long + "](https://docs.example/x)", "- ☐ " + long[:maxNoteLine-len("- ☐ […")] + "…"},
		{"bold that starts the line holding a link", "- **" + words + "[the migration guide](https://docs.example/migrate) and more words**", "- " + words + "the migration guide and…"},
		{"bold that starts the line holding a long URL", "**see https://docs.example/" + strings.Repeat("a", 450) + "**", "see…"},
		{"a bare URL that starts the line", "- https://docs.example/" + strings.Repeat("a", 450), "- docs.example/…"},
		{"a bare URL after a word", "see https://docs.example/" + strings.Repeat("a", 450) + " now", "see docs.example/…"},
		{"code that starts the line holding a URL", "`curl https://docs.example/" + strings.Repeat("a", 450) + "`", "curl…"},
		{"nothing to split", words + strings.Repeat("z", 100), (words + strings.Repeat("z", 100))[:maxNoteLine-len("…")] + "…"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Notes(c.in)
			if got != c.want {
				t.Errorf("Notes(%q)\n got: %q\nwant: %q", c.in, got, c.want)
			}
			if len(got) > maxNoteLine {
				t.Errorf("%d bytes kept", len(got))
			}
			if strings.Count(got, "**")%2 != 0 || strings.Count(got, "`")%2 != 0 || strings.Count(got, "[") != strings.Count(got, "](") {
				t.Errorf("markup cut: %q", got)
			}
		})
	}
}
