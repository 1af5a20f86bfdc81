package bottest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// press is an AckWrite of acks, each with its decision and event.
func press(scope, delivery string, acks ...bot.Ack) bot.AckWrite {
	w := bot.AckWrite{Scope: scope, Delivery: delivery}
	for i, a := range acks {
		actor := a.Who
		if a.By != "" {
			actor = a.By
		}
		w.Entries = append(w.Entries, bot.AckEntryWrite{
			Ack:      a,
			Decision: bot.Decision{At: a.At, Actor: actor, Action: bot.ActionAcknowledged, Scope: a.Scope, Via: a.Via, For: map[bool]string{true: a.Who}[a.By != ""]},
			Event:    bot.Event{ID: fmt.Sprintf("%s-%s-%d", delivery, a.Who, i), Type: bot.EventAcknowledged, UpgradeID: "UPG-1", At: a.At, Actor: actor},
		})
	}
	return w
}

// EventReader reads the shared event stream back; stores that have one get
// the event part of the contract checked.
type EventReader interface {
	EventsAfter(ctx context.Context, after string, max int) ([]bot.StreamEvent, error)
}

// StoreContract checks that a bot.Store behaves as the core relies on. Run
// it against every implementation (the Redis store on a real server and
// embedded, and MemStore), so a test double cannot drift from the real
// thing. open returns an empty store of its own for each call. When the
// store is also a bot.NoticeLog, that contract is checked too, and so are
// those of bot.FreezeStore and bot.SeriesStore.
func StoreContract(t *testing.T, open func(t *testing.T) bot.Store) {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	ctx := context.Background()
	upgrade := func(id int, service string, start time.Time, state bot.State) *bot.Upgrade {
		return &bot.Upgrade{ID: id, Service: service, Version: "v" + fmt.Sprint(id), Start: start, End: start.Add(2 * time.Hour),
			State: state, Owners: []string{"alice"}, Audience: []string{"alice", "bob"}, CreatedBy: "alice",
			Channels: []string{"test:#" + service}, CreatedAt: t0, UpdatedAt: t0}
	}
	create := func(t *testing.T, st bot.Store, u *bot.Upgrade) {
		t.Helper()
		if err := st.Create(ctx, u, bot.Decision{At: t0, Actor: u.CreatedBy, Action: bot.ActionScheduled, Start: u.Start, End: u.End}); err != nil {
			t.Fatalf("create %d: %v", u.ID, err)
		}
	}

	t.Run("ids are new and increasing", func(t *testing.T) {
		st := open(t)
		last := 0
		for range 3 {
			id, err := st.NextID(ctx)
			if err != nil || id <= last {
				t.Fatalf("NextID = %d, %v after %d", id, err, last)
			}
			last = id
		}
	})

	t.Run("create, get, and a second create of the same id", func(t *testing.T) {
		st := open(t)
		u := upgrade(1, "payments", t0.Add(48*time.Hour), bot.Scheduled)
		u.Release = &bot.Release{Repo: "acme/payments", Tag: "v1", URL: "https://example.com/r"}
		u.Threads = []bot.MessageRef{{Channel: "test:#payments", ID: "m1"}}
		create(t, st, u)
		got, err := st.Get(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got.Rev != 1 || got.Service != "payments" || !got.Start.Equal(u.Start) || !got.End.Equal(u.End) ||
			got.State != bot.Scheduled || got.Release == nil || got.Release.Tag != "v1" || len(got.Threads) != 1 || !slices.Equal(got.Audience, u.Audience) {
			t.Fatalf("got back %+v, stored %+v", got, u)
		}
		got.Audience[0] = "mallory"
		if again, _ := st.Get(ctx, 1); again.Audience[0] != "alice" {
			t.Fatal("changing a loaded upgrade changed the stored one")
		}
		if err := st.Create(ctx, upgrade(1, "payments", t0, bot.Scheduled), bot.Decision{}); !errors.Is(err, bot.ErrConflict) {
			t.Fatalf("second create of id 1 = %v, want ErrConflict", err)
		}
	})

	t.Run("a missing upgrade is ErrNotFound", func(t *testing.T) {
		st := open(t)
		if _, err := st.Get(ctx, 42); !errors.Is(err, bot.ErrNotFound) || bot.ErrorCode(err) != bot.ENOTFOUND {
			t.Fatalf("Get(42) = %v, want ErrNotFound", err)
		}
		if _, err := st.Ack(ctx, 42, press(bot.ScopeBrief, "", bot.Ack{Scope: bot.ScopeBrief, Who: "bob", At: t0})); !errors.Is(err, bot.ErrNotFound) {
			t.Fatalf("Ack on 42 = %v, want ErrNotFound", err)
		}
	})

	t.Run("update is compare-and-set and logs its decision", func(t *testing.T) {
		st := open(t)
		create(t, st, upgrade(1, "payments", t0.Add(48*time.Hour), bot.Scheduled))
		u, _ := st.Get(ctx, 1)
		u.Rev++
		u.State, u.StartedAt = bot.InProgress, t0.Add(time.Minute)
		if err := st.Update(ctx, u, bot.Decision{At: t0.Add(time.Minute), Actor: "alice", Action: bot.ActionStarted}); err != nil {
			t.Fatal(err)
		}
		stale := u.Clone() // Rev as just saved: a writer that did not reload
		stale.State = bot.Cancelled
		if err := st.Update(ctx, stale, bot.Decision{Action: bot.ActionCancelled}); !errors.Is(err, bot.ErrConflict) {
			t.Fatalf("stale update = %v, want ErrConflict", err)
		}
		u.Rev++
		u.Threads = append(u.Threads, bot.MessageRef{Channel: "test:#payments", ID: "m9"})
		if err := st.Update(ctx, u, bot.Decision{}); err != nil { // no action: nothing logged
			t.Fatal(err)
		}
		got, _ := st.Get(ctx, 1)
		if got.Rev != 3 || got.State != bot.InProgress || !got.StartedAt.Equal(t0.Add(time.Minute)) || len(got.Threads) != 1 {
			t.Fatalf("after updates: %+v", got)
		}
		log, err := st.Log(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 2 || log[0].Action != bot.ActionScheduled || log[1].Action != bot.ActionStarted {
			t.Fatalf("log = %+v, want scheduled, started", log)
		}
		if !log[0].Start.Equal(t0.Add(48*time.Hour)) || !log[0].End.Equal(t0.Add(50*time.Hour)) {
			t.Fatalf("the log lost the structured window: %+v", log[0])
		}
	})

	t.Run("decisions keep their structured fields", func(t *testing.T) {
		st := open(t)
		create(t, st, upgrade(1, "payments", t0.Add(48*time.Hour), bot.Scheduled))
		u, _ := st.Get(ctx, 1)
		u.Rev++
		d := bot.Decision{At: t0, Actor: "alice", Action: bot.ActionRescheduled, Reason: "freeze",
			Start: t0.Add(72 * time.Hour), End: t0.Add(74 * time.Hour), PrevStart: t0.Add(48 * time.Hour), PrevEnd: t0.Add(50 * time.Hour), By: 30 * time.Minute}
		if err := st.Update(ctx, u, d); err != nil {
			t.Fatal(err)
		}
		log, _ := st.Log(ctx, 1)
		got := log[len(log)-1]
		if got.Action != d.Action || got.Reason != d.Reason || !got.Start.Equal(d.Start) || !got.End.Equal(d.End) ||
			!got.PrevStart.Equal(d.PrevStart) || !got.PrevEnd.Equal(d.PrevEnd) || got.By != d.By {
			t.Fatalf("decision came back as %+v, stored %+v", got, d)
		}
	})

	t.Run("list filters and orders by start", func(t *testing.T) {
		st := open(t)
		create(t, st, upgrade(1, "payments", t0.Add(72*time.Hour), bot.Scheduled))
		create(t, st, upgrade(2, "ledger", t0.Add(24*time.Hour), bot.Scheduled))
		create(t, st, upgrade(3, "payments", t0.Add(48*time.Hour), bot.Scheduled))
		done := upgrade(4, "payments", t0.Add(-48*time.Hour), bot.Scheduled)
		create(t, st, done)
		u, _ := st.Get(ctx, 4)
		u.Rev++
		u.State = bot.Completed
		if err := st.Update(ctx, u, bot.Decision{Action: bot.ActionCompleted, At: t0, Actor: "alice"}); err != nil {
			t.Fatal(err)
		}
		ids := func(f bot.Filter) []int {
			us, err := st.List(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []int
			for _, u := range us {
				out = append(out, u.ID)
			}
			return out
		}
		for _, c := range []struct {
			name string
			f    bot.Filter
			want []int
		}{
			{"all", bot.Filter{}, []int{4, 2, 3, 1}},
			{"service", bot.Filter{Service: "payments"}, []int{4, 3, 1}},
			{"active", bot.Filter{States: []bot.State{bot.Scheduled, bot.InProgress}}, []int{2, 3, 1}},
			{"finished", bot.Filter{States: []bot.State{bot.Completed}}, []int{4}},
			{"windows ending after", bot.Filter{From: t0}, []int{2, 3, 1}},
			{"windows starting before", bot.Filter{To: t0.Add(49 * time.Hour)}, []int{4, 2, 3}},
			{"a range", bot.Filter{From: t0.Add(25 * time.Hour), To: t0.Add(60 * time.Hour), Service: "payments"}, []int{3}},
		} {
			if got := ids(c.f); !slices.Equal(got, c.want) {
				t.Errorf("%s: List = %v, want %v", c.name, got, c.want)
			}
		}
	})

	t.Run("list with AnyActive keeps active upgrades outside the window", func(t *testing.T) {
		st := open(t)
		day := 24 * time.Hour
		create(t, st, upgrade(1, "payments", t0.Add(-40*day), bot.Scheduled)) // overdue
		create(t, st, upgrade(2, "payments", t0.Add(-2*day), bot.Scheduled))
		create(t, st, upgrade(3, "payments", t0.Add(-40*day), bot.Scheduled))
		create(t, st, upgrade(4, "payments", t0.Add(day), bot.Scheduled))
		create(t, st, upgrade(5, "ledger", t0.Add(-40*day), bot.Scheduled)) // overdue, elsewhere
		for _, id := range []int{2, 3} {
			u, _ := st.Get(ctx, id)
			u.Rev++
			u.State = bot.Completed
			if err := st.Update(ctx, u, bot.Decision{Action: bot.ActionCompleted, At: t0, Actor: "alice"}); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			name string
			f    bot.Filter
			want []int
		}{
			{"from", bot.Filter{Service: "payments", From: t0.Add(-30 * day), AnyActive: true}, []int{1, 2, 4}},
			{"from and to", bot.Filter{Service: "payments", From: t0.Add(-30 * day), To: t0, AnyActive: true}, []int{1, 2, 4}},
			{"active states", bot.Filter{States: []bot.State{bot.Scheduled}, From: t0, To: t0.Add(time.Hour), AnyActive: true}, []int{1, 5, 4}},
			{"without AnyActive", bot.Filter{Service: "payments", From: t0.Add(-30 * day)}, []int{2, 4}},
		} {
			us, err := st.List(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, u := range us {
				got = append(got, u.ID)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s: List = %v, want %v", c.name, got, c.want)
			}
		}
	})

	t.Run("the first acknowledgment stands, with its decision", func(t *testing.T) {
		st := open(t)
		create(t, st, upgrade(1, "payments", t0.Add(48*time.Hour), bot.Scheduled))
		first := bot.Ack{Scope: bot.ScopeBrief, Who: "bob", Via: "test:UBOB", At: t0.Add(time.Minute)}
		res, err := st.Ack(ctx, 1, press(bot.ScopeBrief, "d1", first))
		if err != nil || res.Duplicate || res.Refused || !res.First[0] || !res.Standing[0].At.Equal(first.At) {
			t.Fatalf("first ack = %+v, %v", res, err)
		}
		again := first
		again.At, again.Via = t0.Add(time.Hour), "other:1001"
		res, err = st.Ack(ctx, 1, press(bot.ScopeBrief, "d2", again))
		if err != nil || res.First[0] || !res.Standing[0].At.Equal(first.At) || res.Standing[0].Via != "test:UBOB" {
			t.Fatalf("second ack = %+v, %v; want the first to stand", res, err)
		}
		// Another scope needs the state that asks for it; another person
		// acknowledges on her own.
		if res, _ := st.Ack(ctx, 1, press(bot.ScopeRollback, "", bot.Ack{Scope: bot.ScopeRollback, Who: "bob", At: t0})); !res.Refused || res.State != bot.Scheduled {
			t.Fatalf("a rollback ack of a scheduled upgrade = %+v; want refused, scheduled", res)
		}
		// A group acknowledged by a member, with the member's own ack, in one press.
		group := bot.Ack{Scope: bot.ScopeBrief, Who: "test:SOPS", Via: "test:UEVE", By: "eve", At: t0.Add(30 * time.Second)}
		eve := bot.Ack{Scope: bot.ScopeBrief, Who: "eve", Via: "test:UEVE", At: t0.Add(30 * time.Second)}
		res, err = st.Ack(ctx, 1, press(bot.ScopeBrief, "d3", eve, group))
		if err != nil || len(res.First) != 2 || !res.First[0] || !res.First[1] {
			t.Fatalf("a press for herself and her group = %+v, %v", res, err)
		}
		acks, err := st.Acks(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, a := range acks {
			order = append(order, a.Scope+"/"+a.Who)
		}
		if want := []string{"brief/eve", "brief/test:SOPS", "brief/bob"}; !slices.Equal(order, want) {
			t.Fatalf("acks = %v, want oldest first %v", order, want)
		}
		if acks[1].By != "eve" || acks[1].Via != "test:UEVE" {
			t.Fatalf("the group's ack lost who pressed: %+v", acks[1])
		}
		log, _ := st.Log(ctx, 1)
		var acked []bot.Decision
		for _, d := range log {
			if d.Action == bot.ActionAcknowledged {
				acked = append(acked, d)
			}
		}
		if len(acked) != 3 || acked[0].Scope != bot.ScopeBrief || acked[0].Via != "test:UBOB" || acked[2].For != "test:SOPS" {
			t.Fatalf("acknowledged decisions = %+v; want one per first ack, as composed", acked)
		}
	})

	t.Run("a press sent again changes nothing", func(t *testing.T) {
		st := open(t)
		create(t, st, upgrade(1, "payments", t0.Add(48*time.Hour), bot.Scheduled))
		if res, err := st.Ack(ctx, 1, press(bot.ScopeBrief, "trigger-1", bot.Ack{Scope: bot.ScopeBrief, Who: "bob", At: t0})); err != nil || !res.First[0] {
			t.Fatalf("first = %+v, %v", res, err)
		}
		res, err := st.Ack(ctx, 1, press(bot.ScopeBrief, "trigger-1", bot.Ack{Scope: bot.ScopeBrief, Who: "carol", At: t0}))
		if err != nil || !res.Duplicate {
			t.Fatalf("re-sent press = %+v, %v; want a duplicate", res, err)
		}
		if acks, _ := st.Acks(ctx, 1); len(acks) != 1 {
			t.Fatalf("a re-sent press recorded %d acks", len(acks)-1)
		}
	})

	t.Run("acknowledgments follow the state", func(t *testing.T) {
		st := open(t)
		create(t, st, upgrade(1, "payments", t0.Add(48*time.Hour), bot.Scheduled))
		u, _ := st.Get(ctx, 1)
		u.Rev++
		u.State = bot.RolledBack
		if err := st.Update(ctx, u, bot.Decision{At: t0, Actor: "alice", Action: bot.ActionRolledBack}); err != nil {
			t.Fatal(err)
		}
		if res, _ := st.Ack(ctx, 1, press(bot.ScopeBrief, "", bot.Ack{Scope: bot.ScopeBrief, Who: "bob", At: t0})); !res.Refused || res.State != bot.RolledBack {
			t.Fatalf("a brief ack after the rollback = %+v; want refused, rolled_back", res)
		}
		if res, err := st.Ack(ctx, 1, press(bot.ScopeRollback, "", bot.Ack{Scope: bot.ScopeRollback, Who: "bob", At: t0})); err != nil || !res.First[0] {
			t.Fatalf("the rollback ack = %+v, %v", res, err)
		}
	})

	t.Run("versions follow changes and acknowledgments", func(t *testing.T) {
		st := open(t)
		vs, ok := st.(bot.Versions)
		if !ok {
			t.Skip("not a Versions")
		}
		if _, _, err := vs.Version(ctx, 1); !errors.Is(err, bot.ErrNotFound) {
			t.Fatalf("Version of a missing upgrade = %v", err)
		}
		create(t, st, upgrade(1, "payments", t0.Add(48*time.Hour), bot.Scheduled))
		version := func() string {
			rev, acks, err := vs.Version(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("%d/%d", rev, acks)
		}
		if v := version(); v != "1/0" {
			t.Fatalf("new upgrade: %s", v)
		}
		_, _ = st.Ack(ctx, 1, press(bot.ScopeBrief, "", bot.Ack{Scope: bot.ScopeBrief, Who: "bob", At: t0}))
		if v := version(); v != "1/1" {
			t.Fatalf("after an ack: %s", v)
		}
		u, _ := st.Get(ctx, 1)
		u.Rev++
		_ = st.Update(ctx, u, bot.Decision{})
		if v := version(); v != "2/1" {
			t.Fatalf("after an update: %s", v)
		}
	})

	t.Run("every change has its event, each once, in order", func(t *testing.T) {
		st := open(t)
		rd, ok := st.(EventReader)
		if !ok {
			t.Skip("events cannot be read back")
		}
		ev := func(id, typ string) *bot.Event {
			return &bot.Event{ID: id, Type: typ, UpgradeID: "UPG-1", Service: "payments", At: t0, Actor: "alice"}
		}
		u := upgrade(1, "payments", t0.Add(time.Hour), bot.Scheduled)
		if err := st.Create(ctx, u, bot.Decision{At: t0, Actor: "alice", Action: bot.ActionScheduled, Event: ev("e1", bot.EventScheduled)}); err != nil {
			t.Fatal(err)
		}
		u.Rev, u.State = 2, bot.InProgress
		if err := st.Update(ctx, u, bot.Decision{At: t0, Actor: "alice", Action: bot.ActionStarted, Event: ev("e2", bot.EventStarted),
			More: []*bot.Event{ev("e2b", bot.EventReadiness)}}); err != nil { // one change, two events
			t.Fatal(err)
		}
		stale := u.Clone() // a lost race writes neither the change nor its event
		if err := st.Update(ctx, stale, bot.Decision{At: t0, Actor: "bob", Action: bot.ActionCancelled, Event: ev("lost", bot.EventCancelled)}); !errors.Is(err, bot.ErrConflict) {
			t.Fatalf("stale update: %v", err)
		}
		u.Rev = 3 // a change with no event of its own (threads saved)
		if err := st.Update(ctx, u, bot.Decision{}); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the same reminder published twice (a replica died after the first)
			if err := st.Publish(ctx, 1, *ev("e3", bot.EventReminder)); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.Publish(ctx, 99, bot.Event{ID: "gone", Type: bot.EventOverrun, UpgradeID: "UPG-99"}); err != nil {
			t.Fatalf("publishing an event of an upgrade that expired: %v", err)
		}
		if _, err := st.Ack(ctx, 1, press(bot.ScopeBrief, "d1", bot.Ack{Scope: bot.ScopeBrief, Who: "bob", At: t0})); err != nil {
			t.Fatal(err)
		}
		if ob, ok := st.(bot.EventOutbox); ok {
			for range 2 { // relaying again, or from two replicas, adds nothing twice
				if _, err := ob.RelayEvents(ctx, 1); err != nil {
					t.Fatal(err)
				}
			}
		}
		all, err := rd.EventsAfter(ctx, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		var ofOne, ids []string
		for _, e := range all {
			ids = append(ids, e.Event.ID)
			if e.Event.UpgradeID == "UPG-1" {
				ofOne = append(ofOne, e.Event.ID)
			}
			if e.Pos == "" || len(e.JSON) == 0 {
				t.Fatalf("event without position or JSON: %+v", e)
			}
			// Every event has its data, {} when it was given none.
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(e.JSON, &fields); err != nil || len(fields["data"]) == 0 || fields["data"][0] != '{' {
				t.Errorf("event %s: data %s, want an object (%v): %s", e.Event.ID, fields["data"], err, e.JSON)
			}
		}
		if want := []string{"e1", "e2", "e2b", "e3", "d1-bob-0"}; !slices.Equal(ofOne, want) {
			t.Fatalf("events of UPG-1 = %v, want %v (all: %v)", ofOne, want, ids)
		}
		if !slices.Contains(ids, "gone") || len(ids) != 6 {
			t.Fatalf("events = %v, want the five of UPG-1 and the one of the expired upgrade, once each", ids)
		}
		rest, err := rd.EventsAfter(ctx, all[1].Pos, 100)
		if err != nil || len(rest) != len(all)-2 || rest[0].Pos != all[2].Pos {
			t.Fatalf("events after the second = %d events, %v; want %d from the third", len(rest), err, len(all)-2)
		}
	})

	t.Run("notice log", func(t *testing.T) {
		nl, ok := open(t).(bot.NoticeLog)
		if !ok {
			t.Skip("not a NoticeLog")
		}
		n1 := bot.PendingNotice{Key: "1/a", At: t0, Seq: 1, Kind: bot.PendingThread, Upgrade: 1,
			Message: &bot.Message{Kind: bot.KindStarted, Lines: []bot.Text{bot.T("hello")}}, Invoker: &bot.Invoker{User: "test:UALICE", Channel: "test:#ops", Handle: "h"}}
		n2 := bot.PendingNotice{Key: "2/b", At: t0.Add(time.Second), Seq: 2, Kind: bot.PendingRoots, Upgrade: 2}
		for _, n := range []bot.PendingNotice{n2, n1} {
			if err := nl.RecordNotice(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := nl.ClaimNotices(ctx, t0.Add(-time.Second), t0.Add(time.Minute), 10); len(got) != 0 {
			t.Fatalf("claimed notices younger than the cut: %+v", got)
		}
		if err := nl.MarkNotice(ctx, n1, "test:#a m1"); err != nil {
			t.Fatal(err)
		}
		if err := nl.TouchNotice(ctx, n2, t0.Add(10*time.Minute)); err != nil { // its task started
			t.Fatal(err)
		}
		got, err := nl.ClaimNotices(ctx, t0.Add(time.Minute), t0.Add(2*time.Minute), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Key != "1/a" || got[0].Message == nil || got[0].Message.Lines[0][0].Text != "hello" ||
			got[0].Invoker == nil || got[0].Invoker.Handle != "h" || !slices.Equal(got[0].Reached, []string{"test:#a m1"}) {
			t.Fatalf("claimed %+v; want n1 with its message, invoker and mark", got)
		}
		if again, _ := nl.ClaimNotices(ctx, t0.Add(time.Minute), t0.Add(3*time.Minute), 10); len(again) != 0 {
			t.Fatalf("a claimed notice was claimed again before it went stale: %+v", again)
		}
		if err := nl.ForgetNotice(ctx, n1); err != nil {
			t.Fatal(err)
		}
		if err := nl.MarkNotice(ctx, n1, "test:#b m2"); err != nil { // too late: no record
			t.Fatal(err)
		}
		if rest, _ := nl.ClaimNotices(ctx, t0.Add(time.Hour), t0.Add(time.Hour), 10); len(rest) != 1 || rest[0].Key != "2/b" || len(rest[0].Reached) != 0 {
			t.Fatalf("after forgetting n1: %+v, want n2 only", rest)
		}
	})

	windowsContract(t, open) // freezes and series, when the store keeps them
}
