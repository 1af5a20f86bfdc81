package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// Recurring upgrades. `schedule ... every tue 02:00 for 1h [until <date>]`
// stores a Series; each week's occurrence becomes a normal upgrade with its
// own thread, created Config.SeriesLead before its window (8 days by
// default, so that the 7-day reminder goes out). The creation is a due job
// of the shared scheduler (JobSeries), so one replica runs it, and each
// occurrence's date is claimed in the store before its upgrade is created
// (SeriesStore.ClaimOccurrence), so a job run twice (a replica died after
// creating, before finishing the job) creates it once.

// JobSeries is the due job of a series: create its occurrences that are
// due. Its Job.Upgrade is SeriesJobOwner(series): the queue keeps jobs by
// upgrade number, and negative numbers are no upgrade's.
const JobSeries JobKind = "series"

// SeriesJobOwner is the number the job queue keeps the jobs of a series
// under: minus its id.
func SeriesJobOwner(series int) int { return -series }

// The states of a series.
const (
	SeriesActive    = "active"
	SeriesEnded     = "ended"     // past its until date
	SeriesCancelled = "cancelled" // by cancel <id> series
)

// DefaultSeriesLead is how long before its window an occurrence is
// created when Config.SeriesLead does not say.
const DefaultSeriesLead = 8 * 24 * time.Hour

