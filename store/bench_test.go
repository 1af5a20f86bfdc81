package store

import (
	"context"
	"encoding/json"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
)

// cpuTimes is the CPU this process has used so far: user, system.
func cpuTimes(b *testing.B) [2]time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return [2]time.Duration{time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())}
}

// reportCPU reports the CPU this process used per operation since since
// (all of its goroutines: the client's, the runtime's, background work),
// which ns/op (wall clock, waiting for Redis included) does not tell on a
// shared machine: cpu-ns/op in all, user-ns/op of it outside the kernel
// (the system calls of the round trip are the rest).
func reportCPU(b *testing.B, since [2]time.Duration) {
	now := cpuTimes(b)
	user, sys := now[0]-since[0], now[1]-since[1]
	b.ReportMetric(float64(user+sys)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(user)/float64(b.N), "user-ns/op")
}

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
	cpu := cpuTimes(b)
	defer func() { reportCPU(b, cpu) }()
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

// BenchmarkCorePress is a whole press of an Acknowledge button as the core
// makes it, Bot.Press against this store: the cached head of the upgrade,
// the one write (ackScript), the answer, each by another person with its
// own delivery id; burst-64 is 64 presses at a time, as a burst on the
// Slack endpoint runs them. cpu-ns/op includes the background work of the
// presses (the relay of their events to the shared stream, the root
// refreshes):
//
//	UPGRADEBOT_TEST_REDIS=redis://127.0.0.1:6379/15 go test -run '^$' -bench CorePress -benchmem ./store/
func BenchmarkCorePress(b *testing.B) {
	for _, burst := range []int{1, 64} {
		name := "one-at-a-time"
		if burst > 1 {
			name = "burst-" + strconv.Itoa(burst)
		}
		b.Run(name, func(b *testing.B) { benchmarkCorePress(b, burst) })
	}
}

func benchmarkCorePress(b *testing.B, burst int) {
	s := newTestStoreOpts(b, Options{})
	ctx := context.Background()
	cfg := bot.Config{
		People:   []bot.Person{{Name: "alice", IDs: []string{"slack:U0ALICE"}}},
		Services: []bot.Service{{Name: "payments", Owners: []string{"alice"}, Channels: []string{"slack:C1"}}},
	}
	core := bot.New(bot.Options{Config: cfg, Store: s, Once: s, Messenger: bot.Router{"slack": &bottest.Recorder{}},
		Now: func() time.Time { return t0 }, Recover: -1})
	if err := s.Create(ctx, testUpgrade(1, "payments", t0.Add(48*time.Hour), time.Hour), bot.Decision{Action: bot.ActionScheduled}); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	press := func() {
		i := strconv.FormatInt(n.Add(1), 10)
		m := core.Press(ctx, bot.ButtonPress{Actor: bot.Actor{ID: "slack:U" + i},
			Button: bot.AckButton{UpgradeID: "UPG-1", Scope: bot.ScopeBrief}, Delivery: "trig-" + i})
		if m.Kind == bot.KindError || !strings.Contains(m.Plain(time.UTC), "Thanks") {
			b.Error(m.Plain(time.UTC))
		}
	}
	b.ReportAllocs()
	cpu := cpuTimes(b)
	if burst == 1 {
		for b.Loop() {
			press()
		}
	} else {
		b.SetParallelism((burst + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				press()
			}
		})
	}
	core.Flush()
	reportCPU(b, cpu)
}
