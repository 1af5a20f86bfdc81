package bot

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// The figures of /upgrade stats and GET /api/v1/stats: how upgrades ended
// and how well their notices were acknowledged, over the last 30 and 90
// days. ComputeStats is a pure function of the upgrades, their
// acknowledgments and the clock; Bot.Stats reads them from the store and
// writes nothing. docs/stats.md defines every figure; the comments here
// say the same.

// StatsPeriods are the periods the figures cover, in days.
var StatsPeriods = []int{30, 90}

// Stats are the figures of one service, or of all.
type Stats struct {
	Service string    // the configured name; "" for every service
	At      time.Time // when they were computed
	Periods []PeriodStats
}

// PeriodStats are the figures of one period. The upgrades of the period
// are those whose planned window started in it: From <= start <= To (an
// upgrade whose window is still ahead counts nowhere yet). Every figure of
// the period is over these upgrades.
type PeriodStats struct {
	Days      int
	From, To  time.Time
	Outcomes  Outcomes
	TimeToAck AckTimes
	// AckedBeforeWindow is how many audience members acknowledged the
	// pre-brief before the window opened, of all asked.
	AckedBeforeWindow Rate
	Overrun           Overrun
	// Debriefs is how many finished (completed or rolled-back) upgrades
	// have a debrief, of all finished.
	Debriefs Rate
	// AtStart is how the started upgrades with a readiness checklist
	// stood when they were started.
	AtStart StartReadiness
}

// StartReadiness counts the upgrades of a period that were started (in
// progress, completed or rolled back) and had a readiness checklist: Ready
// with every criterion met or waived, Anyway with some still open
// (start <id> anyway <reason>). Ready + Anyway = Started.
type StartReadiness struct {
	Started, Ready, Anyway int
}

// AckTimes are how long audience members took to acknowledge each notice:
// the pre-brief from the upgrade's scheduling, the rollback alert from the
// rollback.
type AckTimes struct{ Brief, Rollback Durations }

// Outcomes count the upgrades of a period by their state now.
type Outcomes struct {
	Total      int
	Completed  int
	RolledBack int
	Cancelled  int
	InProgress int
	Scheduled  int // the window opened but the upgrade was not started (yet)
}

// Finished is how many upgrades ran to an end: completed or rolled back.
func (o Outcomes) Finished() int { return o.Completed + o.RolledBack }

// RollbackRate is the rolled-back share of the finished upgrades.
func (o Outcomes) RollbackRate() Rate { return Rate{Part: o.RolledBack, Whole: o.Finished()} }

// Rate is Part of Whole.
type Rate struct{ Part, Whole int }

// Fraction is Part/Whole from 0 to 1; false when Whole is 0 (no data).
func (r Rate) Fraction() (float64, bool) {
	if r.Whole == 0 {
		return 0, false
	}
	return float64(r.Part) / float64(r.Whole), true
}

// Durations summarize a set of measured durations; Median and P90 mean
// something only when Count > 0.
type Durations struct {
	Count       int
	Median, P90 time.Duration
}

// Overrun is how far finished upgrades ran past their planned end.
type Overrun struct {
	Finished int           // completed or rolled back, with an actual end
	Overran  int           // of those, ended after the planned end
	Median   time.Duration // of max(0, actual end - planned end); when Finished > 0
}

// StatsRecord is one upgrade with what the figures read of it.
type StatsRecord struct {
	Upgrade *Upgrade
	Acks    []Ack
	// CompletedAt is, for an upgrade rolled back after its completion,
	// when it was completed (its actual end); zero otherwise.
	CompletedAt time.Time
}

// ComputeStats computes the figures of service ("" for all) from records
// at now, for each of StatsPeriods.
// Each upgrade's acknowledgments are read once, in time linear in them
// and in its audience.
func ComputeStats(service string, records []StatsRecord, now time.Time) Stats {
	st := Stats{Service: service, At: now}
	firsts := make([]map[string]map[string]time.Time, len(records))
	for i, r := range records {
		firsts[i] = firstAcks(r.Upgrade, r.Acks)
	}
	for _, days := range StatsPeriods {
		st.Periods = append(st.Periods, period(service, records, firsts, now, days))
	}
	return st
}