// Series is a recurring upgrade: one occurrence a week at the same local
// time.
type Series struct {
	ID      int    `json:"id"`
	Service string `json:"service"`
	Version string `json:"version"`
	// Every is the recurrence as commands.Every writes it ("Tue 02:00
	// Europe/Berlin"); Until the last local date, "" for none.
	Every    string        `json:"every"`
	Until    string        `json:"until,omitempty"`
	Duration time.Duration `json:"duration"`
	Region   string        `json:"region,omitempty"`
	Impact   string        `json:"impact,omitempty"`
	// CreatedBy is who typed it (principal key), Origin where.
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	Origin    string    `json:"origin,omitempty"`
	// Next is the local date of the next occurrence not created (or
	// skipped) yet; "" once there is none.
	Next    string    `json:"next,omitempty"`
	State   string    `json:"state"`
	EndedAt time.Time `json:"ended_at,omitzero"`
	EndedBy string    `json:"ended_by,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	// Rev counts saved changes (compare-and-set, and the job's plan).
	Rev int `json:"rev"`
}

// SeriesRef is what an occurrence knows of its series.
type SeriesRef struct {
	ID    int    `json:"id"`
	Every string `json:"every"` // "Tue 02:00 Europe/Berlin"
	Date  string `json:"date"`  // this occurrence's local date
}

// SeriesKey is how people read a series number: SER-3.
func SeriesKey(id int) string { return "SER-" + strconv.Itoa(id) }

// Key is the series as people read it: SER-3.
func (s *Series) Key() string { return SeriesKey(s.ID) }

// recurrence is the series' Every, with its until date.
func (s *Series) recurrence() (commands.Every, error) {
	e, err := commands.ParseEvery(s.Every)
	if err != nil {
		return commands.Every{}, fmt.Errorf("series %d: recurrence %q: %w", s.ID, s.Every, err)
	}
	e.Until = s.Until
	return e, nil
}

// describe words a series: "payments v2.5.0 every Tue 02:00 Europe/Berlin
// for 1h until 2027-03-31".
func (s *Series) describe() string {
	d := s.Service + " " + s.Version + " every " + s.Every + " for " + FormatDuration(s.Duration)
	if s.Until != "" {
		d += " until " + s.Until
	}
	return d
}

// regionNote is the series' region as its scheduling reply and list line
// show it, " · region eu" ("" without one): its occurrences are upgrades
// in that region, as a one-off upgrade's Region field says.
func (s *Series) regionNote() string {
	if s.Region == "" {
		return ""
	}
	return " · region " + s.Region
}

func (b *Bot) seriesLead() time.Duration {
	if b.cfg.SeriesLead > 0 {
		return b.cfg.SeriesLead
	}
	return DefaultSeriesLead
}

// seriesCmd is the command that made a series, for the occurrences it
// creates at once: whom to tell about failures, and an admin's override.
type seriesCmd struct {
	inv    Invocation
	anyway string
}

// scheduleSeries stores a new series and creates the occurrences already
// due (the first, at least, when it is less than SeriesLead ahead).
func (b *Bot) scheduleSeries(ctx context.Context, inv Invocation, svc Service, c commands.Schedule, d time.Duration) (Message, error) {
	if b.series == nil {
		return Message{}, Errorf(EINVALID, "This bot cannot keep recurring upgrades (its store cannot); schedule the occurrences one by one.")
	}
	every := *c.Every
	// The first occurrence ahead: one at this very instant is no longer
	// (checkWindow would call it past), so the next one is it.
	first, ok := every.Next(b.now().Add(time.Nanosecond))
	if !ok {
		return Message{}, Errorf(EINVALID, "No %s falls between now and %s; nothing would be scheduled.", every.Day, every.Until)
	}
	if err := b.checkWindow(first.Start, d); err != nil {
		return Message{}, err
	}
	if c.Anyway != "" && !b.dir.IsAdmin(inv.Actor) {
		// A one-off schedule refuses this only when a freeze holds; a
		// series meets freezes for as long as it runs, so it is said now.
		return Message{}, refusal(EFORBIDDEN, b.withAdmins(T("Only an admin may override a change freeze with anyway (")).
			Add("). Leave it out: an occurrence that a freeze holds over is skipped, and the service's channels are told."))
	}
	// A second series of one version over the same dates would only skip
	// its occurrences (each already scheduled by the first), and could
	// not be ended by an upgrade of its own: refused, as a second upgrade
	// of one version is.
	if o, err := b.sameSeries(ctx, svc.Name, c.Version, every, d); err != nil {
		return Message{}, err
	} else if o != nil {
		return Message{}, o.refuse()
	}
	id, err := b.series.NextSeriesID(ctx)
	if err != nil {
		return Message{}, fmt.Errorf("allocate series id: %w", err)
	}
	now := b.now().UTC()
	s := &Series{ID: id, Service: svc.Name, Version: c.Version, Every: every.String(), Until: every.Until, Duration: d,
		Region: c.Region, Impact: c.Impact, CreatedBy: b.dir.KeyOf(inv.Actor.ID), CreatedAt: now, Origin: inv.Channel,
		Next: first.Date, State: SeriesActive, Rev: 1}
	if err := b.addSeries(ctx, s, every); err != nil {
		return Message{}, err
	}
	b.log.InfoContext(ctx, "series scheduled", "series", s.Key(), "service", s.Service, "every", s.Every, "until", s.Until)
	done, s, err := b.advanceSeries(ctx, s.ID, &seriesCmd{inv: inv, anyway: c.Anyway})
	if err != nil {
		return Message{}, err
	}

	r := reply(T("🔁 Scheduled series " + s.Key() + ": ").Bold(s.describe()).Add(s.regionNote() + "."))
	if !every.ZoneGiven {
		loc, own := b.location(inv)
		whose := "the bot's default time zone; add a zone (UTC, Europe/Berlin, +02:00) to choose another"
		if own {
			whose = "your time zone"
		}
		r.Lines = append(r.Lines, T(fmt.Sprintf("%q was read in %s, %s.", every.Text, loc, whose)))
	}
	r.Lines = append(r.Lines, T("Each occurrence is an upgrade of its own, with its own thread, created "+FormatDuration(b.seriesLead())+" before its window."))
	overrode := false
	var made *Upgrade // the first occurrence created now
	for _, o := range done {
		r.Lines = append(r.Lines, o.line(b, s))
		overrode = overrode || o.v.overrode
		if made == nil && o.u != nil {
			made = o.u
		}
	}
	if c.Anyway != "" && !overrode {
		r.Lines = append(r.Lines, T("No freeze holds over the occurrences created now, so anyway overrode nothing (and its reason is not logged); it does not carry over to later ones"+
			anywayInImpact(c.AnywayInImpact)+"."))
	}
	if s.State == SeriesActive {
		if e, err := s.recurrence(); err == nil {
			if nx, ok := e.On(s.Next); ok {
				r.Lines = append(r.Lines, T("Next occurrence: ").Time(nx.Start).Add(", created ").Time(nx.Start.Add(-b.seriesLead())).Add("."))
				if nx.Note != "" { // a clock change moves it
					r.Lines = append(r.Lines, T(sentence(nx.Note)))
				}
				if fs, err := b.allFreezes(ctx); err == nil {
					if note := frozenNext(fs, s, nx); note != nil {
						r.Lines = append(r.Lines, note)
					}
				}
			}
		}
	} else {
		r.Lines = append(r.Lines, T(seriesEnded(done, s.Until)))
	}
	if made != nil {
		// Each occurrence's overlaps are on its own line above.
		u := *made
		u.Conflicts = nil
		r.Lines = append(r.Lines, b.scheduledLines(&u, svc, false)...)
	}
	return r, nil
}

// seriesEnded words a series that ended with the command that made it:
// every date it had was due at once (until is before the lead time runs
// out), and each is listed above, created or skipped.
func seriesEnded(done []occurrence, until string) string {
	made := 0
	for _, o := range done {
		if o.u != nil {
			made++
		}
	}
	ends := "; the series ends on " + until + "."
	switch {
	case len(done) == 0:
		return "No occurrence falls before its end, so nothing was scheduled" + ends
	case len(done) == 1 && made == 1:
		return "That was its only occurrence" + ends
	case made == 0 && len(done) == 1:
		return "Its only occurrence was skipped, so nothing was scheduled" + ends
	case made == 0:
		return "All its occurrences were skipped, so nothing was scheduled" + ends
	case made == len(done):
		return fmt.Sprintf("Those were all its occurrences (%d scheduled)", made) + ends
	}
	return fmt.Sprintf("Those were all its occurrences (%d scheduled, %d skipped)", made, len(done)-made) + ends
}

// occurrence is what became of one date of a series.
type occurrence struct {
	date    commands.Date
	u       *Upgrade  // the upgrade, when there is one
	frozen  []Freeze  // the freezes it was skipped for
	missed  bool      // its time had passed before it could be created
	v       verdict   // the warnings of its window
	existed bool      // created before (by another replica, or an earlier run)
	dup     *Conflict // the upgrade of the same version it was skipped for
	takenBy int       // or the series that schedules that version then
}

// dupKey names the upgrade an occurrence was skipped for, "" for none.
func (o occurrence) dupKey() string {
	if o.dup == nil {
		return ""
	}
	return commands.FormatID(o.dup.ID)
}

// line words an occurrence for the reply that created it.
func (o occurrence) line(b *Bot, s *Series) Text {
	switch {
	case o.u != nil:
		t := T("• ").Bold(o.u.Title()).Add(" · ").Time(o.u.Start).Add(" to ").Time(o.u.End)
		for _, w := range o.u.Warnings {
			t = t.Add(" ").Then(b.dir.warningText(s.Service, w))
		}
		for _, cf := range o.u.Conflicts {
			t = t.Add(" ⚠ It overlaps ").Then(conflictText(cf)).Add(".")
		}
		return t
	case len(o.frozen) > 0:
		return T("• ").Time(o.date.Start).Add(": skipped, frozen by ").Bold(o.frozen[0].Name).Add(".")
	case o.dup != nil:
		return T("• ").Time(o.date.Start).Add(": skipped, " + s.Service + " " + s.Version + " is already " + o.dup.asWord() + " as ").Bold(commands.FormatID(o.dup.ID)).Add(" then.")
	case o.takenBy != 0:
		return T("• ").Time(o.date.Start).Add(": skipped, series " + SeriesKey(o.takenBy) + " schedules " + s.Service + " " + s.Version + " then.")
	}
	return T("• ").Time(o.date.Start).Add(": skipped, its time had passed.")
}

// maxAdvance bounds the dates one advance handles (a series that missed
// months of occurrences catches up in a few runs).
const maxAdvance = 60

// advanceSeries creates (or skips) every occurrence of series id that is
// due, moving its cursor, and plans its job for the next one. Run again,
// or by two replicas at once, it creates each occurrence once: the date is
// claimed first, and the cursor moves by compare-and-set. cmd is the
// command that made the series, nil for the scheduler.
func (b *Bot) advanceSeries(ctx context.Context, id int, cmd *seriesCmd) ([]occurrence, *Series, error) {
	var done []occurrence
	for range maxAdvance {
		s, err := b.series.GetSeries(ctx, id)
		if err != nil {
			return done, nil, fmt.Errorf("load %s: %w", SeriesKey(id), err)
		}
		if s.State != SeriesActive {
			return done, s, b.planSeries(ctx, s)
		}
		e, err := s.recurrence()
		if err != nil {
			return done, s, err
		}
		d, ok := e.On(s.Next)
		if ok && d.Start.Add(-b.seriesLead()).After(b.now()) {
			return done, s, b.planSeries(ctx, s) // not due yet
		}
		if ok {
			o, err := b.occur(ctx, s, d, cmd)
			if err != nil {
				return done, s, err
			}
			done = append(done, o)
		}
		next, more := e.After(s.Next)
		if !ok || !more {
			s.Next, s.State, s.EndedAt = "", SeriesEnded, b.now().UTC()
		} else {
			s.Next = next.Date
		}
		s.Rev++
		if err := b.series.SaveSeries(ctx, s); err != nil && !errors.Is(err, ErrConflict) {
			return done, s, fmt.Errorf("save %s: %w", s.Key(), err)
		}
		// On a conflict another run moved the cursor: read it again.
	}
	s, err := b.series.GetSeries(ctx, id)
	if err != nil {
		return done, nil, fmt.Errorf("load %s: %w", SeriesKey(id), err)
	}
	return done, s, b.planSeries(ctx, s)
}

// occur creates the occurrence of s on date d, once: skipped (claimed as
// 0) when a freeze holds over it (unless the command that made the series
// overrode it) or its time has passed; else an upgrade, whose number is
// claimed for the date before it is created.
func (b *Bot) occur(ctx context.Context, s *Series, d commands.Date, cmd *seriesCmd) (occurrence, error) {
	o := occurrence{date: d}
	svc, known := b.dir.Service(s.Service)
	end := d.Start.Add(s.Duration)
	fs, err := b.allFreezes(ctx)
	if err != nil {
		return o, err
	}
	inv := Invocation{Actor: Actor{ID: s.CreatedBy}, Channel: s.Origin}
	anyway := ""
	if cmd != nil {
		inv, anyway = cmd.inv, cmd.anyway
	}
	override := anyway != "" && b.dir.IsAdmin(inv.Actor)
	if !known || !d.Start.After(b.now()) {
		o.missed = true
	} else if frozen := FreezesOver(fs, svc.Name, s.Region, d.Start, end); !override {
		o.frozen = frozen
	}
	if o.missed || len(o.frozen) > 0 {
		_, first, err := b.series.ClaimOccurrence(ctx, s.ID, d.Date, 0)
		if err != nil {
			return o, fmt.Errorf("claim %s of %s: %w", d.Date, s.Key(), err)
		}
		if first {
			b.log.InfoContext(ctx, "series occurrence skipped", "series", s.Key(), "date", d.Date, "frozen", len(o.frozen) > 0)
			if len(o.frozen) > 0 {
				f := o.frozen[0]
				b.seriesSkipped(ctx, s, svc, d, KindFreeze, T("freeze ").Bold(f.Name).Add(" holds from ").Time(f.From).Add(" to ").Time(f.To).Add("."))
			}
		}
		return o, nil
	}
	conflicts, err := b.conflicts(ctx, 0, svc.Name, d.Start.UTC(), end.UTC())
	if err != nil {
		return o, err
	}
	// The same version already scheduled over this date (typed by hand,
	// or by another series), or being scheduled by another series (two
	// replicas may run both series' jobs at once: the version's date is
	// claimed first-wins): a second upgrade would double its threads and
	// reminders, so the date is skipped.
	cf, dup := versionScheduled(conflicts, svc.Name, s.Version)
	taken := 0
	if !dup {
		by, err := b.series.ClaimVersion(ctx, svc.Name, s.Version, d.Date, s.ID)
		if err != nil {
			return o, fmt.Errorf("claim %s %s on %s for %s: %w", svc.Name, s.Version, d.Date, s.Key(), err)
		}
		if by != s.ID {
			taken = by
		}
	}
	if dup || taken != 0 {
		rec, first, err := b.series.ClaimOccurrence(ctx, s.ID, d.Date, 0)
		if err != nil {
			return o, fmt.Errorf("claim %s of %s: %w", d.Date, s.Key(), err)
		}
		if rec != 0 {
			// An earlier run claimed the date for an upgrade: when it
			// created it, that upgrade is the conflict; when it died
			// before, the date is skipped after all.
			u, err := b.store.Get(ctx, rec)
			if err == nil {
				b.plan(ctx, u)
				o.u, o.existed = u, true
				return o, nil
			}
			if !errors.Is(err, ErrNotFound) {
				return o, fmt.Errorf("load %s: %w", commands.FormatID(rec), err)
			}
			first = true
		}
		why := T("series " + SeriesKey(taken) + " schedules the same version on that date.")
		if dup {
			o.dup = &cf
			why = T("the same version is already " + cf.asWord() + " as ").Bold(commands.FormatID(cf.ID)).Add(", from ").Time(cf.Start).Add(" to ").Time(cf.End).Add(".")
		} else {
			o.takenBy = taken
		}
		if first {
			b.log.InfoContext(ctx, "series occurrence skipped", "series", s.Key(), "date", d.Date, "same_version", cmp.Or(o.dupKey(), SeriesKey(taken)))
			b.seriesSkipped(ctx, s, svc, d, KindSeries, why)
		}
		return o, nil
	}
	id, err := b.store.NextID(ctx)
	if err != nil {
		return o, fmt.Errorf("allocate id: %w", err)
	}
	rec, _, err := b.series.ClaimOccurrence(ctx, s.ID, d.Date, id)
	if err != nil {
		return o, fmt.Errorf("claim %s of %s: %w", d.Date, s.Key(), err)
	}
	if rec == 0 {
		return o, nil // skipped by an earlier run
	}
	if u, err := b.store.Get(ctx, rec); err == nil {
		b.plan(ctx, u) // created by an earlier run: make sure it is planned
		o.u, o.existed = u, true
		return o, nil
	} else if !errors.Is(err, ErrNotFound) {
		return o, fmt.Errorf("load %s: %w", commands.FormatID(rec), err)
	}
	if o.v, err = b.judge(inv, svc, s.Region, d.Start.UTC(), end.UTC(), time.Time{}, anyway, fs, nil); err != nil {
		return o, err
	}
	u := b.draft(svc, Invocation{Actor: Actor{ID: s.CreatedBy}, Channel: s.Origin}, s.Version, d.Start.UTC(), end.UTC(), s.Region, s.Impact, conflicts)
	u.ID, u.Series = rec, &SeriesRef{ID: s.ID, Every: s.Every, Date: d.Date}
	u.Warnings = o.v.warnings
	note := d.Note
	if e, err := s.recurrence(); err == nil {
		if n := e.ChangeNote(d.Start, s.Duration); n != "" {
			note = strings.TrimSpace(note + " " + n)
		}
	}
	if note != "" {
		u.Warnings = append(u.Warnings, Warning{Kind: WarnTime, Note: note})
	}
	reason := ""
	if o.v.overrode {
		reason = anyway
	}
	// The command that made the series creates its first occurrences; the
	// scheduler, on the series' behalf, the later ones.
	actor, invoker := Upgradebot, (*Invoker)(nil)
	if cmd != nil {
		actor, invoker = b.dir.KeyOf(cmd.inv.Actor.ID), cmd.inv.invoker()
	}
	if _, err := b.open(ctx, u, actor, reason, invoker); err != nil {
		if errors.Is(err, ErrConflict) { // another run created it just now
			o.existed = true
			o.u, err = b.store.Get(ctx, rec)
			return o, err
		}
		return o, err
	}
	b.log.InfoContext(ctx, "series occurrence created", "series", s.Key(), "date", d.Date, "upgrade", u.Key())
	o.u = u
	return o, nil
}

// KindSeries is the notice that an occurrence of a series was skipped
// because the same version is already scheduled over its date.
const KindSeries Kind = "series"

// seriesSkipped tells the service's channels that an occurrence was not
// created (in the background: Delivery.toChannels), and why: a freeze holds over it (kind KindFreeze), or the same
// version is already scheduled then (KindSeries).
func (b *Bot) seriesSkipped(ctx context.Context, s *Series, svc Service, d commands.Date, kind Kind, why Text) {
	m := Message{Kind: kind}
	m.Lines = append(m.Lines, T("🔁 The occurrence of series "+s.Key()+" (").Bold(s.describe()).Add(") on ").Time(d.Start).
		Add(" is skipped: ").Then(why))
	channels := svc.Channels
	if len(channels) == 0 && s.Origin != "" {
		channels = []string{s.Origin}
	}
	if len(channels) > 0 {
		b.out.toChannels(ctx, channels, m)
	}
}

// planSeries keeps the job of a series in step with it: due SeriesLead
// before its next occurrence while it is active, none once it is not.
func (b *Bot) planSeries(ctx context.Context, s *Series) error {
	if b.sched == nil {
		return nil
	}
	var jobs []Job
	if s.State == SeriesActive {
		e, err := s.recurrence()
		if err != nil {
			return err
		}
		if d, ok := e.On(s.Next); ok {
			jobs = append(jobs, Job{ID: "next", Kind: JobSeries, Due: d.Start.Add(-b.seriesLead()).UTC()})
		}
	}
	return b.sched.planOwner(ctx, SeriesJobOwner(s.ID), s.Rev, jobs)
}

// runSeries runs the due job of a series (the scheduler calls it). A
// series that is gone ends its job; anything else not found (an upgrade
// it names) is an error, retried, not the end of the series.
func (b *Bot) runSeries(ctx context.Context, j Job) error {
	_, _, err := b.advanceSeries(ctx, -j.Upgrade, nil)
	if errors.Is(err, ErrNotFound) {
		if _, gerr := b.series.GetSeries(ctx, -j.Upgrade); errors.Is(gerr, ErrNotFound) {
			return nil
		}
	}
	return err
}

// reconcileSeries plans the job of every active series again (the
// scheduler's reconcile calls it): a replica that died between saving a
// series and planning it leaves it for this.
func (b *Bot) reconcileSeries(ctx context.Context) (int, error) {
	if b.series == nil {
		return 0, nil
	}
	all, err := b.series.ListSeries(ctx)
	if err != nil {
		return 0, fmt.Errorf("list series: %w", err)
	}
	n := 0
	var errs []error
	for _, s := range all {
		if s.State != SeriesActive {
			continue
		}
		if err := b.planSeries(ctx, s); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// seriesRunner is what the scheduler needs of the Bot for series jobs.
type seriesRunner interface {
	runSeries(ctx context.Context, j Job) error
	reconcileSeries(ctx context.Context) (int, error)
}

// cancel withdraws an upgrade. An occurrence of a series asks first
// whether the occurrence or the whole series is meant; the answer comes
// as cancel <id> occurrence|series [<reason...>].
func (b *Bot) cancel(ctx context.Context, inv Invocation, c commands.Cancel) (Message, error) {
	if c.Series > 0 {
		return b.endSeries(ctx, inv, c)
	}
	u, err := load(ctx, b.store, c.ID)
	if err != nil {
		return Message{}, err
	}
	if u.Series == nil && c.Scope == commands.CancelSeries {
		// The whole series of an upgrade that has none is a mistake, typed
		// or chosen as an option: refused, nothing cancelled (cancelling the
		// upgrade itself with "series" as its reason would do what was not
		// asked).
		return Message{}, b.noSeriesToCancel(inv, u, c)
	}
	if u.Series == nil && c.ScopeOption {
		// Chosen as an option, the scope is no word of the reason. This
		// occurrence is the upgrade itself.
		return b.transitionCmd(ctx, inv, "cancel", c.ID, edit{text: c.Reason})
	}
	if u.Series == nil {
		// Typed, "occurrence" was the first word of the reason: the upgrade
		// is cancelled, as whoever typed it wanted; say so, to whoever
		// thought it was part of a series.
		m, err := b.transitionCmd(ctx, inv, "cancel", c.ID, edit{text: strings.TrimSpace(c.Scope + " " + c.Reason)})
		if err == nil && c.Scope != "" {
			m.Lines = append(m.Lines, T(fmt.Sprintf("%s is not part of a series, so %q was read as the reason.", u.Key(), c.Scope)))
		}
		return m, err
	}
	if err := b.authorize(inv, u.Service, "cancel", u.Key()); err != nil {
		return Message{}, err
	}
	switch c.Scope {
	case commands.CancelOccurrence:
		m, err := b.transitionCmd(ctx, inv, "cancel", c.ID, edit{text: c.Reason})
		if err == nil {
			m.Lines = append(m.Lines, T("Series "+SeriesKey(u.Series.ID)+" goes on with its other occurrences."))
		}
		return m, err
	case commands.CancelSeries:
		return b.cancelSeries(ctx, inv, u.Series.ID, u.Key(), c.Reason)
	}
	id := Arg{Name: "id", Value: u.Key()}
	why := cancelReasonArg
	if u.State != Scheduled {
		// This occurrence can no longer be cancelled: say so, and offer
		// only what is left, ending its series.
		t := transitions["cancel"]
		no := T(fmt.Sprintf("%s is %s; it can no longer be cancelled.", u.Key(), u.State.Words()))
		if r, ok := t.refuse[u.State]; ok {
			no = r.text(u)
		}
		if s, err := b.series.GetSeries(ctx, u.Series.ID); err == nil && s.State == SeriesActive {
			no = no.Add(" To end its series " + SeriesKey(s.ID) + " (no more occurrences; its scheduled ones are cancelled): ").
				Command(hint("cancel", id, Arg{Name: "scope", Value: commands.CancelSeries}, why)).Add(".")
		}
		return Message{}, refusal(EINVALID, no)
	}
	m := reply(T("🔁 "+u.Key()+" is the "+u.Series.Date+" occurrence of series "+SeriesKey(u.Series.ID)+" (every "+u.Series.Every+"). Nothing is cancelled yet; say which:"),
		T("• only this occurrence: ").Command(hint("cancel", id, Arg{Name: "scope", Value: commands.CancelOccurrence}, why)),
		T("• the whole series (no more occurrences; its scheduled ones are cancelled too): ").Command(hint("cancel", id, Arg{Name: "scope", Value: commands.CancelSeries}, why)))
	m.UpgradeID = u.Key()
	return m, nil
}

// noSeriesToCancel refuses cancelling the series of an upgrade u that is
// part of none. Who may not cancel it, or an upgrade that can no longer be
// cancelled, hears that first, as a cancel without the scope. Then how to
// cancel the upgrade itself and, when "series" was typed (it may have been
// meant as the reason's first word), how to quote it to make it the reason
// (where commands are given as options, how to give it in the reason
// option: Text.AddEither).
func (b *Bot) noSeriesToCancel(inv Invocation, u *Upgrade, c commands.Cancel) error {
	if err := b.authorize(inv, u.Service, "cancel", u.Key()); err != nil {
		return err
	}
	if u.State != Scheduled {
		if r, ok := transitions["cancel"].refuse[u.State]; ok {
			return refusal(EINVALID, r.text(u))
		}
		return Errorf(EINVALID, "%s is %s; it can no longer be cancelled.", u.Key(), u.State.Words())
	}
	id := Arg{Name: "id", Value: u.Key()}
	leave := "the scope"
	if !c.ScopeOption {
		leave = `"` + commands.CancelSeries + `"`
	}
	no := T(u.Key() + " is not part of a series, so there is no series to cancel; nothing changed. To cancel " + u.Key() + " itself, leave out " + leave + ": ").
		Command(hint("cancel", id, cancelReasonArg))
	if !c.ScopeOption && !strings.Contains(c.Reason, `"`) {
		// Quoted, the word is never the scope (commands reads a quoted word
		// as a literal); the words typed after it stay in the quotes. The
		// typed grammar adds the quotes (Arg.Quote), an option needs none;
		// a reason with quotes of its own would lose them, so it gets no
		// such hint.
		reason := strings.TrimSpace(commands.CancelSeries + " " + c.Reason)
		no = no.Add(`; if "`+commands.CancelSeries+`" begins the reason, `).AddEither("quote it: ", "give it in the reason option: ").
			Command(hint("cancel", id, Arg{Name: "reason", Value: reason, Quote: true}))
	}
	return refusal(EINVALID, no.Add("."))
}

