package bot

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// A series by its own id (SER-3): show SER-3 shows it, cancel SER-3 ends
// it (as cancel <id> series of one of its occurrences), and a series of
// the service and version of an active one whose occurrences its own would
// overlap is refused, as a second upgrade of one version is.

// sameSeriesWeeks bounds how many occurrences of a new series are compared
// with those of each active series of its version: a year of them, so
// that series read in zones whose clocks change on other dates are
// compared across every change.
const sameSeriesWeeks = 53

// seriesOverlap is where a new series would meet an active one of its
// service and version: the first occurrence of each that overlap, or that
// fall on the same date (sameDate), which the store gives one series of
// a version only (SeriesStore.ClaimVersion): the other would skip it.
type seriesOverlap struct {
	s           *Series
	theirs, own commands.Date
	sameDate    bool
}

// sameSeries finds an active series of service and version (matched
// without regard to case, as upgrades are) one of whose occurrences
// overlaps one of a new series every, its occurrences d long; nil when
// none does.
func (b *Bot) sameSeries(ctx context.Context, service, version string, every commands.Every, d time.Duration) (*seriesOverlap, error) {
	all, err := b.series.ListSeries(ctx)
	if err != nil {
		return nil, fmt.Errorf("list series: %w", err)
	}
	for _, s := range all {
		if s.State != SeriesActive || !strings.EqualFold(s.Service, service) || !strings.EqualFold(s.Version, version) {
			continue
		}
		if o := b.overlap(s, every, d); o != nil {
			return o, nil
		}
	}
	return nil, nil
}

// overlap finds the first occurrence of a new series every (d long) that
// overlaps one of s, or falls on a date of one of s; nil when none does
// within sameSeriesWeeks.
func (b *Bot) overlap(s *Series, every commands.Every, d time.Duration) *seriesOverlap {
	e, err := s.recurrence()
	if err != nil {
		return nil
	}
	at := b.now().Add(time.Nanosecond) // as scheduleSeries reads its first occurrence
	for range sameSeriesWeeks {
		own, ok := every.Next(at)
		if !ok {
			return nil
		}
		// Their first occurrence that ends after this one starts.
		if theirs, ok := e.Next(own.Start.Add(-s.Duration + time.Nanosecond)); ok && theirs.Start.Before(own.Start.Add(d)) {
			return &seriesOverlap{s: s, theirs: theirs, own: own}
		}
		if theirs, ok := e.On(own.Date); ok {
			return &seriesOverlap{s: s, theirs: theirs, own: own, sameDate: true}
		}
		at = own.Start.Add(time.Nanosecond)
	}
	return nil
}

// refuse words the refusal of a series that would overlap o.s: which
// series, where they meet, and how to end that one or see it.
func (o *seriesOverlap) refuse() error {
	s := o.s
	id := Arg{Name: "id", Value: s.Key()}
	t := T(s.Service + " " + s.Version + " is already scheduled by series " + s.Key() + " (").Bold(s.describe()).
		Add("): its occurrence from ").Time(o.theirs.Start).Add(" to ").Time(o.theirs.Start.Add(s.Duration))
	if o.sameDate {
		t = t.Add(" falls on " + o.own.Date + ", as this series' at ").Time(o.own.Start).Add(", and a series ships a version once a date")
	} else {
		t = t.Add(" would overlap this series' from ").Time(o.own.Start)
	}
	t = t.Add("; nothing was scheduled. " + s.Key() + " goes on; see it with ").
		Command(hint("show", id)).Add(", or end it first with ").
		Command(hint("cancel", id, cancelReasonArg)).Add(".")
	return refusal(EINVALID, t)
}

// addSeries stores s, a new series, unless the store holds an active
// series of its service, version and recurrence (saved meanwhile, by a
// command given at the same time): then it is refused as sameSeries
// refuses it.
func (b *Bot) addSeries(ctx context.Context, s *Series, every commands.Every) error {
	other, err := b.series.AddSeries(ctx, s)
	if err != nil {
		return fmt.Errorf("save %s: %w", s.Key(), err)
	}
	if other == 0 {
		return nil
	}
	o, err := b.series.GetSeries(ctx, other)
	if err != nil {
		return fmt.Errorf("load %s: %w", SeriesKey(other), err)
	}
	if ov := b.overlap(o, every, s.Duration); ov != nil {
		return ov.refuse()
	}
	return refusal(EINVALID, T(s.Service+" "+s.Version+" is already scheduled every "+s.Every+" by series "+o.Key()+"; nothing was scheduled."))
}

// unknownSeries refuses a series id that names none.
func unknownSeries(id int) error {
	return refusal(ENOTFOUND, T("There is no series "+SeriesKey(id)+". ").Command(hint("list")).Add(" shows the active ones."))
}

// getSeries loads the series a command names by its id.
func (b *Bot) getSeries(ctx context.Context, id int) (*Series, error) {
	if b.series == nil {
		return nil, unknownSeries(id)
	}
	s, err := b.series.GetSeries(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, unknownSeries(id)
	} else if err != nil {
		return nil, fmt.Errorf("load %s: %w", SeriesKey(id), err)
	}
	return s, nil
}