// period computes the figures of one period; firsts[i] is firstAcks of
// records[i].
func period(service string, records []StatsRecord, firsts []map[string]map[string]time.Time, now time.Time, days int) PeriodStats {
	p := PeriodStats{Days: days, From: now.Add(-time.Duration(days) * 24 * time.Hour), To: now}
	var brief, rollback, overruns []time.Duration
	for i, r := range records {
		u := r.Upgrade
		if service != "" && u.Service != service || u.Start.Before(p.From) || u.Start.After(p.To) {
			continue
		}
		p.Outcomes.count(u.State)
		first := firsts[i]
		for _, at := range first[ScopeBrief] {
			brief = append(brief, max(0, at.Sub(u.CreatedAt)))
		}
		if u.State == RolledBack {
			for _, at := range first[ScopeRollback] {
				rollback = append(rollback, max(0, at.Sub(u.FinishedAt)))
			}
		}
		if u.State == Completed || u.State == RolledBack {
			p.Debriefs.Whole++
			if u.Debrief != nil {
				p.Debriefs.Part++
			}
		}
		if !u.StartedAt.IsZero() && len(u.Readiness) > 0 {
			p.AtStart.Started++
			if u.StartedAnyway != nil {
				p.AtStart.Anyway++
			} else {
				p.AtStart.Ready++
			}
		}
		if u.State == Cancelled { // its window never ran: nobody owed it anything
			continue
		}
		opened := u.Start
		if !u.StartedAt.IsZero() && u.StartedAt.Before(opened) { // started early
			opened = u.StartedAt
		}
		p.AckedBeforeWindow.Whole += len(u.Audience)
		for _, at := range first[ScopeBrief] {
			if !at.After(opened) {
				p.AckedBeforeWindow.Part++
			}
		}
		if end, ok := actualEnd(r); ok {
			over := max(0, end.Sub(u.End))
			overruns = append(overruns, over)
			if over > 0 {
				p.Overrun.Overran++
			}
		}
	}
	p.TimeToAck.Brief, p.TimeToAck.Rollback = summarize(brief), summarize(rollback)
	p.Overrun.Finished = len(overruns)
	p.Overrun.Median = summarize(overruns).Median
	return p
}

func (o *Outcomes) count(s State) {
	o.Total++
	switch s {
	case Completed:
		o.Completed++
	case RolledBack:
		o.RolledBack++
	case Cancelled:
		o.Cancelled++
	case InProgress:
		o.InProgress++
	case Scheduled:
		o.Scheduled++
	}
}

// firstAcks is, per scope, the first acknowledgment time of each audience
// member who acknowledged; acknowledgments of people outside the audience
// are left out.
func firstAcks(u *Upgrade, acks []Ack) map[string]map[string]time.Time {
	out := map[string]map[string]time.Time{ScopeBrief: {}, ScopeRollback: {}}
	audience := make(map[string]bool, len(u.Audience))
	for _, p := range u.Audience {
		audience[p] = true
	}
	for _, a := range acks {
		m, ok := out[a.Scope]
		if !ok || !audience[a.Who] {
			continue
		}
		if at, seen := m[a.Who]; !seen || a.At.Before(at) {
			m[a.Who] = a.At
		}
	}
	return out
}

// actualEnd is when a finished upgrade's work ended: its completion (also
// when it was rolled back later), else its rollback.
func actualEnd(r StatsRecord) (time.Time, bool) {
	u := r.Upgrade
	switch {
	case u.State == RolledBack && !r.CompletedAt.IsZero():
		return r.CompletedAt, true
	case (u.State == Completed || u.State == RolledBack) && !u.FinishedAt.IsZero():
		return u.FinishedAt, true
	}
	return time.Time{}, false
}