// cancelSeries ends series id and cancels its occurrences that are still
// scheduled; one already in progress goes on. upgrade is the occurrence the
// command named (UPG-7), "" when it named the series itself.
func (b *Bot) cancelSeries(ctx context.Context, inv Invocation, id int, upgrade, reason string) (Message, error) {
	if b.series == nil {
		return Message{}, Errorf(EINVALID, "This bot cannot keep recurring upgrades (its store cannot).")
	}
	var (
		s       *Series
		already bool // cancelled before this command: it changes nothing of the series
	)
	for attempt := 0; ; attempt++ {
		var err error
		if s, err = b.series.GetSeries(ctx, id); err != nil {
			return Message{}, fmt.Errorf("load %s: %w", SeriesKey(id), err)
		}
		if s.State == SeriesCancelled {
			already = true
			break
		}
		// Active, or ended (its last occurrence created, maybe still
		// scheduled): the cancel is recorded, by whom and why.
		s.State, s.EndedAt, s.EndedBy, s.Reason, s.Next = SeriesCancelled, b.now().UTC(), b.dir.KeyOf(inv.Actor.ID), reason, ""
		s.Rev++
		err = b.series.SaveSeries(ctx, s)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrConflict) || attempt == 10 {
			return Message{}, fmt.Errorf("save %s: %w", SeriesKey(id), err)
		}
	}
	if err := b.planSeries(ctx, s); err != nil {
		b.log.ErrorContext(ctx, "removing the job of a cancelled series failed", "series", s.Key(), "err", err)
	}
	if !already {
		b.log.InfoContext(ctx, "series cancelled", "series", s.Key(), "by", s.EndedBy, "reason", reason)
	}
	occ, err := b.series.Occurrences(ctx, id)
	if err != nil {
		return Message{}, fmt.Errorf("load the occurrences of %s: %w", s.Key(), err)
	}
	m := reply(T("🚫 Cancelled series " + s.Key() + ": ").Bold(s.describe()).Add("; no more occurrences will be created."))
	if already {
		// Said again (or by someone else): it tells what was, and cancels
		// only what an earlier try left scheduled (one that failed then),
		// for the reason given then.
		m, reason = reply(b.cancelledAlready(s)), s.Reason
	}
	why := "series " + s.Key() + " cancelled" + seriesReason(reason)
	ids := slices.Sorted(maps.Values(occ))
	for _, n := range ids {
		if n == 0 {
			continue
		}
		o, err := b.store.Get(ctx, n)
		if err != nil || o.State != Scheduled {
			continue
		}
		if _, err := b.transit(ctx, inv, "cancel", n, edit{text: why}); err != nil {
			if now, gerr := b.store.Get(ctx, n); gerr == nil && now.State != Scheduled {
				continue // cancelled (or started) meanwhile: by a cancel said at the same time
			}
			m.Lines = append(m.Lines, T("⚠ "+o.Key()+" could not be cancelled: "+ErrorMessage(err)))
			continue
		}
		m.Lines = append(m.Lines, T("• cancelled ").Bold(o.Title()).Add(" · ").Time(o.Start))
	}
	b.releaseVersions(ctx, s, occ)
	if already && len(m.Lines) == 1 {
		return Message{}, refusal(EINVALID, m.Lines[0]) // nothing to do
	}
	m.UpgradeID = upgrade
	return m, nil
}

