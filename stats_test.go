package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// pastReplica is a bot with serve's configuration on serve's Redis whose
// clock stands where the test puts it: it lives through upgrades weeks
// ago, as serve would have, so that serve finds a history to count.
type pastReplica struct {
	t     *testing.T
	b     *bot.Bot
	clock *bottest.Clock
}

func newPastReplica(t *testing.T, s *statusServe, at time.Time) *pastReplica {
	t.Helper()
	c, _, err := loadConfig(s.config, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := botConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	r := &pastReplica{t: t, clock: bottest.NewClock(at)}
	r.b = bot.New(bot.Options{Config: cfg, Store: storetest.Open(t, s.redis), Messenger: bot.Router{"slack": &bottest.Recorder{}}, Now: r.clock.Now, Recover: -1})
	t.Cleanup(r.b.Flush)
	return r
}

func (r *pastReplica) do(user, text string) {
	r.t.Helper()
	m := r.b.Handle(context.Background(), bot.Invocation{Actor: bot.Actor{ID: "slack:" + user}, Channel: "slack:C0OPS"}, text)
	if m.Kind == bot.KindError {
		r.t.Fatalf("%s: %s: %s", user, text, m.Plain(time.UTC))
	}
	r.b.Flush()
}

func (r *pastReplica) press(user, id, scope string) {
	r.t.Helper()
	m := r.b.Press(context.Background(), bot.ButtonPress{Actor: bot.Actor{ID: "slack:" + user}, Button: bot.AckButton{UpgradeID: id, Scope: scope}})
	if !strings.Contains(m.Plain(time.UTC), "Thanks") {
		r.t.Fatalf("%s presses %s %s: %s", user, id, scope, m.Plain(time.UTC))
	}
}

// at sets the replica's clock to its start plus d.
func (r *pastReplica) at(start time.Time, d time.Duration) { r.clock.Set(start.Add(d)) }

type statsT struct {
	Service *string
	Periods []struct {
		Days     int
		Upgrades struct {
			Total, Completed, Cancelled int
			RolledBack                  int `json:"rolled_back"`
		}
		RollbackRate *float64 `json:"rollback_rate"`
		TimeToAck    struct {
			Brief, Rollback struct {
				Acknowledgments int
				Median          *float64 `json:"median_seconds"`
				P90             *float64 `json:"p90_seconds"`
			}
		} `json:"time_to_ack"`
		AckBeforeWindow struct {
			Rate                *float64
			Acknowledged, Asked int
		} `json:"ack_before_window"`
		Overrun struct {
			Median            *float64 `json:"median_seconds"`
			Finished, Overran int
		}
	}
}

// num is a JSON number or null, for messages.
func num(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func TestStatsAPIOnARunningServe(t *testing.T) {
	s := startStatusServe(t, true)
	now := time.Now().UTC().Truncate(time.Minute)
	// 40 days ago: UPG-1 payments (audience alice, bob) completed 30 min
	// late, bob acknowledged after 30m, alice never; UPG-2 ledger (bob,
	// alice) acknowledged after 1h and 2h, rolled back in its window, its
	// alert acknowledged after 10m.
	old := now.Add(-40 * 24 * time.Hour)
	r := newPastReplica(t, s, old)
	r.do("U0ALICE", "schedule payments v1 in 2h for 1h")
	r.do("U0BOB", "schedule ledger v9 in 1d for 1h")
	r.at(old, 30*time.Minute)
	r.press("U0BOB", "UPG-1", bot.ScopeBrief)
	r.at(old, time.Hour)
	r.press("U0ALICE", "UPG-2", bot.ScopeBrief)
	r.at(old, 2*time.Hour)
	r.press("U0BOB", "UPG-2", bot.ScopeBrief)
	r.do("U0ALICE", "start UPG-1")
	r.at(old, 3*time.Hour+30*time.Minute)
	r.do("U0ALICE", "complete UPG-1")
	r.at(old, 24*time.Hour+10*time.Minute)
	r.do("U0BOB", "start UPG-2")
	r.at(old, 24*time.Hour+40*time.Minute)
	r.do("U0BOB", "rollback UPG-2 ledger errors")
	r.at(old, 24*time.Hour+50*time.Minute)
	r.press("U0ALICE", "UPG-2", bot.ScopeRollback)
	// 10 days ago: UPG-3 payments, acknowledged by bob after 6m, cancelled.
	recent := now.Add(-10 * 24 * time.Hour)
	r.at(recent, 0)
	r.do("U0ALICE", "schedule payments v2 in 1h for 1h")
	r.at(recent, 6*time.Minute)
	r.press("U0BOB", "UPG-3", bot.ScopeBrief)
	r.at(recent, 30*time.Minute)
	r.do("U0ALICE", "cancel UPG-3 not needed")

	// A bearer token is required.
	for _, tok := range []string{"", "wrong"} {
		code, _, body := s.get("/api/v1/stats", tok)
		if e := decodeJSON[apiErr](t, body); code != http.StatusUnauthorized || e.Code != "unauthorized" {
			t.Fatalf("token %q: %d %s", tok, code, body)
		}
	}
	get := func(query string) statsT {
		t.Helper()
		code, _, body := s.get("/api/v1/stats"+query, statusToken)
		st := decodeJSON[statsT](t, body)
		if code != http.StatusOK || len(st.Periods) != 2 || st.Periods[0].Days != 30 || st.Periods[1].Days != 90 {
			t.Fatalf("stats%s: %d %s", query, code, body)
		}
		return st
	}
	is := func(what string, got *float64, want float64) {
		t.Helper()
		if got == nil || *got != want {
			t.Errorf("%s = %v, want %v", what, num(got), want)
		}
	}
	null := func(what string, got *float64) {
		t.Helper()
		if got != nil {
			t.Errorf("%s = %v, want null", what, *got)
		}
	}

	all := get("")
	if all.Service != nil {
		t.Errorf("service = %q, want null", *all.Service)
	}
	// The last 30 days hold only UPG-3, cancelled: a pre-brief acknowledged
	// after 6m; nothing finished, nobody owed an acknowledgment before a
	// window that never ran.
	p := all.Periods[0]
	if p.Upgrades.Total != 1 || p.Upgrades.Cancelled != 1 || p.TimeToAck.Brief.Acknowledgments != 1 || p.AckBeforeWindow.Asked != 0 || p.Overrun.Finished != 0 {
		t.Errorf("30 days: %+v", p)
	}
	null("30 days rollback_rate", p.RollbackRate)
	is("30 days brief median", p.TimeToAck.Brief.Median, 360)
	is("30 days brief p90", p.TimeToAck.Brief.P90, 360)
	null("30 days rollback median", p.TimeToAck.Rollback.Median)
	null("30 days ack_before_window rate", p.AckBeforeWindow.Rate)
	null("30 days overrun median", p.Overrun.Median)
	// The last 90 days: all three. Pre-brief 6m 30m 1h 2h: median 45m, p90
	// (rank 4) 2h; rollback 10m; before the window: bob of UPG-1, both of
	// UPG-2: 3 of 4; overrun 30m and 0: median 15m.
	p = all.Periods[1]
	if p.Upgrades.Total != 3 || p.Upgrades.Completed != 1 || p.Upgrades.RolledBack != 1 || p.Upgrades.Cancelled != 1 ||
		p.TimeToAck.Brief.Acknowledgments != 4 || p.TimeToAck.Rollback.Acknowledgments != 1 ||
		p.AckBeforeWindow.Acknowledged != 3 || p.AckBeforeWindow.Asked != 4 || p.Overrun.Finished != 2 || p.Overrun.Overran != 1 {
		t.Errorf("90 days: %+v", p)
	}
	is("90 days rollback_rate", p.RollbackRate, 0.5)
	is("90 days brief median", p.TimeToAck.Brief.Median, 2700)
	is("90 days brief p90", p.TimeToAck.Brief.P90, 7200)
	is("90 days rollback median", p.TimeToAck.Rollback.Median, 600)
	is("90 days ack_before_window rate", p.AckBeforeWindow.Rate, 0.75)
	is("90 days overrun median", p.Overrun.Median, 900)

	// One service, named in any case: payments is UPG-1 and UPG-3.
	pay := get("?service=PAYMENTS")
	if pay.Service == nil || *pay.Service != "payments" {
		t.Errorf("service = %v, want payments", pay.Service)
	}
	p = pay.Periods[1]
	if p.Upgrades.Total != 2 || p.Upgrades.Completed != 1 || p.Upgrades.Cancelled != 1 || p.TimeToAck.Rollback.Acknowledgments != 0 {
		t.Errorf("payments, 90 days: %+v", p)
	}
	is("payments rollback_rate", p.RollbackRate, 0)
	is("payments brief median", p.TimeToAck.Brief.Median, 1080) // 6m and 30m
	is("payments brief p90", p.TimeToAck.Brief.P90, 1800)
	null("payments rollback median", p.TimeToAck.Rollback.Median)
	is("payments ack_before_window rate", p.AckBeforeWindow.Rate, 0.5)
	is("payments overrun median", p.Overrun.Median, 1800)
	if led := get("?service=ledger").Periods[1]; led.Upgrades.Total != 1 || led.Upgrades.RolledBack != 1 {
		t.Errorf("ledger, 90 days: %+v", led)
	}
	code, _, body := s.get("/api/v1/stats?service=nope", statusToken)
	if e := decodeJSON[apiErr](t, body); code != http.StatusBadRequest || e.Code != "bad_parameter" || !strings.HasPrefix(e.Message, "service:") || !strings.Contains(e.Message, "checkout, ledger, payments") {
		t.Errorf("?service=nope: %d %s", code, body)
	}

	// The chat says the same.
	txt := s.slash("U0BOB", "stats payments")
	for _, want := range []string{"Upgrade statistics of payments", "1 upgrade: 1 cancelled.", "2 upgrades: 1 completed, 1 cancelled.",
		"Rollback rate: 0% (0 of 1 finished)", "Time to acknowledge the pre-brief: median 18m, p90 30m (2 acknowledgments)",
		"Acknowledged before the window opened: 50% (1 of 2 asked)", "Overrun: median 30m; 1 of 1 finished upgrade ran past the planned end"} {
		if !strings.Contains(txt, want) {
			t.Errorf("/upgrade stats payments lacks %q:\n%s", want, txt)
		}
	}
	if txt := s.slash("U0BOB", "stats nope"); !strings.Contains(txt, `Unknown service "nope". Known services: checkout, ledger, payments.`) {
		t.Errorf("/upgrade stats nope: %s", txt)
	}
}
