package store

import (
	"context"
	"fmt"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

var _ bot.DueCounter = (*Store)(nil)

// DueJobs implements bot.DueCounter: the jobs due at or before now that no
// replica is running, pending or leased by a claim that ran out before now
// (the next Claim makes those due again). Two counts in one round trip; the
// keys share the {jobs} hash tag.
func (s *Store) DueJobs(ctx context.Context, now time.Time) (int, error) {
	pipe := s.client.Pipeline()
	due := pipe.ZCount(ctx, s.jobsKey("due"), "-inf", ms(now))
	expired := pipe.ZCount(ctx, s.jobsKey("inflight"), "-inf", ms(now))
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("store: count due jobs: %w", err)
	}
	return int(due.Val() + expired.Val()), nil
}