// releaseVersions gives up the dates of the version of s, a cancelled
// series, whose occurrences are cancelled: a series of that version made
// again (as the refusal of a second one advises) ships it on those dates,
// instead of skipping them for a series that no longer does. A failure is
// logged; those dates stay skipped.
func (b *Bot) releaseVersions(ctx context.Context, s *Series, occ map[string]int) {
	for _, date := range slices.Sorted(maps.Keys(occ)) {
		n := occ[date]
		if n == 0 {
			continue // skipped: claimed for no upgrade of s
		}
		if u, err := b.store.Get(ctx, n); err != nil || u.State != Cancelled {
			continue
		}
		if err := b.series.ReleaseVersion(ctx, s.Service, s.Version, date, s.ID); err != nil {
			b.log.WarnContext(ctx, "releasing the date of a cancelled series failed", "series", s.Key(), "date", date, "err", err)
		}
	}
}

// cancelledAlready says who cancelled s, for a second cancel of it: "Series
// SER-1 (…) was cancelled already, by @bob at …: done; no more occurrences
// are created."
func (b *Bot) cancelledAlready(s *Series) Text {
	t := T("Series " + s.Key() + " (").Bold(s.describe()).Add(") was cancelled already")
	if s.EndedBy != "" {
		t = t.Add(", by ").Mention(b.dir.Principal(s.EndedBy))
	}
	if !s.EndedAt.IsZero() {
		t = t.Add(" at ").Time(s.EndedAt)
	}
	if s.Reason != "" {
		t = t.Add(": " + s.Reason)
	}
	return t.Add("; no more occurrences are created.")
}

