package store

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// encodeEntry is what Ack stores of an entry: its ack, decision and event
// JSON, or the error encoding/json gives.
func encodeEntry(e bot.AckEntryWrite) (ack, dec, ev []byte, err error) {
	j := jsonw{ok: true}
	j.ack(&e.Ack)
	if err := j.fallback(0, e.Ack); err != nil {
		return nil, nil, nil, err
	}
	ack, j.b = j.b, nil
	j.decision(&e.Decision)
	if err := j.fallback(0, e.Decision); err != nil {
		return nil, nil, nil, err
	}
	dec, j.b = j.b, nil
	j.event(&e.Event)
	if err := j.fallback(0, e.Event); err != nil {
		return nil, nil, nil, err
	}
	return ack, dec, j.b, nil
}

// sameAsEncodingJSON fails unless e is stored byte for byte as
// encoding/json writes it (or both fail).
func sameAsEncodingJSON(t *testing.T, e bot.AckEntryWrite) {
	t.Helper()
	ack, dec, ev, err := encodeEntry(e)
	wantAck, errA := json.Marshal(e.Ack)
	wantDec, errD := json.Marshal(e.Decision)
	ev0 := e.Event
	if ev0.Data == nil { // written as {} (encodeEvent)
		ev0.Data = map[string]any{}
	}
	wantEv, errE := json.Marshal(ev0)
	if werr := errAny(errA, errD, errE); werr != nil || err != nil {
		if (werr == nil) != (err == nil) {
			t.Fatalf("encoding %+v: error %v, encoding/json's %v", e, err, werr)
		}
		return
	}
	for _, c := range []struct {
		name      string
		got, want []byte
	}{{"ack", ack, wantAck}, {"decision", dec, wantDec}, {"event", ev, wantEv}} {
		if !bytes.Equal(c.got, c.want) {
			t.Fatalf("%s JSON\n got %s\nwant %s", c.name, c.got, c.want)
		}
	}
}

func errAny(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// pressEntry is an entry as the core writes one, for who pressing via.
func pressEntry(who, via, by string, at time.Time) bot.AckEntryWrite {
	e := bot.AckEntryWrite{
		Ack:      bot.Ack{Scope: bot.ScopeBrief, Who: who, Via: via, By: by, At: at},
		Decision: bot.Decision{At: at, Actor: who, Action: bot.ActionAcknowledged, Scope: bot.ScopeBrief, Via: via},
		Event: bot.Event{ID: "0123456789abcdef01234567", Type: bot.EventAcknowledged, UpgradeID: "UPG-12", Service: "payments", At: at,
			Actor: who, RequestID: "req_0123456789abcdef", Data: map[string]any{"scope": bot.ScopeBrief, "via": via}},
	}
	if by != "" {
		e.Decision.Actor, e.Decision.For, e.Event.Actor, e.Event.Data["for"] = by, who, by, who
	}
	return e
}

// What a press stores is what encoding/json wrote before: the same bytes,
// for every form of an acknowledgment and every string.
func TestAckJSONIsEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 30, 9, 15, 42, 123456789, time.UTC)
	berlin := time.FixedZone("CET", 3600)
	cases := map[string]bot.AckEntryWrite{
		"own":            pressEntry("bob", "slack:U0BOB", "", at),
		"for a group":    pressEntry("slack:S0OPS", "slack:U0BOB", "bob", at),
		"whole second":   pressEntry("bob", "slack:U0BOB", "", at.Truncate(time.Second)),
		"zone":           pressEntry("bob", "slack:U0BOB", "", at.In(berlin)),
		"zero time":      pressEntry("bob", "slack:U0BOB", "", time.Time{}),
		"year 10000":     pressEntry("bob", "slack:U0BOB", "", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)),
		"quote":          pressEntry(`bo"b`, "slack:U0BOB", "", at),
		"html":           pressEntry("<b>&", "slack:U0BOB", "", at),
		"unicode":        pressEntry("zoë", "discord:1234", "", at),
		"control":        pressEntry("bob\n\t\x00", "slack:U0BOB", "", at),
		"invalid utf-8":  pressEntry("bob\xff", "slack:U0BOB", "", at),
		"line separator": pressEntry("bob\u2028", "slack:U0BOB", "", at),
		"backslash, del": pressEntry(`b\o`+"\x7f", "slack:U0BOB", "", at),
		"empty strings":  {Ack: bot.Ack{At: at}, Decision: bot.Decision{At: at}, Event: bot.Event{At: at}},
		"no request id": func() bot.AckEntryWrite {
			e := pressEntry("bob", "slack:U0BOB", "", at)
			e.Event.RequestID = ""
			return e
		}(),
		"no data": func() bot.AckEntryWrite { e := pressEntry("bob", "slack:U0BOB", "", at); e.Event.Data = nil; return e }(),
		"empty data": func() bot.AckEntryWrite {
			e := pressEntry("bob", "slack:U0BOB", "", at)
			e.Event.Data = map[string]any{}
			return e
		}(),
		"number in data": func() bot.AckEntryWrite {
			e := pressEntry("bob", "slack:U0BOB", "", at)
			e.Event.Data["n"] = 3
			return e
		}(),
		"nil in data": func() bot.AckEntryWrite {
			e := pressEntry("bob", "slack:U0BOB", "", at)
			e.Event.Data["n"] = nil
			return e
		}(),
		"many data keys": func() bot.AckEntryWrite {
			e := pressEntry("bob", "slack:U0BOB", "", at)
			e.Event.Data["a"], e.Event.Data["z"], e.Event.Data["b"] = "1", "2", "3"
			return e
		}(),
		"escaped key": func() bot.AckEntryWrite {
			e := pressEntry("bob", "slack:U0BOB", "", at)
			e.Event.Data["<k>"] = "v"
			return e
		}(),
		"other decision": func() bot.AckEntryWrite {
			e := pressEntry("bob", "slack:U0BOB", "", at)
			e.Decision.Reason = "why"
			return e
		}(),
		"window decision": func() bot.AckEntryWrite {
			e := pressEntry("bob", "slack:U0BOB", "", at)
			e.Decision.Start = at
			return e
		}(),
		"open decision": func() bot.AckEntryWrite {
			e := pressEntry("bob", "slack:U0BOB", "", at)
			e.Decision.Open = []string{}
			return e
		}(),
		"chat name": func() bot.AckEntryWrite {
			e := pressEntry("discord:1009", "discord:1009", "", at)
			e.Ack.Name, e.Decision.Name = "mallory", "mallory"
			return e
		}(),
		"chat name, unicode": func() bot.AckEntryWrite {
			e := pressEntry("discord:1009", "discord:1009", "", at)
			e.Ack.Name, e.Decision.Name = "Zoë <3", "Zoë <3"
			return e
		}(),
		"by decision": func() bot.AckEntryWrite {
			e := pressEntry("bob", "slack:U0BOB", "", at)
			e.Decision.By = time.Hour
			return e
		}(),
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) { sameAsEncodingJSON(t, e) })
	}
}