// summarize gives the median (the middle value; the mean of the two middle
// ones for an even count) and the 90th percentile (nearest rank: the value
// at rank ⌈0.9·n⌉ in ascending order).
func summarize(ds []time.Duration) Durations {
	n := len(ds)
	if n == 0 {
		return Durations{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	median := s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return Durations{Count: n, Median: median, P90: s[int(math.Ceil(0.9*float64(n)))-1]}
}

// Stats reads the upgrades of the longest period and computes the figures
// of service ("" for all; matched case-insensitively, an unknown one is
// an ENOTFOUND error naming the known ones). It writes nothing.
func (b *Bot) Stats(ctx context.Context, service string) (Stats, error) {
	now := b.now()
	f := Filter{From: now.Add(-time.Duration(slices.Max(StatsPeriods)) * 24 * time.Hour), To: now.Add(time.Millisecond)}
	if service != "" {
		svc, err := b.service(service)
		if err != nil {
			return Stats{}, err
		}
		f.Service = svc.Name
	}
	us, err := b.Upgrades(ctx, f)
	if err != nil {
		return Stats{}, err
	}
	// One read of acknowledgments (and of a rolled-back upgrade's log)
	// per upgrade: statsReads at a time, not one after the other.
	// After a read fails (other than an upgrade gone meanwhile) no more
	// are started: the answer is that error.
	read := make([]StatsRecord, len(us))
	errs := make([]error, len(us))
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	sem := make(chan struct{}, statsReads)
reads:
	for i, u := range us {
		select {
		case sem <- struct{}{}:
		case <-rctx.Done():
			break reads
		}
		wg.Go(func() {
			defer func() { <-sem }()
			read[i], errs[i] = b.statsRecord(rctx, u)
			if errs[i] != nil && !errors.Is(errs[i], ErrNotFound) {
				stop()
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Stats{}, err
	}
	records := make([]StatsRecord, 0, len(us))
	var failed error // the first to fail that is not the cancel it caused
	for i, r := range read {
		switch {
		case errs[i] == nil:
			if r.Upgrade != nil {
				records = append(records, r)
			}
		case errors.Is(errs[i], ErrNotFound): // expired meanwhile
		case failed == nil || errors.Is(failed, context.Canceled):
			failed = errs[i]
		}
	}
	if failed != nil {
		return Stats{}, failed
	}
	return ComputeStats(f.Service, records, now), nil
}

// statsReads bounds the reads Stats makes at once.
const statsReads = 8

// statsRecord reads an upgrade's acknowledgments, and for a rolled-back
// one the decision log, to know whether it had been completed first.
func (b *Bot) statsRecord(ctx context.Context, u *Upgrade) (StatsRecord, error) {
	r := StatsRecord{Upgrade: u}
	var err error
	if r.Acks, err = b.store.Acks(ctx, u.ID); err != nil {
		return r, fmt.Errorf("stats: load acks of %s: %w", u.Key(), err)
	}
	if u.State != RolledBack {
		return r, nil
	}
	log, err := b.store.Log(ctx, u.ID)
	if err != nil {
		return r, fmt.Errorf("stats: load log of %s: %w", u.Key(), err)
	}
	for _, d := range log {
		if d.Action == ActionCompleted {
			r.CompletedAt = d.At
		}
	}
	return r, nil
}

// stats answers /upgrade stats.
func (b *Bot) stats(ctx context.Context, c commands.Stats) (Message, error) {
	st, err := b.Stats(ctx, c.Service)
	if err != nil {
		return Message{}, err
	}
	return statsReply(st), nil
}

// statsReply words the figures, a period at a time; a figure without data
// says so in words.
func statsReply(st Stats) Message {
	m := reply()
	m.Title = "Upgrade statistics"
	if st.Service != "" {
		m.Title += " of " + st.Service
	}
	for _, p := range st.Periods {
		head := T(fmt.Sprintf("Last %d days", p.Days)).Add(" (since ").Time(p.From).Add("): ")
		o := p.Outcomes
		if o.Total == 0 {
			m.Lines = append(m.Lines, head.Add("no upgrade windows opened."))
			continue
		}
		m.Lines = append(m.Lines, head.Add(outcomesText(o)+"."),
			T("• Rollback rate: "+rateText(o.RollbackRate(), "finished", "no finished upgrades yet")),
			T("• Time to acknowledge the pre-brief: "+durationsText(p.TimeToAck.Brief, "no acknowledgments yet")),
			T("• Time to acknowledge a rollback: "+durationsText(p.TimeToAck.Rollback, rollbackNone(o))),
			T("• Acknowledged before the window opened: "+rateText(p.AckedBeforeWindow, "asked", "nobody was asked to acknowledge")),
			T("• Overrun: "+overrunText(p.Overrun)),
			T("• Debriefs: "+rateText(p.Debriefs, "finished", "no finished upgrades yet")),
			T("• Readiness at start: "+atStartText(p.AtStart)))
	}
	m.Lines = append(m.Lines, T("How each figure is counted: ").Command(hint("help", Arg{Name: "topic", Value: "stats"})).Add("."))
	return m
}

func outcomesText(o Outcomes) string {
	s := fmt.Sprintf("%d %s", o.Total, plural(o.Total, "upgrade", "upgrades"))
	sep := ": "
	for _, c := range []struct {
		n    int
		what string
	}{{o.Completed, "completed"}, {o.RolledBack, "rolled back"}, {o.Cancelled, "cancelled"}, {o.InProgress, "in progress"}, {o.Scheduled, "not started"}} {
		if c.n > 0 {
			s += fmt.Sprintf("%s%d %s", sep, c.n, c.what)
			sep = ", "
		}
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// rateText is "75% (3 of 4 finished)", or none without data.
func rateText(r Rate, of, none string) string {
	f, ok := r.Fraction()
	if !ok {
		return none
	}
	return fmt.Sprintf("%.0f%% (%d of %d %s)", 100*f, r.Part, r.Whole, of)
}

func durationsText(d Durations, none string) string {
	if d.Count == 0 {
		return none
	}
	return fmt.Sprintf("median %s, p90 %s (%d %s)", roundedDuration(d.Median), roundedDuration(d.P90), d.Count, plural(d.Count, "acknowledgment", "acknowledgments"))
}

func rollbackNone(o Outcomes) string {
	if o.RolledBack == 0 {
		return "no rollbacks"
	}
	return "no rollback acknowledgments yet"
}

func overrunText(o Overrun) string {
	if o.Finished == 0 {
		return "no finished upgrades yet"
	}
	return fmt.Sprintf("median %s; %d of %d finished %s ran past the planned end", roundedDuration(o.Median), o.Overran, o.Finished, plural(o.Finished, "upgrade", "upgrades"))
}

// atStartText is "2 started ready, 1 started anyway (of 3 started with a
// checklist)", or none.
func atStartText(a StartReadiness) string {
	if a.Started == 0 {
		return "no upgrade with a readiness checklist was started"
	}
	return fmt.Sprintf("%d started ready, %d started anyway (of %d started with a checklist)", a.Ready, a.Anyway, a.Started)
}

// roundedDuration is a duration to the second, as people type it; none is 0s.
func roundedDuration(d time.Duration) string {
	if d = d.Round(time.Second); d <= 0 {
		return "0s"
	}
	return FormatDuration(d)
}