// seriesReason is ": <reason>" of a series' cancel, or "" without one.
func seriesReason(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

// planOwner makes jobs the jobs of owner, a number that is no upgrade's
// (SeriesJobOwner), planned from revision rev, and wakes every replica.
func (s *Scheduler) planOwner(ctx context.Context, owner, rev int, jobs []Job) error {
	if err := s.queue.ReplaceJobs(ctx, owner, rev, jobs, s.o.Now()); err != nil {
		return fmt.Errorf("plan the jobs of %d: %w", owner, err)
	}
	if err := s.queue.Wake(ctx); err != nil {
		s.log.WarnContext(ctx, "waking schedulers failed", "err", err)
	}
	return nil
}

// frozenNext words the freeze that holds over next, the next occurrence of
// s (not created yet), as the reply to scheduling s and list say it; nil
// when none does.
func frozenNext(fs []Freeze, s *Series, next commands.Date) Text {
	frozen := FreezesOver(fs, s.Service, s.Region, next.Start, next.Start.Add(s.Duration))
	if len(frozen) == 0 {
		return nil
	}
	return T("It falls in the freeze ").Bold(frozen[0].Name).Add(": unless the freeze is lifted before it is created, it will be skipped, and the service's channels are told.")
}

// seriesLines are what list says of the active recurring upgrades (of one
// service, when it is not ""): each with its next occurrence, and the
// freeze it falls in, if one does. The freezes are read once, and only
// when a series is listed; nothing is written.
func (b *Bot) seriesLines(ctx context.Context, service string) []Text {
	if b.series == nil {
		return nil
	}
	all, err := b.series.ListSeries(ctx)
	if err != nil {
		b.log.WarnContext(ctx, "listing series failed", "err", err)
		return nil
	}
	var (
		out    []Text
		fs     []Freeze
		loaded bool
	)
	for _, s := range all {
		if s.State != SeriesActive || service != "" && s.Service != service {
			continue
		}
		line := T("🔁 " + s.Key() + " ").Bold(s.describe()).Add(s.regionNote())
		if e, err := s.recurrence(); err == nil {
			if d, ok := e.On(s.Next); ok {
				line = line.Add(" · next occurrence ").Time(d.Start).Add(", created ").Time(d.Start.Add(-b.seriesLead()))
				if !loaded {
					loaded = true
					if fs, err = b.allFreezes(ctx); err != nil {
						b.log.WarnContext(ctx, "listing freezes for the series failed", "err", err)
					}
				}
				if note := frozenNext(fs, s, d); note != nil {
					line = line.Add(". ").Then(note)
				}
			}
		}
		out = append(out, line)
	}
	return out
}
