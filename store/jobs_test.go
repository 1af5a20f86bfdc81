package store

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/bot"
)

func jobIDs(js []bot.Job) []string {
	var out []string
	for _, j := range js {
		out = append(out, strconv.Itoa(j.Upgrade)+"/"+j.ID)
	}
	return out
}

func TestReplaceJobs(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	lease := time.Minute
	plan := []bot.Job{
		{ID: "reminder:24h", Kind: bot.JobReminder, Offset: 24 * time.Hour, Due: t0.Add(-24 * time.Hour)},
		{ID: "window_open", Kind: bot.JobWindowOpen, Due: t0},
		{ID: "overrun", Kind: bot.JobOverrun, Due: t0.Add(2 * time.Hour)},
	}
	if err := s.ReplaceJobs(ctx, 1, 0, plan, epoch); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceJobs(ctx, 2, 0, []bot.Job{{ID: "window_open", Kind: bot.JobWindowOpen, Due: t0.Add(time.Hour)}}, epoch); err != nil {
		t.Fatal(err)
	}

	// Nothing is due before its time.
	if got, err := s.Claim(ctx, t0.Add(-25*time.Hour), lease, 10); err != nil || len(got) != 0 {
		t.Fatalf("Claim before anything is due = %v, %v", got, err)
	}
	// The reminder is claimed (in flight); replanning with the same jobs
	// keeps it in flight and does not make it due again.
	got, err := s.Claim(ctx, t0.Add(-time.Hour), lease, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(jobIDs(got), []string{"1/reminder:24h"}) {
		t.Fatalf("claimed %v", jobIDs(got))
	}
	if j := got[0]; j.Kind != bot.JobReminder || j.Offset != 24*time.Hour || !j.Due.Equal(plan[0].Due) || j.Upgrade != 1 {
		t.Errorf("claimed job round trip: %+v", j)
	}
	if err := s.ReplaceJobs(ctx, 1, 0, plan, epoch); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Claim(ctx, t0.Add(-time.Hour), lease, 10); len(got) != 0 {
		t.Errorf("an unchanged in-flight job became due again: %v", jobIDs(got))
	}

	// Replace: window_open moves later, overrun is dropped, escalation added;
	// the in-flight reminder is no longer planned and is removed too.
	plan2 := []bot.Job{
		{ID: "window_open", Kind: bot.JobWindowOpen, Due: t0.Add(3 * time.Hour)},
		{ID: "escalation:brief", Kind: bot.JobEscalation, Scope: bot.ScopeBrief, Due: t0.Add(-30 * time.Minute)},
	}
	if err := s.ReplaceJobs(ctx, 1, 0, plan2, epoch); err != nil {
		t.Fatal(err)
	}
	got, err = s.Claim(ctx, t0.Add(10*time.Hour), lease, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1/escalation:brief", "2/window_open", "1/window_open"}
	if !slices.Equal(jobIDs(got), want) {
		t.Errorf("claimed %v, want %v (earliest first)", jobIDs(got), want)
	}
	if got[0].Scope != bot.ScopeBrief {
		t.Errorf("escalation scope lost: %+v", got[0])
	}
	// Done on the removed reminder is a no-op, not an error.
	if err := s.Done(ctx, bot.Job{ID: "reminder:24h", Upgrade: 1, Kind: bot.JobReminder, Offset: 24 * time.Hour, Due: plan[0].Due}); err != nil {
		t.Errorf("Done of a removed job: %v", err)
	}

	// Removing all jobs of upgrade 1 leaves upgrade 2's alone.
	if err := s.ReplaceJobs(ctx, 1, 0, nil, epoch); err != nil {
		t.Fatal(err)
	}
	due, ok, err := s.NextDue(ctx)
	if err != nil || !ok || !due.Equal(t0.Add(10*time.Hour+lease)) {
		t.Errorf("NextDue = %v %v %v, want upgrade 2's lease end", due, ok, err)
	}
	if n := s.client.HLen(ctx, s.jobsKey("data")).Val(); n != 1 {
		t.Errorf("%d jobs stored, want 1", n)
	}
	if n := s.client.Exists(ctx, s.jobsByKey(1)).Val(); n != 0 {
		t.Error("by:1 still exists")
	}

	for _, bad := range [][]bot.Job{
		{{ID: ""}},
		{{ID: "a"}, {ID: "a"}},
		{{ID: "a", Upgrade: 9}},
	} {
		if err := s.ReplaceJobs(ctx, 1, 0, bad, epoch); err == nil {
			t.Errorf("ReplaceJobs(%+v) succeeded", bad)
		}
	}
}

func TestClaimLeaseAndDone(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	if _, ok, err := s.NextDue(ctx); err != nil || ok {
		t.Fatalf("NextDue of an empty schedule = %v, %v", ok, err)
	}
	jobs := []bot.Job{
		{ID: "a", Kind: bot.JobWindowOpen, Due: t0},
		{ID: "b", Kind: bot.JobOverrun, Due: t0.Add(time.Hour)},
	}
	if err := s.ReplaceJobs(ctx, 5, 0, jobs, epoch); err != nil {
		t.Fatal(err)
	}
	if due, ok, err := s.NextDue(ctx); err != nil || !ok || !due.Equal(t0) {
		t.Errorf("NextDue = %v %v %v, want %v", due, ok, err, t0)
	}

	got, err := s.Claim(ctx, t0, 5*time.Minute, 10)
	if err != nil || !slices.Equal(jobIDs(got), []string{"5/a"}) {
		t.Fatalf("Claim at t0 = %v, %v", jobIDs(got), err)
	}
	// While leased, nobody else gets it.
	if again, _ := s.Claim(ctx, t0.Add(4*time.Minute), 5*time.Minute, 10); len(again) != 0 {
		t.Errorf("a leased job was claimed again: %v", jobIDs(again))
	}
	// The earliest moment is now the lease's end.
	if due, _, _ := s.NextDue(ctx); !due.Equal(t0.Add(5 * time.Minute)) {
		t.Errorf("NextDue while leased = %v", due)
	}
	// The claimer died: after the lease the job is due again, with its
	// original due time, and comes before later jobs.
	again, err := s.Claim(ctx, t0.Add(2*time.Hour), time.Minute, 10)
	if err != nil || !slices.Equal(jobIDs(again), []string{"5/a", "5/b"}) {
		t.Fatalf("Claim after the lease = %v, %v", jobIDs(again), err)
	}
	if !again[0].Due.Equal(t0) {
		t.Errorf("re-claimed job due %v, want %v", again[0].Due, t0)
	}

	for _, j := range again {
		if err := s.Done(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := s.Claim(ctx, t0.Add(100*time.Hour), time.Minute, 10); len(got) != 0 {
		t.Errorf("done jobs came back: %v", jobIDs(got))
	}
	if _, ok, _ := s.NextDue(ctx); ok {
		t.Error("NextDue still finds a job after Done")
	}

	// A job replaced (new due time) while in flight survives the old
	// claimer's Done.
	if err := s.ReplaceJobs(ctx, 5, 0, []bot.Job{{ID: "c", Kind: bot.JobReminder, Due: t0}}, epoch); err != nil {
		t.Fatal(err)
	}
	old, _ := s.Claim(ctx, t0, time.Minute, 1)
	if err := s.ReplaceJobs(ctx, 5, 0, []bot.Job{{ID: "c", Kind: bot.JobReminder, Due: t0.Add(time.Hour)}}, epoch); err != nil {
		t.Fatal(err)
	}
	if err := s.Done(ctx, old[0]); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Claim(ctx, t0.Add(time.Hour), time.Minute, 1); len(got) != 1 || !got[0].Due.Equal(t0.Add(time.Hour)) {
		t.Errorf("the rescheduled job = %+v", got)
	}
	// A Due in another location is the same job.
	if err := s.ReplaceJobs(ctx, 5, 0, []bot.Job{{ID: "d", Due: t0.In(time.FixedZone("X", 3600))}}, epoch); err != nil {
		t.Fatal(err)
	}
	d, _ := s.Claim(ctx, t0, time.Minute, 1)
	if err := s.Done(ctx, bot.Job{ID: "d", Upgrade: 5, Due: t0.In(time.FixedZone("Y", -7200))}); err != nil || len(d) != 1 {
		t.Fatal(err)
	}
	if s.client.HExists(ctx, s.jobsKey("data"), "5/d").Val() {
		t.Error("Done with the same instant in another zone did not remove the job")
	}
}

func TestClaimExactlyOnce(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	const upgrades, perUpgrade = 100, 10
	for u := 1; u <= upgrades; u++ {
		var jobs []bot.Job
		for i := range perUpgrade {
			jobs = append(jobs, bot.Job{ID: "j" + strconv.Itoa(i), Kind: bot.JobReminder, Due: t0.Add(time.Duration(u*perUpgrade+i) * time.Second)})
		}
		if err := s.ReplaceJobs(ctx, u, 0, jobs, epoch); err != nil {
			t.Fatal(err)
		}
	}
	// Three replicas, each with its own connections, claim concurrently.
	var (
		mu     sync.Mutex
		counts = map[string]int{}
		wg     sync.WaitGroup
	)
	now := t0.Add(24 * time.Hour)
	for r := range 3 {
		replica := s
		if r > 0 {
			replica = reopen(t, s.opts)
		}
		wg.Go(func() {
			for {
				got, err := replica.Claim(ctx, now, time.Hour, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, id := range jobIDs(got) {
					counts[id]++
				}
				mu.Unlock()
				for _, j := range got {
					if err := replica.Done(ctx, j); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if len(counts) != upgrades*perUpgrade {
		t.Errorf("%d distinct jobs claimed, want %d", len(counts), upgrades*perUpgrade)
	}
	for id, n := range counts {
		if n != 1 {
			t.Errorf("job %s claimed %d times", id, n)
		}
	}
	if n := s.client.HLen(ctx, s.jobsKey("data")).Val(); n != 0 {
		t.Errorf("%d jobs left after Done", n)
	}
}

func TestWakeups(t *testing.T) {
	a := newTestStore(t)
	b := reopen(t, a.opts)
	ctx, cancel := context.WithCancel(context.Background())
	wake := b.Wakeups(ctx)

	for i := range 3 {
		if err := a.Wake(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case <-wake:
		case <-time.After(5 * time.Second):
			t.Fatalf("wake %d not delivered to the other store", i)
		}
	}
	// Signals coalesce: many wakes, at least one signal, never blocking.
	for range 10 {
		if err := a.Wake(ctx); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-wake:
	case <-time.After(5 * time.Second):
		t.Fatal("coalesced wake not delivered")
	}
	// Another prefix does not hear it.
	other := newTestStore(t)
	otherWake := other.Wakeups(ctx)
	if err := a.Wake(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-otherWake:
		t.Error("a store with another prefix was woken")
	case <-time.After(200 * time.Millisecond):
	}

	cancel()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-wake:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("Wakeups channel not closed after ctx ended")
		}
	}
}

// epoch is a "now" before every test job.
var epoch = time.Unix(0, 0)

// TestReplaceJobsDecidesBySentNotByTime: a job whose moment passed before
// its plan landed is added, and claimable at once; re-planned while in
// flight it stays in flight; once done, a re-plan that lists it at the same
// due time does not add it back, whether that time has passed or not (a
// replica whose clock is behind); moved to another time, it is a new job.
func TestReplaceJobsDecidesBySentNotByTime(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	open := bot.Job{ID: "window_open", Kind: bot.JobWindowOpen, Due: t0}
	overrun := bot.Job{ID: "overrun", Kind: bot.JobOverrun, Due: t0.Add(time.Hour)}
	plan := []bot.Job{open, overrun}
	// The plan lands a second after the window opened.
	if err := s.ReplaceJobs(ctx, 9, 1, plan, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Claim(ctx, t0.Add(time.Second), time.Minute, 10)
	if err != nil || !slices.Equal(jobIDs(got), []string{"9/window_open"}) {
		t.Fatalf("claim after a late plan = %v, %v; want the window open, late", jobIDs(got), err)
	}
	if err := s.ReplaceJobs(ctx, 9, 1, plan, t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Claim(ctx, t0.Add(2*time.Second), time.Minute, 10); len(again) != 0 {
		t.Fatalf("re-planned while in flight, the job became due again: %v", jobIDs(again))
	}
	if err := s.Done(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	for _, now := range []time.Time{t0.Add(3 * time.Second), t0.Add(-time.Minute)} {
		if err := s.ReplaceJobs(ctx, 9, 1, plan, now); err != nil {
			t.Fatal(err)
		}
		if again, _ := s.Claim(ctx, t0.Add(10*time.Second), time.Minute, 10); len(again) != 0 {
			t.Fatalf("re-planned at %v, the sent job came back: %v", now, jobIDs(again))
		}
	}
	// Rescheduled: the window opens at a new time, a new job.
	moved := []bot.Job{{ID: "window_open", Kind: bot.JobWindowOpen, Due: t0.Add(2 * time.Hour)}, {ID: "overrun", Kind: bot.JobOverrun, Due: t0.Add(3 * time.Hour)}}
	if err := s.ReplaceJobs(ctx, 9, 2, moved, t0.Add(4*time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err = s.Claim(ctx, t0.Add(2*time.Hour), time.Minute, 10)
	if err != nil || !slices.Equal(jobIDs(got), []string{"9/window_open"}) || !got[0].Due.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("claim at the new window = %+v, %v; want the moved window open", got, err)
	}
}

// TestDoneRecordsAJobRemovedWhileItRan: a re-plan drops a job while a
// replica sends it (the state changed meanwhile); the replica's Done still
// records it, so a later plan that lists it again does not send it twice.
func TestDoneRecordsAJobRemovedWhileItRan(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	open := bot.Job{ID: "window_open", Kind: bot.JobWindowOpen, Due: t0}
	overrun := bot.Job{ID: "overrun", Kind: bot.JobOverrun, Due: t0.Add(time.Hour)}
	if err := s.ReplaceJobs(ctx, 5, 1, []bot.Job{open, overrun}, epoch); err != nil {
		t.Fatal(err)
	}
	got, err := s.Claim(ctx, t0, time.Minute, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim = %v, %v", jobIDs(got), err)
	}
	if err := s.ReplaceJobs(ctx, 5, 2, []bot.Job{overrun}, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Done(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceJobs(ctx, 5, 3, []bot.Job{open, overrun}, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Claim(ctx, t0.Add(time.Minute), time.Minute, 10); len(again) != 0 {
		t.Fatalf("a job sent while it was re-planned away came back: %v", jobIDs(again))
	}
}

// TestReplaceJobsAfterAnOlderVersion: the schedule was kept by a version of
// the store without done records (a job of upgrade 1 is pending, nothing is
// recorded). A job due before this version's first re-plan that is not
// pending may have been sent by the older one: it is not added. A plan
// lagging a moment after that gets its job.
func TestReplaceJobsAfterAnOlderVersion(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	pending := bot.Job{ID: "overrun", Upgrade: 1, Kind: bot.JobOverrun, Due: t0.Add(time.Hour)}
	js, err := encodeJob(pending)
	if err != nil {
		t.Fatal(err)
	}
	m := jobMember(1, pending.ID)
	s.client.HSet(ctx, s.jobsKey("data"), m, js)
	s.client.ZAdd(ctx, s.jobsKey("due"), redis.Z{Score: float64(pending.Due.UnixMilli()), Member: m})
	s.client.SAdd(ctx, s.jobsByKey(1), m)

	first := t0.Add(time.Minute) // this version starts: its full re-plan
	sent := bot.Job{ID: "window_open", Kind: bot.JobWindowOpen, Due: t0}
	if err := s.ReplaceJobs(ctx, 2, 1, []bot.Job{sent}, first); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceJobs(ctx, 1, 1, []bot.Job{pending}, first); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Claim(ctx, first, time.Minute, 10); len(got) != 0 {
		t.Fatalf("a job the older version may have sent was added: %v", jobIDs(got))
	}
	late := bot.Job{ID: "window_open", Kind: bot.JobWindowOpen, Due: first.Add(time.Second)}
	if err := s.ReplaceJobs(ctx, 3, 1, []bot.Job{late}, first.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Claim(ctx, t0.Add(2*time.Hour), time.Minute, 10)
	if err != nil || !slices.Equal(jobIDs(got), []string{"3/window_open", "1/overrun"}) {
		t.Fatalf("claim = %v, %v; want the late job of the new plan and the older version's pending one", jobIDs(got), err)
	}
}

// TestReplaceJobsIgnoresOlderRevision: two changes of one upgrade plan
// concurrently and the older plan arrives last; the newer window's jobs stay.
func TestReplaceJobsIgnoresOlderRevision(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	newer := []bot.Job{{ID: "window_open", Kind: bot.JobWindowOpen, Due: t0.Add(2 * time.Hour)}}
	older := []bot.Job{{ID: "window_open", Kind: bot.JobWindowOpen, Due: t0.Add(time.Hour)}}
	if err := s.ReplaceJobs(ctx, 3, 6, newer, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceJobs(ctx, 3, 5, older, t0); err != nil {
		t.Fatal(err)
	}
	next, ok, err := s.NextDue(ctx)
	if err != nil || !ok || !next.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("next due = %v %v %v; the older plan must not win", next, ok, err)
	}
	// A finished upgrade's empty plan clears everything, whatever came before.
	if err := s.ReplaceJobs(ctx, 3, 7, nil, t0); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.NextDue(ctx); ok {
		t.Fatal("jobs left after the empty plan")
	}
}

// TestReleaseAndRetry: a claimed job not started goes back at its own due
// time and is claimable at once; a failed one comes back at the time given,
// with its attempt count; neither touches a job no longer held.
func TestReleaseAndRetry(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	plan := []bot.Job{
		{ID: "a", Kind: bot.JobWindowOpen, Due: t0},
		{ID: "b", Kind: bot.JobOverrun, Due: t0.Add(time.Second)},
	}
	if err := s.ReplaceJobs(ctx, 4, 1, plan, epoch); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(time.Minute)
	got, err := s.Claim(ctx, now, time.Hour, 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("claim = %v, %v", jobIDs(got), err)
	}
	if got[0].Attempt != 0 {
		t.Errorf("a fresh job has attempt %d", got[0].Attempt)
	}
	// Release: both are claimable at once, by anyone, in due order.
	if err := s.Release(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, err := s.Claim(ctx, now, time.Hour, 10)
	if err != nil || !slices.Equal(jobIDs(again), []string{"4/a", "4/b"}) {
		t.Fatalf("after Release, claim = %v, %v; want both at once", jobIDs(again), err)
	}
	// Retry: a is due again 5s later with attempt 1; b is released.
	a := again[0]
	a.Attempt = 1
	if err := s.Retry(ctx, a, now.Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, again[1:]); err != nil {
		t.Fatal(err)
	}
	if due, _, _ := s.NextDue(ctx); !due.Equal(t0.Add(time.Second)) {
		t.Errorf("NextDue = %v, want b's due time", due)
	}
	if got, _ := s.Claim(ctx, now.Add(4*time.Second), time.Hour, 10); !slices.Equal(jobIDs(got), []string{"4/b"}) {
		t.Fatalf("before a's retry time, claim = %v; want only b", jobIDs(got))
	}
	// A re-plan with the same jobs leaves the retry where it is.
	if err := s.ReplaceJobs(ctx, 4, 2, plan, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Claim(ctx, now.Add(4*time.Second), time.Hour, 10); len(got) != 0 {
		t.Fatalf("the re-plan made the retried job due early: %v", jobIDs(got))
	}
	got, err = s.Claim(ctx, now.Add(5*time.Second), time.Hour, 10)
	if err != nil || len(got) != 1 || got[0].ID != "a" || got[0].Attempt != 1 || !got[0].Due.Equal(t0) {
		t.Fatalf("at its retry time, claim = %+v, %v; want a, attempt 1, its original due", got, err)
	}
	// Its lease runs out and another replica takes it: the first one's
	// Release and Retry change nothing.
	stale := got[0]
	other, err := s.Claim(ctx, now.Add(2*time.Hour), time.Hour, 10)
	if err != nil || !slices.Contains(jobIDs(other), "4/a") {
		t.Fatalf("retake after the lease = %v, %v", jobIDs(other), err)
	}
	if err := s.Release(ctx, []bot.Job{stale}); err != nil {
		t.Fatal(err)
	}
	stale.Attempt = 7
	if err := s.Retry(ctx, stale, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Claim(ctx, now.Add(2*time.Hour), time.Hour, 10); len(got) != 0 {
		t.Fatalf("a job held by another replica was put back: %v", jobIDs(got))
	}
	// Re-planned to another time, the job starts over: attempt 0.
	moved := []bot.Job{{ID: "a", Kind: bot.JobWindowOpen, Due: t0.Add(3 * time.Hour)}}
	if err := s.ReplaceJobs(ctx, 4, 3, moved, now); err != nil {
		t.Fatal(err)
	}
	got, err = s.Claim(ctx, t0.Add(3*time.Hour), time.Hour, 10)
	if err != nil || len(got) != 1 || got[0].Attempt != 0 {
		t.Fatalf("re-planned job = %+v, %v; want attempt 0", got, err)
	}
}

// TestFinishedUpgradeLeavesNothingInTheSchedule: when an upgrade's last job
// is done, its planned revision, attempt counts and delivered marks go too.
func TestFinishedUpgradeLeavesNothingInTheSchedule(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	plan := []bot.Job{{ID: "a", Kind: bot.JobWindowOpen, Due: t0}, {ID: "b", Kind: bot.JobOverrun, Due: t0.Add(time.Hour)}}
	if err := s.ReplaceJobs(ctx, 8, 3, plan, epoch); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceJobs(ctx, 9, 1, plan, epoch); err != nil {
		t.Fatal(err)
	}
	revs, err := s.PlannedRevs(ctx, []int{8, 9, 10})
	if err != nil || len(revs) != 2 || revs[8] != 3 || revs[9] != 1 {
		t.Fatalf("PlannedRevs = %v, %v", revs, err)
	}
	got, err := s.Claim(ctx, t0, time.Hour, 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("claim = %v, %v", jobIDs(got), err)
	}
	a := got[0]
	if a.Upgrade != 8 {
		a = got[1]
	}
	a.Attempt = 2
	if err := s.Retry(ctx, a, t0); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Claim(ctx, t0, time.Hour, 10)
	if err := s.MarkDelivered(ctx, got[0], "t:#x 1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Done(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	if revs, _ := s.PlannedRevs(ctx, []int{8}); revs[8] != 3 {
		t.Fatalf("the revision went while upgrade 8 still has a job: %v", revs)
	}
	last, err := s.Claim(ctx, t0.Add(time.Hour), time.Hour, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range last {
		if j.Upgrade == 8 {
			if err := s.Done(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
	}
	if revs, _ := s.PlannedRevs(ctx, []int{8, 9}); len(revs) != 1 || revs[9] != 1 {
		t.Errorf("after upgrade 8's last job: planned revisions %v, want only upgrade 9's", revs)
	}
	for _, k := range []string{"attempts", "sent"} {
		if n := s.client.HLen(ctx, s.jobsKey(k)).Val(); n != 0 {
			t.Errorf("%s holds %d fields after the jobs were done", k, n)
		}
	}
	if n := s.client.Exists(ctx, s.jobsByKey(8)).Val(); n != 0 {
		t.Error("by:8 still exists")
	}
	// The record of what was done stays while the upgrade may be planned
	// again, then expires: re-planning the same jobs keeps nothing,
	// revision included.
	planned := s.jobsPlannedKey(8)
	if ttl := s.client.PTTL(ctx, planned).Val(); ttl <= 0 || ttl > jobRecordTTL {
		t.Errorf("done records of upgrade 8: TTL %v, want up to %v", ttl, jobRecordTTL)
	}
	if ttl := s.client.PTTL(ctx, s.jobsPlannedKey(9)).Val(); ttl != -1 {
		t.Errorf("records of upgrade 9, which has a pending job: TTL %v, want none", ttl)
	}
	if err := s.ReplaceJobs(ctx, 8, 4, plan, t0.Add(10*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if revs, _ := s.PlannedRevs(ctx, []int{8}); len(revs) != 0 {
		t.Errorf("an upgrade without jobs has a planned revision: %v", revs)
	}
	if ttl := s.client.PTTL(ctx, planned).Val(); ttl <= 0 {
		t.Errorf("after a re-plan that added nothing: TTL %v, want one", ttl)
	}
	// Finished: its state plans nothing, the records go.
	if err := s.ReplaceJobs(ctx, 8, 5, nil, t0.Add(10*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := s.client.Exists(ctx, planned).Val(); n != 0 {
		t.Error("planned:8 still exists after an empty plan")
	}
}

// TestDeliveredMarks: the threads a claimed job reached are remembered for
// its retry, and forgotten with the job or when it is re-planned.
func TestDeliveredMarks(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	plan := []bot.Job{{ID: "a", Kind: bot.JobWindowOpen, Due: t0}}
	if err := s.ReplaceJobs(ctx, 2, 1, plan, epoch); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Claim(ctx, t0, time.Hour, 1)
	j := got[0]
	if parts, err := s.Delivered(ctx, j); err != nil || len(parts) != 0 {
		t.Fatalf("Delivered of a fresh job = %q, %v", parts, err)
	}
	for _, p := range []string{"t:#a 1", "t:#b 2"} {
		if err := s.MarkDelivered(ctx, j, p); err != nil {
			t.Fatal(err)
		}
	}
	if parts, err := s.Delivered(ctx, j); err != nil || !slices.Equal(parts, []string{"t:#a 1", "t:#b 2"}) {
		t.Fatalf("Delivered = %q, %v", parts, err)
	}
	// Re-planned to another time: a new job, nothing delivered yet, and the
	// old claim cannot mark it.
	moved := []bot.Job{{ID: "a", Kind: bot.JobWindowOpen, Due: t0.Add(time.Hour)}}
	if err := s.ReplaceJobs(ctx, 2, 2, moved, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(ctx, j, "t:#c 3"); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Claim(ctx, t0.Add(time.Hour), time.Hour, 1)
	if parts, err := s.Delivered(ctx, got[0]); err != nil || len(parts) != 0 {
		t.Fatalf("Delivered of the re-planned job = %q, %v", parts, err)
	}
}

func TestForget(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	if first, err := s.First(ctx, "k", time.Hour); err != nil || !first {
		t.Fatalf("First = %v, %v", first, err)
	}
	if err := s.Forget(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if first, err := s.First(ctx, "k", time.Hour); err != nil || !first {
		t.Fatalf("First after Forget = %v, %v; want first again", first, err)
	}
	if first, _ := s.First(ctx, "k", time.Hour); first {
		t.Fatal("First twice is first")
	}
}

// TestSentAt: MarkSent keeps the first time a job went out, per job and due
// time; SentAt cannot tell for a job due before the first plan of this
// version found jobs of an older one pending (sentsince).
func TestSentAt(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	rem := bot.Job{ID: "reminder:1h0m0s", Upgrade: 1, Kind: bot.JobReminder, Offset: time.Hour, Due: t0}
	if _, known, err := s.SentAt(ctx, rem); err != nil || known {
		t.Fatalf("SentAt before any plan = known %v, %v; want unknown", known, err)
	}
	// An older version left a job pending.
	js, err := encodeJob(bot.Job{ID: "overrun", Upgrade: 9, Kind: bot.JobOverrun, Due: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	s.client.HSet(ctx, s.jobsKey("data"), jobMember(9, "overrun"), js)
	first := t0.Add(time.Minute)
	if err := s.ReplaceJobs(ctx, 2, 1, []bot.Job{{ID: "window_open", Kind: bot.JobWindowOpen, Due: t0.Add(time.Hour)}}, first); err != nil {
		t.Fatal(err)
	}
	if _, known, err := s.SentAt(ctx, rem); err != nil || known {
		t.Fatalf("SentAt of a job due before this version planned = known %v, %v; want unknown", known, err)
	}
	later := rem
	later.Due = first.Add(time.Hour)
	if at, known, err := s.SentAt(ctx, later); err != nil || !known || !at.IsZero() {
		t.Fatalf("SentAt of a job not sent = %v %v %v; want known, zero", at, known, err)
	}
	sent := later.Due.Add(70 * time.Second)
	for _, at := range []time.Time{sent, sent.Add(time.Minute)} {
		if err := s.MarkSent(ctx, later, at); err != nil {
			t.Fatal(err)
		}
	}
	if at, known, err := s.SentAt(ctx, later); err != nil || !known || !at.Equal(sent) {
		t.Fatalf("SentAt = %v %v %v; want the first time, %v", at, known, err, sent)
	}
	if err := s.MarkSent(ctx, rem, t0); err != nil {
		t.Fatal(err)
	}
	if at, known, err := s.SentAt(ctx, rem); err != nil || !known || !at.Equal(t0) {
		t.Fatalf("SentAt of a recorded job due before sentsince = %v %v %v; want %v", at, known, err, t0)
	}
	moved := later
	moved.Due = later.Due.Add(time.Hour) // rescheduled: another job
	if at, known, err := s.SentAt(ctx, moved); err != nil || !known || !at.IsZero() {
		t.Fatalf("SentAt of the job moved to another time = %v %v %v; want not sent", at, known, err)
	}
	if ttl := s.client.PTTL(ctx, s.jobsSentAtKey(1)).Val(); ttl <= 0 || ttl > jobRecordTTL {
		t.Errorf("sent-at record TTL = %v", ttl)
	}

	// A new schedule (nothing pending at its first plan) knows every job.
	fresh := newTestStore(t)
	if err := fresh.ReplaceJobs(ctx, 1, 1, []bot.Job{rem}, first); err != nil {
		t.Fatal(err)
	}
	if at, known, err := fresh.SentAt(ctx, rem); err != nil || !known || !at.IsZero() {
		t.Fatalf("SentAt on a new schedule = %v %v %v; want known, not sent", at, known, err)
	}
}

// TestRollbackAlertSentAt: the rollback alert's record is complete from the
// first plan of a version that keeps it (alertsince, set then even with no
// job pending): a rollback before it cannot tell, one after it can.
func TestRollbackAlertSentAt(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	before := bot.Job{ID: bot.RollbackAlertID, Upgrade: 1, Due: t0}
	if _, known, err := s.SentAt(ctx, before); err != nil || known {
		t.Fatalf("SentAt before any plan = known %v, %v; want unknown", known, err)
	}
	first := t0.Add(time.Minute)
	if err := s.ReplaceJobs(ctx, 2, 1, []bot.Job{{ID: "window_open", Kind: bot.JobWindowOpen, Due: t0.Add(time.Hour)}}, first); err != nil {
		t.Fatal(err)
	}
	if _, known, err := s.SentAt(ctx, before); err != nil || known {
		t.Fatalf("SentAt of a rollback before this version planned = known %v, %v; want unknown", known, err)
	}
	// The reminders' mark says nothing of alerts: no job was pending.
	if v := s.client.Get(ctx, s.jobsKey("sentsince")).Val(); v != "0" {
		t.Fatalf("sentsince = %q, want 0", v)
	}
	after := bot.Job{ID: bot.RollbackAlertID, Upgrade: 1, Due: first.Add(time.Hour)}
	if at, known, err := s.SentAt(ctx, after); err != nil || !known || !at.IsZero() {
		t.Fatalf("SentAt of an alert not sent = %v %v %v; want known, zero", at, known, err)
	}
	sent := after.Due.Add(150 * time.Second)
	for _, at := range []time.Time{sent, sent.Add(time.Minute)} {
		if err := s.MarkSent(ctx, after, at); err != nil {
			t.Fatal(err)
		}
	}
	if at, known, err := s.SentAt(ctx, after); err != nil || !known || !at.Equal(sent) {
		t.Fatalf("SentAt = %v %v %v; want the first time, %v", at, known, err, sent)
	}
	// A later plan does not move the mark.
	if err := s.ReplaceJobs(ctx, 2, 2, nil, sent.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, known, err := s.SentAt(ctx, bot.Job{ID: bot.RollbackAlertID, Upgrade: 3, Due: first.Add(time.Minute)}); err != nil || !known {
		t.Fatalf("SentAt after a later plan = known %v, %v; want known", known, err)
	}
}
