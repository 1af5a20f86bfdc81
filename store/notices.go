package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/bot"
)

var _ bot.NoticeLog = (*Store)(nil)

// The pending command notices live under one hash tag, so a record's two
// keys are written, claimed and deleted together.
func (s *Store) noticesKey(name string) string { return s.prefix + ":{notices}:" + name }

// RecordNotice implements bot.NoticeLog: the notice's JSON in the data hash
// and its key in the due set, scored n.At, in one MULTI (one round trip).
func (s *Store) RecordNotice(ctx context.Context, n bot.PendingNotice) error {
	if n.Key == "" {
		return fmt.Errorf("store: record notice of upgrade %d: no key", n.Upgrade)
	}
	js, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("store: record notice %s: %w", n.Key, err)
	}
	_, err = s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.noticesKey("data"), n.Key, js)
		p.ZAdd(ctx, s.noticesKey("due"), redis.Z{Score: float64(n.At.UnixMilli()), Member: n.Key})
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record notice %s: %w", n.Key, err)
	}
	return nil
}

// TouchNotice implements bot.NoticeLog: it re-scores the notice, if still recorded.
func (s *Store) TouchNotice(ctx context.Context, n bot.PendingNotice, at time.Time) error {
	err := s.client.ZAddXX(ctx, s.noticesKey("due"), redis.Z{Score: float64(at.UnixMilli()), Member: n.Key}).Err()
	if err != nil {
		return fmt.Errorf("store: touch notice %s: %w", n.Key, err)
	}
	return nil
}

// MarkNotice implements bot.NoticeLog: part is appended to the notice's
// marks, which ClaimNotices returns and ForgetNotice deletes.
func (s *Store) MarkNotice(ctx context.Context, n bot.PendingNotice, part string) error {
	keys := []string{s.noticesKey("data"), s.noticesKey("sent")}
	if err := markNoticeScript.Run(ctx, s.client, keys, n.Key, part).Err(); err != nil {
		return fmt.Errorf("store: mark notice %s: %w", n.Key, err)
	}
	return nil
}

// ForgetNotice implements bot.NoticeLog: the record and its marks.
func (s *Store) ForgetNotice(ctx context.Context, n bot.PendingNotice) error {
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, s.noticesKey("due"), n.Key)
		p.HDel(ctx, s.noticesKey("data"), n.Key)
		p.HDel(ctx, s.noticesKey("sent"), n.Key)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: forget notice %s: %w", n.Key, err)
	}
	return nil
}

// ClaimNotices implements bot.NoticeLog with claimNoticesScript: the stale
// records, oldest first, re-scored now in the same step, so two replicas
// claiming at once get disjoint records.
func (s *Store) ClaimNotices(ctx context.Context, before, now time.Time, max int) ([]bot.PendingNotice, error) {
	if max <= 0 {
		return nil, nil
	}
	keys := []string{s.noticesKey("due"), s.noticesKey("data"), s.noticesKey("sent")}
	res, err := claimNoticesScript.Run(ctx, s.client, keys, ms(before), ms(now), strconv.Itoa(max)).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("store: claim notices: %w", err)
	}
	out := make([]bot.PendingNotice, 0, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		var n bot.PendingNotice
		if err := json.Unmarshal([]byte(res[i]), &n); err != nil {
			s.log.ErrorContext(ctx, "store: dropping an unreadable pending notice", "err", err)
			continue
		}
		if res[i+1] != "" {
			n.Reached = strings.Split(res[i+1], "\n")
		}
		out = append(out, n)
	}
	return out, nil
}
