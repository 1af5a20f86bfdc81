package store

import (
	"context"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

func TestDueJobsCountsWhatNoReplicaRuns(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	count := func(at time.Time) int {
		t.Helper()
		n, err := s.DueJobs(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	plan := []bot.Job{
		{ID: "reminder:1h", Kind: bot.JobReminder, Offset: time.Hour, Due: t0.Add(-time.Hour)},
		{ID: "window_open", Kind: bot.JobWindowOpen, Due: t0},
		{ID: "overrun", Kind: bot.JobOverrun, Due: t0.Add(time.Hour)},
	}
	if err := s.ReplaceJobs(ctx, 1, 0, plan, epoch); err != nil {
		t.Fatal(err)
	}
	if n := count(t0.Add(-2 * time.Hour)); n != 0 {
		t.Errorf("before anything is due: %d, want 0", n)
	}
	if n := count(t0); n != 2 {
		t.Errorf("at t0: %d, want 2 (the reminder and the window opening)", n)
	}
	// A claimed job is running somewhere: not backlog, until its lease runs out.
	lease := 10 * time.Minute
	if got, err := s.Claim(ctx, t0, lease, 1); err != nil || len(got) != 1 {
		t.Fatalf("claim: %v %v", got, err)
	}
	if n := count(t0); n != 1 {
		t.Errorf("with one claimed: %d, want 1", n)
	}
	if n := count(t0.Add(lease)); n != 2 {
		t.Errorf("once the lease ran out: %d, want 2", n)
	}
	if n := count(t0.Add(2 * time.Hour)); n != 3 {
		t.Errorf("after the window: %d, want 3", n)
	}
}