// endSeries is cancel SER-3 [<reason...>]: the series ends, as cancel
// <id> series of one of its occurrences ends it, with the same
// permissions. "occurrence" after a series id is refused: one occurrence
// is cancelled by its own upgrade's id.
func (b *Bot) endSeries(ctx context.Context, inv Invocation, c commands.Cancel) (Message, error) {
	s, err := b.getSeries(ctx, c.Series)
	if err != nil {
		return Message{}, err
	}
	if err := b.authorize(inv, s.Service, "cancel", s.Key()); err != nil {
		return Message{}, err
	}
	if c.Scope == commands.CancelOccurrence {
		return Message{}, refusal(EINVALID, T(s.Key()+" is a series; nothing changed. To cancel one of its occurrences, cancel that upgrade (").
			Command(hint("show", Arg{Name: "id", Value: s.Key()})).Add(" lists them): ").
			Command(hint("cancel", Arg{Name: "id"}, Arg{Name: "scope", Value: commands.CancelOccurrence})).
			Add("; to end the whole series: ").
			Command(hint("cancel", Arg{Name: "id", Value: s.Key()}, cancelReasonArg)).Add("."))
	}
	return b.cancelSeries(ctx, inv, s.ID, "", c.Reason)
}

// showOccurrences is how many occurrences show SER-3 lists, the latest.
const showOccurrences = 10

// showSeries is show SER-3: the series, its state, its next occurrence
// and the upgrades its occurrences became.
func (b *Bot) showSeries(ctx context.Context, id int) (Message, error) {
	s, err := b.getSeries(ctx, id)
	if err != nil {
		return Message{}, err
	}
	occ, err := b.series.Occurrences(ctx, s.ID)
	if err != nil {
		return Message{}, fmt.Errorf("load the occurrences of %s: %w", s.Key(), err)
	}
	m := reply()
	m.Title = "Series " + s.Key() + " " + s.Service + " " + s.Version
	m.Lines = append(m.Lines, T("🔁 "+s.Key()+" ").Bold(s.describe()))
	made := T("Scheduled by ").Mention(b.dir.Principal(s.CreatedBy)).Add(" at ").Time(s.CreatedAt).Add(".")
	if s.Region != "" {
		made = made.Add(" Region " + s.Region + ".")
	}
	if s.Impact != "" {
		made = made.Add(" Impact: " + s.Impact)
	}
	m.Lines = append(m.Lines, made)
	switch s.State {
	case SeriesActive:
		if e, err := s.recurrence(); err == nil {
			if nx, ok := e.On(s.Next); ok {
				line := T("Active. Next occurrence: ").Time(nx.Start).Add(" to ").Time(nx.Start.Add(s.Duration)).
					Add(", created ").Time(nx.Start.Add(-b.seriesLead())).Add(".")
				if fs, err := b.allFreezes(ctx); err == nil {
					if note := frozenNext(fs, s, nx); note != nil {
						line = line.Add(" ").Then(note)
					}
				}
				m.Lines = append(m.Lines, line)
			}
		}
	case SeriesCancelled:
		t := T("Cancelled")
		if s.EndedBy != "" {
			t = t.Add(" by ").Mention(b.dir.Principal(s.EndedBy))
		}
		if !s.EndedAt.IsZero() {
			t = t.Add(" at ").Time(s.EndedAt)
		}
		m.Lines = append(m.Lines, t.Add(seriesReason(s.Reason)+"; no more occurrences are created."))
	default:
		m.Lines = append(m.Lines, T("Ended: its last occurrence is created; no more are."))
	}
	dates := slices.Sorted(maps.Keys(occ))
	if len(dates) == 0 {
		m.Lines = append(m.Lines, T("No occurrence is created yet."))
	} else {
		m.Lines = append(m.Lines, T(fmt.Sprintf("Occurrences (%d):", len(dates))))
	}
	if len(dates) > showOccurrences {
		m.Lines = append(m.Lines, T(fmt.Sprintf("• … %d earlier ones", len(dates)-showOccurrences)))
		dates = dates[len(dates)-showOccurrences:]
	}
	for _, date := range dates {
		n := occ[date]
		if n == 0 {
			m.Lines = append(m.Lines, T("• "+date+": skipped"))
			continue
		}
		u, err := b.store.Get(ctx, n)
		if err != nil {
			m.Lines = append(m.Lines, T("• "+date+": "+commands.FormatID(n)))
			continue
		}
		m.Lines = append(m.Lines, T("• "+date+": ").Bold(u.Key()).Add(" "+u.State.Words()+" · ").Time(u.Start).Add(" to ").Time(u.End))
	}
	if s.State != SeriesCancelled {
		m.Lines = append(m.Lines, T("To end it (no more occurrences; its scheduled ones are cancelled): ").
			Command(hint("cancel", Arg{Name: "id", Value: s.Key()}, cancelReasonArg)).Add("."))
	}
	return m, nil
}
