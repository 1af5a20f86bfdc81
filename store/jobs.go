package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/bot"
)

// The job schedule lives under one hash tag, so Claim can move jobs between
// its sorted sets atomically.
func (s *Store) jobsKey(name string) string { return s.prefix + ":{jobs}:" + name }
func (s *Store) jobsByKey(upgrade int) string {
	return s.jobsKey("by:" + strconv.Itoa(upgrade))
}

// jobsPlannedKey is the record of an upgrade's jobs, pending or done:
// member -> due ms of the latest version (see replaceJobsScript).
func (s *Store) jobsPlannedKey(upgrade int) string {
	return s.jobsKey("planned:" + strconv.Itoa(upgrade))
}

// jobRecordTTL is how long the record of an upgrade's done jobs outlives
// its last pending job. Re-planning refreshes it, and the reconciler
// re-plans every active upgrade without jobs each period, so it only runs
// out for upgrades that are no longer planned: finished ones.
const jobRecordTTL = 90 * 24 * time.Hour

// jobMember names a job in the schedule: "N/<job id>".
func jobMember(upgrade int, id string) string { return strconv.Itoa(upgrade) + "/" + id }

// storedJob is the JSON kept in the data hash: the job, led by its due time
// in unix milliseconds, which Claim reads to put an expired lease back at
// its original place.
type storedJob struct {
	DueMS int64 `json:"due_ms"`
	bot.Job
}

// encodeJob gives the canonical JSON of a job: Done compares it byte for
// byte with the stored one, so it must not depend on the Due's location.
func encodeJob(j bot.Job) (string, error) {
	j.Due = j.Due.UTC()
	js, err := json.Marshal(storedJob{DueMS: j.Due.UnixMilli(), Job: j})
	if err != nil {
		return "", fmt.Errorf("encode job %s: %w", j.ID, err)
	}
	return string(js), nil
}

// ReplaceJobs makes jobs the complete set of pending jobs of the upgrade, in
// one step: jobs not listed are removed (also in flight), new ones are
// added, changed ones are rescheduled, and unchanged ones stay as they are
// (a job in flight stays in flight), so each falls due once. A job's Upgrade
// must be 0 or upgrade; IDs must be unique and not empty.
//
// A listed job is added whether or not its time has passed, unless it was
// done already: the store records the due time of every job of the upgrade
// it had pending or finished (P:{jobs}:planned:N), and a job listed again at
// the due time it was done at stays done. So a plan that lags its moment
// still gets its window-open notice (late), a job moved to a new time is a
// new job, and a sent job never comes back. The exception are jobs due
// before P:{jobs}:since, the now of the first ReplaceJobs of a store that
// keeps these records, when jobs of an older version were pending then:
// that version kept no records, so such jobs are only kept if pending.
// A plan from an older revision than the last one applied changes nothing.
func (s *Store) ReplaceJobs(ctx context.Context, upgrade, rev int, jobs []bot.Job, now time.Time) error {
	args := make([]any, 0, 4+3*len(jobs))
	args = append(args, ms(now), upgrade, rev, jobRecordTTL.Milliseconds())
	seen := make(map[string]bool, len(jobs))
	for _, j := range jobs {
		switch {
		case j.ID == "":
			return fmt.Errorf("store: replace jobs of upgrade %d: a job has no id", upgrade)
		case seen[j.ID]:
			return fmt.Errorf("store: replace jobs of upgrade %d: job %q listed twice", upgrade, j.ID)
		case j.Upgrade != 0 && j.Upgrade != upgrade:
			return fmt.Errorf("store: replace jobs of upgrade %d: job %q belongs to upgrade %d", upgrade, j.ID, j.Upgrade)
		}
		seen[j.ID] = true
		j.Upgrade = upgrade
		js, err := encodeJob(j)
		if err != nil {
			return fmt.Errorf("store: replace jobs of upgrade %d: %w", upgrade, err)
		}
		args = append(args, jobMember(upgrade, j.ID), ms(j.Due), js)
	}
	keys := []string{s.jobsKey("due"), s.jobsKey("inflight"), s.jobsKey("data"), s.jobsByKey(upgrade), s.jobsKey("revs"),
		s.jobsKey("attempts"), s.jobsKey("sent"), s.jobsPlannedKey(upgrade), s.jobsKey("since"), s.jobsKey("sentsince"), s.jobsKey("alertsince")}
	if err := replaceJobsScript.Run(ctx, s.client, keys, args...).Err(); err != nil {
		return fmt.Errorf("store: replace jobs of upgrade %d: %w", upgrade, err)
	}
	return nil
}

