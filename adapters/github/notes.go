package github

import (
	"html"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Release notes are GitHub-flavoured markdown; the core takes a small
// neutral markup of its own (bot.Release.Notes: a line is a "# heading", a
// "- list item", indented two spaces a level, or text; inline **bold**,
// `code` and [label](https://url)), which it turns into rich text that
// Slack (mrkdwn) and Discord (markdown) each write their own way. Notes
// converts one into the other, keeping the first lines only.

// The bounds of the notes kept with a release: the notices show 5 lines;
// the rest is for the status API and a safety margin.
const (
	maxNoteLines = 20
	maxNoteLine  = 400 // bytes of one converted line
)

var (
	htmlComment  = regexp.MustCompile(`(?s)<!--.*?-->`)
	htmlTag      = regexp.MustCompile(`</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>`)
	fence        = regexp.MustCompile("^\\s{0,3}(```|~~~)")
	rule         = regexp.MustCompile(`^\s{0,3}([-*_])(\s*([-*_]))*\s*$`)
	setext       = regexp.MustCompile(`^\s{0,3}=+\s*$`)
	tableRule    = regexp.MustCompile(`^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$`)
	heading      = regexp.MustCompile(`^\s{0,3}#{1,6}\s+(.*?)(\s+#+)?\s*$`)
	bullet       = regexp.MustCompile(`^(\s*)[-*+]\s+(.*)$`)
	numbered     = regexp.MustCompile(`^\s*(\d{1,9})[.)]\s+(.*)$`)
	quote        = regexp.MustCompile(`^\s{0,3}>\s?`)
	taskBox      = regexp.MustCompile(`^\[([ xX])\]\s+`)
	image        = regexp.MustCompile(`!\[[^\]]*\]\([^)]*\)`)
	linkOrURL    = regexp.MustCompile(`\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)|<(https?://[^>\s]+)>|(https?://[^\s<>()\[\]]+)`)
	boldUnder    = regexp.MustCompile(`__([^_\s](?:[^_]*[^_\s])?)__`)
	italicStar   = regexp.MustCompile(`(^|[^\w*])\*([^*\s](?:[^*]*[^*\s])?)\*($|[^\w*])`)
	italicUnder  = regexp.MustCompile(`(^|[^\w_])_([^_\s](?:[^_]*[^_\s])?)_($|[^\w_])`)
	strike       = regexp.MustCompile(`~~([^~]+)~~`)
	escaped      = regexp.MustCompile("\\\\([\\\\`*_{}\\[\\]()#+\\-.!|>~])")
	pullOrIssue  = regexp.MustCompile(`^https?://[^/]+/[^/]+/[^/]+/(?:pull|issues)/(\d+)/?$`)
	compare      = regexp.MustCompile(`^https?://[^/]+/[^/]+/[^/]+/compare/([^/?#]+)$`)
	placeholder  = regexp.MustCompile("\x00(\\d+)\x00")
	spaces       = regexp.MustCompile(`\s+`)
	trailingTabs = strings.NewReplacer("\t", "    ")
)

// Notes converts GitHub release notes to the core's neutral markup, keeping
// the first lines: headings, list items (tasks ticked ☑ or not ☐, numbered
// ones as text), bold, code, links (http and https only; a pull request or
// issue link reads "#12", a compare link "v1...v2"); images, HTML,
// comments, rules and table borders are left out, italics and
// strike-through become plain text, and blank lines go.
func Notes(markdown string) string {
	src := htmlComment.ReplaceAllString(strings.ReplaceAll(markdown, "\r\n", "\n"), "")
	var out []string
	inCode := false
	for _, line := range strings.Split(src, "\n") {
		if len(out) >= maxNoteLines {
			break
		}
		line = trailingTabs.Replace(line)
		if fence.MatchString(line) {
			inCode = !inCode
			continue
		}
		if inCode {
			if l := strings.TrimSpace(line); l != "" && !strings.Contains(l, "`") {
				out = append(out, "`"+l+"`")
			} else if l != "" {
				out = append(out, l)
			}
			continue
		}
		if setext.MatchString(line) && len(out) > 0 && !strings.HasPrefix(out[len(out)-1], "# ") {
			out[len(out)-1] = "# " + strings.TrimLeft(out[len(out)-1], " -")
			continue
		}
		if l := noteLine(line); l != "" {
			out = append(out, cut(l, maxNoteLine))
		}
	}
	return strings.Join(out, "\n")
}

// noteLine converts one line of markdown outside code blocks; "" drops it.
func noteLine(line string) string {
	for quote.MatchString(line) {
		line = quote.ReplaceAllString(line, "")
	}
	if strings.TrimSpace(line) == "" || rule.MatchString(line) || tableRule.MatchString(line) && strings.Contains(line, "-") {
		return ""
	}
	if m := heading.FindStringSubmatch(line); m != nil {
		if t := inline(m[1]); t != "" {
			return "# " + t
		}
		return ""
	}
	if m := bullet.FindStringSubmatch(line); m != nil {
		level := min(len(m[1])/2, 3)
		item := m[2]
		if b := taskBox.FindStringSubmatch(item); b != nil {
			box := "☐ "
			if b[1] != " " {
				box = "☑ "
			}
			item = box + item[len(b[0]):]
		}
		if t := inline(item); t != "" {
			return strings.Repeat("  ", level) + "- " + t
		}
		return ""
	}
	if m := numbered.FindStringSubmatch(line); m != nil {
		if t := inline(m[2]); t != "" {
			return m[1] + ". " + t
		}
		return ""
	}
	return inline(line)
}

// inline converts the inline markdown of one line: escaped characters and
// links are set aside first, so that the emphasis rules never touch them.
func inline(s string) string {
	var links []string
	keep := func(l string) string {
		links = append(links, l)
		return "\x00" + strconv.Itoa(len(links)-1) + "\x00"
	}
	s = escaped.ReplaceAllStringFunc(s, func(m string) string { return keep(m[1:]) })
	s = htmlTag.ReplaceAllString(image.ReplaceAllString(s, ""), "")
	s = linkOrURL.ReplaceAllStringFunc(s, func(m string) string {
		g := linkOrURL.FindStringSubmatch(m)
		switch {
		case g[2] != "": // [label](url)
			label := plainLabel(g[1])
			if !web(g[2]) {
				return label
			}
			if label == "" {
				label = g[2]
			}
			return keep("[" + label + "](" + g[2] + ")")
		case g[3] != "": // <url>
			return keep(shortLink(g[3]))
		default: // a bare URL; punctuation after it ends the sentence
			u := strings.TrimRight(g[4], ".,;:!?")
			return keep(shortLink(u)) + g[4][len(u):]
		}
	})
	s = html.UnescapeString(s)
	s = boldUnder.ReplaceAllString(s, "**$1**")
	for _, re := range []*regexp.Regexp{italicStar, italicUnder} {
		for re.MatchString(s) {
			s = re.ReplaceAllString(s, "$1$2$3")
		}
	}
	s = strike.ReplaceAllString(s, "$1")
	for placeholder.MatchString(s) { // a link's label may hold an escaped character
		s = placeholder.ReplaceAllStringFunc(s, func(m string) string {
			i, _ := strconv.Atoi(strings.Trim(m, "\x00"))
			return links[i]
		})
	}
	return strings.TrimSpace(spaces.ReplaceAllString(s, " "))
}

// shortLink writes a bare URL as a link that reads well: "#12" for a pull
// request or issue, "v1...v2" for a comparison, else the URL as it is.
func shortLink(u string) string {
	if m := pullOrIssue.FindStringSubmatch(u); m != nil {
		return "[#" + m[1] + "](" + u + ")"
	}
	if m := compare.FindStringSubmatch(u); m != nil {
		return "[" + m[1] + "](" + u + ")"
	}
	return u
}

// plainLabel is a link's label without markup of its own.
func plainLabel(s string) string {
	s = htmlTag.ReplaceAllString(image.ReplaceAllString(s, ""), "")
	s = strings.NewReplacer("**", "", "__", "", "`", "", "[", "", "]", "").Replace(html.UnescapeString(s))
	return strings.TrimSpace(spaces.ReplaceAllString(s, " "))
}

func web(u string) bool { return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") }

// cut shortens s to at most n bytes on a rune boundary, marking the cut.
// A cut is never made inside a **bold**, `code` or [label](url) span or a
// bare URL: its markup would show as typed, and a cut URL leads elsewhere.
// The cut moves to before the span; a span that starts the line, or the
// first half of it, keeps its words, as plain text without any markup (a
// link inside bold keeps its label), up to the cut (plainCut).
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n - len("…")
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	for _, m := range noteSpan.FindAllStringSubmatchIndex(s, -1) {
		if m[0] >= i || i >= m[1] {
			continue
		}
		// Words before it, enough of them: the cut goes there. Else (the
		// span starts the line, after its marker, or after a few words)
		// the span's own words are kept, without its markup.
		if before := strings.TrimRight(s[:m[0]], " "); !bareLead.MatchString(before) && len(before) >= i/2 {
			return before + "…"
		}
		words, at := s[m[0]:m[1]], m[0] // a bare URL
		for g := 2; g < 8; g += 2 {
			if m[g] >= 0 { // the words of **bold**, `code` or [label](url)
				words, at = plainWords.Replace(innerLink.ReplaceAllString(s[m[g]:m[g+1]], "$1")), m[g]
			}
		}
		return s[:m[0]] + plainCut(words, i-at) + "…"
	}
	return s[:i] + "…"
}

// plainCut shortens plain words to at most n bytes on a rune boundary, but
// never inside a URL: the cut moves to before it, and a URL that starts
// the words is reduced to its host ("docs.example/"), which leads nowhere
// wrong.
func plainCut(w string, n int) string {
	if len(w) <= n {
		return w
	}
	j := max(n, 0)
	for j > 0 && !utf8.RuneStart(w[j]) {
		j--
	}
	for _, m := range bareURL.FindAllStringIndex(w, -1) {
		if m[0] >= j || j >= m[1] {
			continue
		}
		if before := strings.TrimRight(w[:m[0]], " "); before != "" {
			return before
		}
		if host := urlHost(w[m[0]:m[1]]) + "/"; len(host) <= n {
			return host
		}
		return ""
	}
	return w[:j]
}

// urlHost is the host of a bare URL: what follows its scheme, up to the
// first slash, question mark or hash.
func urlHost(u string) string {
	_, rest, _ := strings.Cut(u, "://")
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// bareLead is what a line holds before its words: indent, a "-" or "#"
// or "1." marker.
var bareLead = regexp.MustCompile(`^\s*(-|#|\d+\.)?$`)

// noteSpan finds the spans of the neutral markup that a cut must not split:
// **bold**, `code`, [label](url) (their words in groups 1 to 3), and bare URLs.
var noteSpan = regexp.MustCompile("\\*\\*([^*]+)\\*\\*|`([^`]+)`|\\[([^\\]]+)\\]\\([^)\\s]+\\)|https?://\\S+")

// innerLink is a [label](url) inside a span's words (bold holds links),
// label in group 1; plainWords takes the rest of the markup away.
var (
	innerLink  = regexp.MustCompile(`\[([^\]]+)\]\([^)\s]+\)`)
	plainWords = strings.NewReplacer("**", "", "`", "")
	bareURL    = regexp.MustCompile(`https?://\S+`)
)
