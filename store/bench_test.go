package store

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/bot"
)

// BenchmarkList100k measures the common List queries with 100,000 upgrades
// stored, nearly all of them finished history:
//
//	UPGRADEBOT_TEST_REDIS=redis://127.0.0.1:6379/15 go test -run '^$' -bench List100k ./store/
func BenchmarkList100k(b *testing.B) {
	const total, live = 100_000, 20
	s := newTestStoreOpts(b, Options{})
	ctx := context.Background()

	// Seed through pipelines, writing what Create and its index step write:
	// going through Create would take a minute.
	pipe := s.client.Pipeline()
	for id := 1; id <= total; id++ {
		start := t0.Add(-time.Duration(total-id) * time.Hour) // one upgrade an hour, the last ones ahead
		u := testUpgrade(id, "svc"+strconv.Itoa(id%50), start.Add(time.Duration(live)*time.Hour), time.Hour)
		if id <= total-live {
			u.State = bot.Completed
		}
		js, _ := json.Marshal(u)
		pipe.HSet(ctx, s.upgKey(id), "rev", 1, "json", js)
		z := redis.Z{Score: float64(u.Start.UnixMilli()), Member: id}
		pipe.ZAdd(ctx, s.idxKey("start"), z)
		pipe.ZAdd(ctx, s.idxKey("end"), redis.Z{Score: float64(u.End.UnixMilli()), Member: id})
		if u.State.Active() {
			pipe.ZAdd(ctx, s.idxKey("active"), z)
		}
		pipe.HSet(ctx, s.idxKey("rev"), id, 1)
		if id%1000 == 0 {
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	active := []bot.State{bot.Scheduled, bot.InProgress}
	for _, bc := range []struct {
		name string
		f    bot.Filter
		want int
	}{
		{"active", bot.Filter{States: active}, live},
		{"active-window", bot.Filter{States: active, From: t0, To: t0.Add(10 * time.Hour)}, 9},
		{"calendar-2-weeks", bot.Filter{From: t0.Add(-7 * 24 * time.Hour), To: t0.Add(7 * 24 * time.Hour)}, 7*24 + 1 + live + 1}, // starts from -169h to +20h
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				got, err := s.List(ctx, bc.f)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != bc.want {
					b.Fatalf("%d upgrades, want %d", len(got), bc.want)
				}
			}
		})
	}
}

// BenchmarkAckPress is a press as the core records it, each by another
// person, with its decision and its event: one round trip (ackScript). With
// -benchmem, its allocations are this process's (on the embedded
// miniredis, the server's too):
//
//	UPGRADEBOT_TEST_REDIS=redis://127.0.0.1:6379/15 go test -run '^$' -bench AckPress -benchmem ./store/
func BenchmarkAckPress(b *testing.B) {
	s := newTestStoreOpts(b, Options{})
	ctx := context.Background()
	if err := s.Create(ctx, testUpgrade(1, "payments", t0.Add(48*time.Hour), time.Hour), bot.Decision{Action: bot.ActionScheduled}); err != nil {
		b.Fatal(err)
	}
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		n++
		who := "slack:U" + strconv.Itoa(n)
		e := bot.AckEntryWrite{
			Ack:      bot.Ack{Scope: bot.ScopeBrief, Who: who, Via: who, At: t0},
			Decision: bot.Decision{At: t0, Actor: who, Action: bot.ActionAcknowledged, Scope: bot.ScopeBrief, Via: who},
			Event: bot.Event{ID: "ev-" + strconv.Itoa(n), Type: bot.EventAcknowledged, UpgradeID: "UPG-1", Service: "payments", At: t0, Actor: who,
				Data: map[string]any{"scope": bot.ScopeBrief, "via": who}},
		}
		res, err := s.Ack(ctx, 1, bot.AckWrite{Scope: bot.ScopeBrief, Delivery: "slack:trig-" + strconv.Itoa(n), Entries: []bot.AckEntryWrite{e}})
		if err != nil || !res.First[0] {
			b.Fatal(res, err)
		}
	}
}