// Claim leases up to max jobs due at or before now to the caller until
// now+lease, earliest first. Jobs whose lease ran out before now are due
// again first. Each job is held by one caller at a time.
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, max int) ([]bot.Job, error) {
	if max <= 0 {
		return nil, nil
	}
	if lease <= 0 {
		return nil, fmt.Errorf("store: claim: lease must be positive, got %v", lease)
	}
	keys := []string{s.jobsKey("due"), s.jobsKey("inflight"), s.jobsKey("data"), s.jobsKey("attempts")}
	res, err := claimScript.Run(ctx, s.client, keys, ms(now), ms(now.Add(lease)), max).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("store: claim: %w", err)
	}
	leased := time.UnixMilli(now.Add(lease).UnixMilli()).UTC()
	out := make([]bot.Job, 0, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		js := res[i]
		var j bot.Job
		if err := json.Unmarshal([]byte(js), &j); err != nil {
			// Leave it leased: it comes back when the lease ends, and the
			// log says why it is never handled.
			s.log.ErrorContext(ctx, "store: undecodable job", "json", js, "err", err)
			continue
		}
		j.Attempt, _ = strconv.Atoi(res[i+1])
		j.Leased = leased
		out = append(out, j)
	}
	return out, nil
}

// Release puts claimed jobs that were not started back in due at their own
// due time, so any replica may claim them at once (a scheduler shutting down
// or running out of lease). Jobs no longer held by the claim that returned
// them (its lease ran out, or they were re-planned) are left alone.
func (s *Store) Release(ctx context.Context, jobs []bot.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	args := make([]any, 0, 5*len(jobs))
	for _, j := range jobs {
		js, err := encodeJob(j)
		if err != nil {
			return fmt.Errorf("store: release: %w", err)
		}
		args = append(args, jobMember(j.Upgrade, j.ID), js, ms(j.Leased), "", "")
	}
	if err := requeueScript.Run(ctx, s.client, s.requeueKeys(), args...).Err(); err != nil {
		return fmt.Errorf("store: release %d jobs: %w", len(jobs), err)
	}
	return nil
}

// Retry puts a claimed job back in due at at, recording j.Attempt as its
// count of failed attempts (Claim hands it back). A job no longer held by
// the claim that returned it is left alone.
func (s *Store) Retry(ctx context.Context, j bot.Job, at time.Time) error {
	js, err := encodeJob(j)
	if err != nil {
		return fmt.Errorf("store: retry: %w", err)
	}
	args := []any{jobMember(j.Upgrade, j.ID), js, ms(j.Leased), ms(at), strconv.Itoa(j.Attempt)}
	if err := requeueScript.Run(ctx, s.client, s.requeueKeys(), args...).Err(); err != nil {
		return fmt.Errorf("store: retry %s of upgrade %d: %w", j.ID, j.Upgrade, err)
	}
	return nil
}

func (s *Store) requeueKeys() []string {
	return []string{s.jobsKey("due"), s.jobsKey("inflight"), s.jobsKey("data"), s.jobsKey("attempts")}
}

// Delivered lists the parts of a claimed job that MarkDelivered recorded
// (the threads a notice already reached), for a retry to skip.
func (s *Store) Delivered(ctx context.Context, j bot.Job) ([]string, error) {
	v, err := s.client.HGet(ctx, s.jobsKey("sent"), jobMember(j.Upgrade, j.ID)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("store: delivered parts of %s of upgrade %d: %w", j.ID, j.Upgrade, err)
	}
	return strings.Split(v, "\n"), nil
}

