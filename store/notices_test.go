package store

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

func noticeKeys(ns []bot.PendingNotice) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Key)
	}
	return out
}

func TestNoticeLogClaim(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	m := bot.Message{Kind: bot.KindRollback, UpgradeID: "UPG-1", Title: "UPG-1 ledger", Lines: []bot.Text{bot.T("rolled back at ").Time(base)}, Alert: true}
	rec := func(key string, at time.Time) bot.PendingNotice {
		n := bot.PendingNotice{Key: key, At: at, Kind: bot.PendingThread, Upgrade: 1, Message: &m,
			Invoker: &bot.Invoker{User: "test:UALICE", Channel: "test:#ops", Handle: "https://hooks.example/1"}}
		if err := s.RecordNotice(ctx, n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	old := rec("1/a", base)
	rec("1/b", base.Add(time.Second))
	rec("1/young", base.Add(time.Hour))

	// Nothing is claimed before it is stale.
	if got, err := s.ClaimNotices(ctx, base.Add(-time.Millisecond), base.Add(time.Hour), 10); err != nil || len(got) != 0 {
		t.Fatalf("claimed before stale: %v, %v", noticeKeys(got), err)
	}
	now := base.Add(10 * time.Minute)
	got, err := s.ClaimNotices(ctx, base.Add(time.Minute), now, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(noticeKeys(got), []string{"1/a", "1/b"}) {
		t.Fatalf("claimed %v, want the two old ones, oldest first", noticeKeys(got))
	}
	if !reflect.DeepEqual(got[0], old) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got[0], old)
	}
	// Claimed ones are re-scored: a second claimer does not get them again
	// until they are stale relative to the claim.
	if got, _ := s.ClaimNotices(ctx, base.Add(time.Minute), now, 10); len(got) != 0 {
		t.Fatalf("claimed twice: %v", noticeKeys(got))
	}
	if got, _ := s.ClaimNotices(ctx, now, now, 10); !slices.Equal(noticeKeys(got), []string{"1/a", "1/b"}) {
		t.Fatalf("a claim whose claimer died is claimed again: %v", noticeKeys(got))
	}
	// Forgotten records are gone; touched ones are young again.
	if err := s.ForgetNotice(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchNotice(ctx, bot.PendingNotice{Key: "1/b"}, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchNotice(ctx, old, base); err != nil { // forgotten: not resurrected
		t.Fatal(err)
	}
	if got, _ := s.ClaimNotices(ctx, now.Add(time.Minute), now, 10); len(got) != 0 {
		t.Fatalf("claimed a forgotten or touched notice: %v", noticeKeys(got))
	}
	if got, _ := s.ClaimNotices(ctx, now.Add(2*time.Hour), now, 10); !slices.Equal(noticeKeys(got), []string{"1/young", "1/b"}) { // young (+1h) before b, touched to +70m
		t.Fatalf("claimed %v", noticeKeys(got))
	}
}

func TestNoticeLogConcurrentClaimsAreDisjoint(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	const n = 200
	for i := range n {
		k := fmt.Sprintf("%d/%03d", i%7, i)
		if err := s.RecordNotice(ctx, bot.PendingNotice{Key: k, At: base.Add(time.Duration(i) * time.Millisecond), Kind: bot.PendingRoots, Upgrade: i % 7}); err != nil {
			t.Fatal(err)
		}
	}
	other := reopen(t, s.opts) // a second replica, own connections
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	for w := range 4 {
		st := s
		if w%2 == 1 {
			st = other
		}
		wg.Go(func() {
			for {
				got, err := st.ClaimNotices(ctx, base.Add(time.Hour), base.Add(2*time.Hour), 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, g := range got {
					seen[g.Key]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct notices, want %d", len(seen), n)
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("%s claimed %d times", k, c)
		}
	}
}
