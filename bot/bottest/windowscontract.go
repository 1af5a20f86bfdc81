package bottest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// windowsContract checks bot.FreezeStore and bot.SeriesStore, and that an
// upgrade keeps its warnings and its series, and a decision its warnings.
func windowsContract(t *testing.T, open func(t *testing.T) bot.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

	t.Run("an upgrade keeps its series and warnings, a decision its warnings", func(t *testing.T) {
		st := open(t)
		w := []bot.Warning{
			{Kind: bot.WarnOutsideWindows, Windows: []string{"Tue 02:00-05:00 Europe/Berlin"}},
			{Kind: bot.WarnFreezeOverride, Freeze: "year-end", From: t0, To: t0.Add(24 * time.Hour), By: "dave", Reason: "escalation 42"},
		}
		u := &bot.Upgrade{ID: 1, Service: "payments", Version: "v1", Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour), State: bot.Scheduled,
			CreatedAt: t0, UpdatedAt: t0, Warnings: w, Series: &bot.SeriesRef{ID: 3, Every: "Tue 02:00 Europe/Berlin", Date: "2026-11-24"}}
		if err := st.Create(ctx, u, bot.Decision{At: t0, Actor: "dave", Action: bot.ActionScheduled, Reason: "escalation 42", Warnings: w}); err != nil {
			t.Fatal(err)
		}
		got, err := st.Get(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got.Series == nil || *got.Series != *u.Series || len(got.Warnings) != 2 || got.Warnings[1].Freeze != "year-end" ||
			!got.Warnings[1].To.Equal(t0.Add(24*time.Hour)) || got.Warnings[0].Windows[0] != "Tue 02:00-05:00 Europe/Berlin" {
			t.Fatalf("got %+v %+v", got.Series, got.Warnings)
		}
		log, err := st.Log(ctx, 1)
		if err != nil || len(log) != 1 || len(log[0].Warnings) != 2 || log[0].Warnings[1].Reason != "escalation 42" {
			t.Fatalf("log %+v %v", log, err)
		}
	})

	t.Run("freezes are compare-and-set", func(t *testing.T) {
		fst, ok := open(t).(bot.FreezeStore)
		if !ok {
			t.Skip("not a FreezeStore")
		}
		if fs, err := fst.Freezes(ctx); err != nil || len(fs) != 0 {
			t.Fatalf("a new store has freezes: %v %v", fs, err)
		}
		f := bot.Freeze{Name: "year-end", From: t0, To: t0.Add(14 * 24 * time.Hour), Services: []string{"*"}, Regions: []string{"eu-west"},
			Reason: "trading", CreatedBy: "dave", CreatedAt: t0}
		if err := fst.SaveFreeze(ctx, f.Name, &f, nil); err != nil {
			t.Fatal(err)
		}
		if err := fst.SaveFreeze(ctx, f.Name, &f, nil); !errors.Is(err, bot.ErrConflict) {
			t.Fatalf("a second new freeze of the same name: %v, want ErrConflict", err)
		}
		g := bot.Freeze{Name: "deploys", From: t0, To: t0.Add(time.Hour), Services: []string{"payments", "ledger"}, CreatedBy: "dave", CreatedAt: t0}
		if err := fst.SaveFreeze(ctx, g.Name, &g, nil); err != nil {
			t.Fatal(err)
		}
		fs, err := fst.Freezes(ctx)
		if err != nil || len(fs) != 2 || fs[0].Name != "deploys" || fs[1].Name != "year-end" || !fs[1].To.Equal(f.To) ||
			!slices.Equal(fs[0].Services, g.Services) || !slices.Equal(fs[1].Regions, f.Regions) {
			t.Fatalf("freezes %+v %v", fs, err)
		}
		removed := fs[1]
		removed.RemovedBy, removed.RemovedAt, removed.RemovedReason = "erin", t0.Add(time.Hour), "lifted"
		stale := f
		stale.Reason = "not what is stored"
		if err := fst.SaveFreeze(ctx, f.Name, &removed, &stale); !errors.Is(err, bot.ErrConflict) {
			t.Fatalf("saving over another version: %v, want ErrConflict", err)
		}
		if err := fst.SaveFreeze(ctx, f.Name, &removed, &fs[1]); err != nil {
			t.Fatal(err)
		}
		if err := fst.SaveFreeze(ctx, g.Name, nil, &fs[0]); err != nil {
			t.Fatal(err)
		}
		fs, err = fst.Freezes(ctx)
		if err != nil || len(fs) != 1 || !fs[0].Removed() || fs[0].RemovedReason != "lifted" {
			t.Fatalf("after removing and deleting: %+v %v", fs, err)
		}
	})

	t.Run("series are compare-and-set", func(t *testing.T) {
		sst, ok := open(t).(bot.SeriesStore)
		if !ok {
			t.Skip("not a SeriesStore")
		}
		id, err := sst.NextSeriesID(ctx)
		if err != nil || id < 1 {
			t.Fatal(id, err)
		}
		if id2, _ := sst.NextSeriesID(ctx); id2 <= id {
			t.Fatalf("series ids %d then %d", id, id2)
		}
		if _, err := sst.GetSeries(ctx, id); !errors.Is(err, bot.ErrNotFound) {
			t.Fatalf("a missing series: %v", err)
		}
		s := &bot.Series{ID: id, Service: "payments", Version: "v2", Every: "Tue 02:00 Europe/Berlin", Until: "2027-03-31",
			Duration: time.Hour, CreatedBy: "alice", CreatedAt: t0, Next: "2026-11-24", State: bot.SeriesActive, Rev: 1}
		if err := sst.SaveSeries(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := sst.SaveSeries(ctx, s); !errors.Is(err, bot.ErrConflict) {
			t.Fatalf("saving revision 1 again: %v, want ErrConflict", err)
		}
		s.Next, s.Rev = "2026-12-01", 2
		if err := sst.SaveSeries(ctx, s); err != nil {
			t.Fatal(err)
		}
		got, err := sst.GetSeries(ctx, id)
		if err != nil || got.Next != "2026-12-01" || got.Rev != 2 || got.Duration != time.Hour || got.Until != "2027-03-31" {
			t.Fatalf("got %+v %v", got, err)
		}
		all, err := sst.ListSeries(ctx)
		if err != nil || len(all) != 1 || all[0].ID != id {
			t.Fatalf("list %+v %v", all, err)
		}
	})

	t.Run("each date of a series is claimed once", func(t *testing.T) {
		sst, ok := open(t).(bot.SeriesStore)
		if !ok {
			t.Skip("not a SeriesStore")
		}
		// Ten callers race for one date: one wins, all see its upgrade.
		var wg sync.WaitGroup
		got := make([]int, 10)
		firsts := make([]bool, 10)
		for i := range 10 {
			wg.Go(func() {
				rec, first, err := sst.ClaimOccurrence(ctx, 7, "2026-11-24", 100+i)
				if err != nil {
					t.Error(err)
				}
				got[i], firsts[i] = rec, first
			})
		}
		wg.Wait()
		winners := 0
		for i := range got {
			if got[i] != got[0] {
				t.Fatalf("callers saw different occurrences: %v", got)
			}
			if firsts[i] {
				winners++
				if got[i] != 100+i {
					t.Fatalf("the winner %d saw %d", 100+i, got[i])
				}
			}
		}
		if winners != 1 {
			t.Fatalf("%d winners", winners)
		}
		if rec, first, err := sst.ClaimOccurrence(ctx, 7, "2026-12-01", 0); err != nil || rec != 0 || !first {
			t.Fatalf("claiming a skip: %d %v %v", rec, first, err)
		}
		if rec, first, _ := sst.ClaimOccurrence(ctx, 7, "2026-12-01", 300); rec != 0 || first {
			t.Fatalf("a skipped date was claimed again: %d %v", rec, first)
		}
		// One version on one date goes to the first series that claims it.
		if rec, err := sst.ClaimVersion(ctx, "payments", "v3", "2026-12-03", 7); err != nil || rec != 7 {
			t.Fatalf("claiming a version: %d %v", rec, err)
		}
		if rec, _ := sst.ClaimVersion(ctx, "Payments", "V3", "2026-12-03", 8); rec != 7 {
			t.Fatalf("a version claimed twice (case aside): %d", rec)
		}
		if rec, _ := sst.ClaimVersion(ctx, "payments", "v3", "2026-12-10", 8); rec != 8 {
			t.Fatalf("another date of the version: %d", rec)
		}
		occ, err := sst.Occurrences(ctx, 7)
		if err != nil || len(occ) != 2 || occ["2026-11-24"] != got[0] || occ["2026-12-01"] != 0 {
			t.Fatalf("occurrences %v %v", occ, err)
		}
		if other, err := sst.Occurrences(ctx, 8); err != nil || len(other) != 0 {
			t.Fatalf("another series: %v %v", other, fmt.Sprint(err))
		}
	})
	t.Run("a series is added once per version and recurrence", func(t *testing.T) {
		sst, ok := open(t).(bot.SeriesStore)
		if !ok {
			t.Skip("not a SeriesStore")
		}
		mk := func(version, every string) *bot.Series {
			id, err := sst.NextSeriesID(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return &bot.Series{ID: id, Service: "payments", Version: version, Every: every, Duration: time.Hour,
				CreatedBy: "alice", CreatedAt: t0, Next: "2026-11-25", State: bot.SeriesActive, Rev: 1}
		}
		first := mk("v1", "Wed 03:00 UTC")
		if other, err := sst.AddSeries(ctx, first); err != nil || other != 0 {
			t.Fatalf("adding the first: %d %v", other, err)
		}
		if other, err := sst.AddSeries(ctx, first); !errors.Is(err, bot.ErrConflict) || other != 0 {
			t.Fatalf("adding its id again: %d %v, want ErrConflict", other, err)
		}
		// Ten commands race for the same series (the version's case
		// aside): one is stored, the others name it.
		var wg sync.WaitGroup
		others := make([]int, 10)
		for i := range 10 {
			s := mk("V1", "Wed 03:00 UTC")
			s.Service = "Payments"
			wg.Go(func() {
				other, err := sst.AddSeries(ctx, s)
				if err != nil {
					t.Error(err)
				}
				others[i] = other
			})
		}
		wg.Wait()
		for _, o := range others {
			if o != first.ID {
				t.Fatalf("a duplicate series was stored: %v, want all %d", others, first.ID)
			}
		}
		if all, err := sst.ListSeries(ctx); err != nil || len(all) != 1 {
			t.Fatalf("stored %d series, want 1 (%v)", len(all), err)
		}
		// Another version, another recurrence: stored.
		for _, s := range []*bot.Series{mk("v2", "Wed 03:00 UTC"), mk("v1", "Fri 03:00 UTC")} {
			if other, err := sst.AddSeries(ctx, s); err != nil || other != 0 {
				t.Fatalf("adding %s %s: %d %v", s.Version, s.Every, other, err)
			}
		}
		// Once the first is cancelled, the same series may be added again.
		first.State, first.Rev = bot.SeriesCancelled, 2
		if err := sst.SaveSeries(ctx, first); err != nil {
			t.Fatal(err)
		}
		again := mk("v1", "Wed 03:00 UTC")
		if other, err := sst.AddSeries(ctx, again); err != nil || other != 0 {
			t.Fatalf("adding it again after the cancel: %d %v", other, err)
		}
		again.Rev = 2 // added at revision 1: compare-and-set goes on from it
		if err := sst.SaveSeries(ctx, again); err != nil {
			t.Fatalf("saving the added series: %v", err)
		}
	})

	t.Run("a version's date is released by its series only", func(t *testing.T) {
		sst, ok := open(t).(bot.SeriesStore)
		if !ok {
			t.Skip("not a SeriesStore")
		}
		if rec, err := sst.ClaimVersion(ctx, "payments", "v4", "2026-12-09", 5); err != nil || rec != 5 {
			t.Fatalf("claim: %d %v", rec, err)
		}
		if err := sst.ReleaseVersion(ctx, "payments", "v4", "2026-12-09", 6); err != nil {
			t.Fatal(err)
		}
		if rec, _ := sst.ClaimVersion(ctx, "payments", "v4", "2026-12-09", 6); rec != 5 {
			t.Fatalf("released by another series: now %d", rec)
		}
		if err := sst.ReleaseVersion(ctx, "Payments", "V4", "2026-12-09", 5); err != nil {
			t.Fatal(err)
		}
		if rec, _ := sst.ClaimVersion(ctx, "payments", "v4", "2026-12-09", 6); rec != 6 {
			t.Fatalf("after its series released it: %d, want 6", rec)
		}
		if err := sst.ReleaseVersion(ctx, "payments", "v9", "2026-12-09", 6); err != nil {
			t.Fatalf("releasing nothing: %v", err)
		}
	})
}