// MarkDelivered records that part of a claimed job was delivered. The marks
// go with the job: Done and re-planning it to another time forget them.
func (s *Store) MarkDelivered(ctx context.Context, j bot.Job, part string) error {
	js, err := encodeJob(j)
	if err != nil {
		return fmt.Errorf("store: mark delivered: %w", err)
	}
	keys := []string{s.jobsKey("data"), s.jobsKey("sent")}
	if err := markDeliveredScript.Run(ctx, s.client, keys, jobMember(j.Upgrade, j.ID), js, part).Err(); err != nil {
		return fmt.Errorf("store: mark %q of %s of upgrade %d delivered: %w", part, j.ID, j.Upgrade, err)
	}
	return nil
}

// jobsSentAtKey is when jobs of an upgrade were sent (MarkSent): field
// "<job id>@<due ms>" -> unix ms.
func (s *Store) jobsSentAtKey(upgrade int) string {
	return s.jobsKey("sentat:" + strconv.Itoa(upgrade))
}

func sentAtField(j bot.Job) string { return j.ID + "@" + strconv.FormatInt(j.Due.UnixMilli(), 10) }

// MarkSent records at as when j was sent (P:{jobs}:sentat:N: the last
// reminder, and the rollback alert, bot.RollbackAlertID), unless a
// time is recorded for j at its due time already: the first wins. The
// record expires jobRecordTTL after the upgrade's last one.
func (s *Store) MarkSent(ctx context.Context, j bot.Job, at time.Time) error {
	key := s.jobsSentAtKey(j.Upgrade)
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSetNX(ctx, key, sentAtField(j), ms(at))
		p.PExpire(ctx, key, jobRecordTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: mark %s of upgrade %d sent: %w", j.ID, j.Upgrade, err)
	}
	return nil
}

// SentAt reports when j was recorded sent (MarkSent), zero when it was not.
// known is false for a job due before P:{jobs}:sentsince, when the first
// plan of a version that keeps these records found jobs pending: an older
// version may have sent it without a record. For the rollback alert
// (bot.RollbackAlertID, due at the rollback) the mark is P:{jobs}:alertsince,
// the first plan of a version that records alerts: a rollback before it
// cannot tell.
func (s *Store) SentAt(ctx context.Context, j bot.Job) (time.Time, bool, error) {
	sinceKey := "sentsince"
	if j.ID == bot.RollbackAlertID {
		sinceKey = "alertsince"
	}
	pipe := s.client.Pipeline()
	at := pipe.HGet(ctx, s.jobsSentAtKey(j.Upgrade), sentAtField(j))
	since := pipe.Get(ctx, s.jobsKey(sinceKey))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return time.Time{}, false, fmt.Errorf("store: when %s of upgrade %d was sent: %w", j.ID, j.Upgrade, err)
	}
	if v, err := at.Int64(); err == nil {
		return time.UnixMilli(v).UTC(), true, nil
	}
	sinceMS, err := since.Int64()
	if err != nil || j.Due.UnixMilli() < sinceMS {
		return time.Time{}, false, nil
	}
	return time.Time{}, true, nil
}

// PlannedRevs reports, for each of ids that has jobs, the revision of the
// upgrade its jobs were planned from (one HMGET).
func (s *Store) PlannedRevs(ctx context.Context, ids []int) (map[int]int, error) {
	out := make(map[int]int, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	fields := make([]string, len(ids))
	for i, id := range ids {
		fields[i] = strconv.Itoa(id)
	}
	vals, err := s.client.HMGet(ctx, s.jobsKey("revs"), fields...).Result()
	if err != nil {
		return nil, fmt.Errorf("store: planned revisions: %w", err)
	}
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		if rev, err := strconv.Atoi(str); err == nil {
			out[ids[i]] = rev
		}
	}
	return out, nil
}

