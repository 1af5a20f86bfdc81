package commands

import (
	"strconv"
	"strings"
)

// ShowSeries is show given a series id (SER-3): it displays one series. A
// command of its own, so that Show stays one word (show is on the hot
// path, and a one-word value is boxed without allocating).
type ShowSeries struct{ ID int }

// Name implements Command.
func (ShowSeries) Name() string { return "show" }

// SeriesPrefix begins a series id as replies and list write it: SER-3.
const SeriesPrefix = "SER-"

// FormatSeriesID renders a series number the way users see it: SER-3.
func FormatSeriesID(n int) string { return SeriesPrefix + strconv.Itoa(n) }

// ParseSeriesID reads a series id as replies and list write it, SER-3 (in
// any case; one comma or period after it, as pasted from a sentence, is no
// part of it). ok is false when s is no series id.
func ParseSeriesID(s string) (n int, ok bool) {
	s, _ = cutIDPunct(s)
	if len(s) <= len(SeriesPrefix) || !strings.EqualFold(s[:len(SeriesPrefix)], SeriesPrefix) {
		return 0, false
	}
	digits := s[len(SeriesPrefix):]
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// seriesIDError refuses a series id where an upgrade id is wanted, saying
// what takes one: show and cancel, as hints each platform writes its way.
// It names no upgrade (the series may have none yet): UPG-n stands for
// any of them.
func seriesIDError(typed string, n int) error {
	id := FormatSeriesID(n)
	parts := []Part{
		{Text: id + " is a series, not an upgrade; use one of its upgrades (UPG-n; "},
		{Hint: &Suggestion{Verb: "show", Args: []SuggestionArg{{Name: "id", Value: id}}}},
		{Text: " lists them), or end the series with "},
		{Hint: &Suggestion{Verb: "cancel", Args: []SuggestionArg{{Name: "id", Value: id}, {Name: "reason", Placeholder: "<reason...>", Optional: true}}}},
	}
	return &Error{Token: typed, Msg: said(parts...), Says: parts}
}

// seriesID reads a series id in place of the upgrade id, for the
// subcommands that take one (show, cancel); ok is false, nothing read,
// when the next word is no series id.
func (p *parser) seriesID() (int, bool) {
	if !p.more() || p.peek().quoted {
		return 0, false
	}
	n, ok := ParseSeriesID(p.peek().text)
	if ok {
		p.next()
	}
	return n, ok
}