// The encoders know every field of what they write: a field added to
// bot.Ack, bot.Decision or bot.Event must be added to them too.
func TestAckJSONKnowsEveryField(t *testing.T) {
	for _, c := range []struct {
		v    any
		want []string
	}{
		{bot.Ack{}, []string{"Scope", "Who", "Via", "By", "At", "Name"}},
		{bot.Decision{}, []string{"Event", "More", "At", "Actor", "Action", "Reason", "Start", "End", "PrevStart", "PrevEnd", "By",
			"Scope", "Via", "For", "Name", "Criterion", "Open", "Repo", "Tag", "Detail", "ReplacesBy", "ReplacesAt", "Warnings"}},
		{bot.Event{}, []string{"ID", "Type", "UpgradeID", "Service", "At", "Actor", "Data", "RequestID"}},
	} {
		typ := reflect.TypeOf(c.v)
		var got []string
		for f := range typ.Fields() {
			got = append(got, f.Name)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s has the fields %v; the press's JSON (ackjson.go) knows %v", typ, got, c.want)
		}
	}
}

func FuzzAckJSON(f *testing.F) {
	f.Add("bob", "slack:U0BOB", "", "brief", int64(1764494142123456789), "req_1")
	f.Add("slack:S0OPS", "slack:U0BOB", "bob", "rollback", int64(0), "")
	f.Add("<&>", "\u2028\xff", "\"\\", "x\x00", int64(-62135596800000000), "é")
	f.Fuzz(func(t *testing.T, who, via, by, scope string, ns int64, req string) {
		e := pressEntry(who, via, by, time.Unix(0, ns).UTC())
		e.Ack.Scope, e.Decision.Scope, e.Event.Data["scope"], e.Event.RequestID = scope, scope, scope, req
		sameAsEncodingJSON(t, e)
	})
}

// The presses the core makes take the hand-written way, not encoding/json.
func TestAckJSONOfPressesIsHandWritten(t *testing.T) {
	at := time.Date(2026, 11, 30, 9, 15, 42, 123456789, time.UTC)
	for _, e := range []bot.AckEntryWrite{pressEntry("bob", "slack:U0BOB", "", at), pressEntry("slack:S0OPS", "slack:U0BOB", "bob", at)} {
		j := jsonw{ok: true}
		j.ack(&e.Ack)
		j.decision(&e.Decision)
		j.event(&e.Event)
		if !j.ok {
			t.Errorf("%+v went to encoding/json", e)
		}
	}
}