// Done removes a claimed job (as Claim returned it) for good, with its
// attempt count and delivered marks, and records it as done, so a re-plan
// that lists it again at the same due time does not add it back. A job
// that was re-planned to another time since it was claimed is left alone;
// one removed meanwhile is recorded all the same (it was sent).
func (s *Store) Done(ctx context.Context, j bot.Job) error {
	js, err := encodeJob(j)
	if err != nil {
		return fmt.Errorf("store: done: %w", err)
	}
	keys := []string{s.jobsKey("due"), s.jobsKey("inflight"), s.jobsKey("data"), s.jobsByKey(j.Upgrade), s.jobsKey("revs"),
		s.jobsKey("attempts"), s.jobsKey("sent"), s.jobsPlannedKey(j.Upgrade)}
	err = doneScript.Run(ctx, s.client, keys, jobMember(j.Upgrade, j.ID), js, j.Upgrade, ms(j.Due), jobRecordTTL.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("store: done %s of upgrade %d: %w", j.ID, j.Upgrade, err)
	}
	return nil
}

// NextDue is when the earliest pending job falls due, or the earliest lease
// runs out, whichever is sooner; false when there are no jobs.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	pipe := s.client.Pipeline()
	due := pipe.ZRangeWithScores(ctx, s.jobsKey("due"), 0, 0)
	inflight := pipe.ZRangeWithScores(ctx, s.jobsKey("inflight"), 0, 0)
	if _, err := pipe.Exec(ctx); err != nil {
		return time.Time{}, false, fmt.Errorf("store: next due: %w", err)
	}
	var (
		best  float64
		found bool
	)
	for _, c := range []*redis.ZSliceCmd{due, inflight} {
		if z := c.Val(); len(z) > 0 && (!found || z[0].Score < best) {
			best, found = z[0].Score, true
		}
	}
	if !found {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(int64(best)).UTC(), true, nil
}

func (s *Store) wakeChannel() string { return s.jobsKey("wake") }

// Wake tells every replica's Wakeups that the schedule changed (PUBLISH).
func (s *Store) Wake(ctx context.Context) error {
	if err := s.client.Publish(ctx, s.wakeChannel(), "1").Err(); err != nil {
		return fmt.Errorf("store: wake: %w", err)
	}
	return nil
}

// Wakeups subscribes to Wake and delivers a signal for each one (coalesced:
// the channel holds one) until ctx ends, then closes the channel. It returns
// once the subscription is in place, so a later Wake is not missed. After a
// lost connection it signals too, since a Wake may have been missed; a
// scheduler should still re-check NextDue now and then.
func (s *Store) Wakeups(ctx context.Context) <-chan struct{} {
	out := make(chan struct{}, 1)
	ps := s.client.Subscribe(ctx, s.wakeChannel())
	// Wait for the confirmation, bounded: Redis may be down right now, in
	// which case go-redis keeps retrying in the background.
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	if _, err := ps.Receive(rctx); err != nil && ctx.Err() == nil {
		// Pub/sub bypasses the command hooks: tell the Outage here.
		if rctx.Err() != nil && !Unreachable(err) {
			err = &unanswered{err} // no answer within the bound: as good as down
			if s.outage != nil {
				s.outage.Failed(err)
			}
		} else {
			err = s.answered(ctx, err)
		}
		s.log.WarnContext(ctx, "store: wake subscription not confirmed yet", "err", err)
	}
	cancel()
	msgs := ps.ChannelWithSubscriptions()
	go func() {
		defer close(out)
		defer ps.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-msgs:
				if !ok {
					return
				}
				if sub, isSub := m.(*redis.Subscription); isSub && !strings.EqualFold(sub.Kind, "subscribe") {
					continue
				}
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out
}

var (
	_ bot.SentLog     = (*Store)(nil)
	_ bot.DeliveryLog = (*Store)(nil)
	_ bot.Forgetter   = (*Store)(nil)
)

var _ bot.PlannedRevisions = (*Store)(nil)
