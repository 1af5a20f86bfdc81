package store

import (
	"encoding/json"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// A press writes three JSON documents per acknowledgment: the ack, its
// decision-log entry and its event. Their usual forms are written here by
// hand, byte for byte what encoding/json writes (TestAckJSONIsEncodingJSON,
// FuzzAckJSON), without its reflection and allocations; anything unusual
// (a string to escape, a field a press does not set, data that is not
// text) goes to encoding/json.

// jsonw appends JSON to b; ok turns false at the first value it does not
// write as encoding/json would.
type jsonw struct {
	b  []byte
	ok bool
}

// cutStrings cuts from one copy of b the strings written one after the
// other in it, each ending where ends says.
func cutStrings(b []byte, ends []int) []string {
	all := string(b)
	out := make([]string, len(ends))
	from := 0
	for i, to := range ends {
		out[i] = all[from:to]
		from = to
	}
	return out
}

// plain reports whether encoding/json writes s as it is between quotes:
// printable ASCII without quote, backslash or the HTML-escaped <, > and &.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

func (w *jsonw) str(s string) {
	if !plain(s) {
		w.ok = false
		return
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, s...)
	w.b = append(w.b, '"')
}

// key starts the member name of an object: `{"name":` for the first
// member, `,"name":` for the others (names are plain constants).
func (w *jsonw) key(first bool, name string) {
	if first {
		w.b = append(w.b, '{', '"')
	} else {
		w.b = append(w.b, ',', '"')
	}
	w.b = append(w.b, name...)
	w.b = append(w.b, '"', ':')
}

// time writes t as its MarshalJSON does (RFC 3339 with nanoseconds, an
// error for a year outside 0-9999: then encoding/json reports it).
func (w *jsonw) time(t time.Time) {
	w.b = append(w.b, '"')
	b, err := t.AppendText(w.b)
	if err != nil {
		w.ok = false
		return
	}
	w.b = append(b, '"')
}

// fallback replaces what was written from start on by encoding/json's
// JSON of v, when ok turned false.
func (w *jsonw) fallback(start int, v any) error {
	if w.ok {
		return nil
	}
	js, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.b, w.ok = append(w.b[:start], js...), true
	return nil
}

// ack writes a bot.Ack.
func (w *jsonw) ack(a *bot.Ack) {
	w.key(true, "scope")
	w.str(a.Scope)
	w.key(false, "who")
	w.str(a.Who)
	w.key(false, "via")
	w.str(a.Via)
	if a.By != "" {
		w.key(false, "by")
		w.str(a.By)
	}
	w.key(false, "at")
	w.time(a.At)
	if a.Name != "" {
		w.key(false, "name")
		w.str(a.Name)
	}
	w.b = append(w.b, '}')
}

// decision writes a bot.Decision of an acknowledgment: the fields
// other entries of the log have go to encoding/json.
func (w *jsonw) decision(d *bot.Decision) {
	if d.Reason != "" || !d.Start.IsZero() || !d.End.IsZero() || !d.PrevStart.IsZero() || !d.PrevEnd.IsZero() || d.By != 0 ||
		d.Criterion != "" || d.Open != nil || d.Repo != "" || d.Tag != "" || d.Detail != "" || d.Warnings != nil ||
		d.ReplacesBy != "" || !d.ReplacesAt.IsZero() {
		w.ok = false
		return
	}
	w.key(true, "at")
	w.time(d.At)
	w.key(false, "actor")
	w.str(d.Actor)
	w.key(false, "action")
	w.str(d.Action)
	for _, f := range [...]struct{ name, v string }{{"scope", d.Scope}, {"via", d.Via}, {"for", d.For}, {"name", d.Name}} {
		if f.v != "" {
			w.key(false, f.name)
			w.str(f.v)
		}
	}
	w.b = append(w.b, '}')
}

// event writes a bot.Event whose data are text (an acknowledgment's:
// scope, via, for), its keys in encoding/json's order.
func (w *jsonw) event(e *bot.Event) {
	w.key(true, "id")
	w.str(e.ID)
	w.key(false, "type")
	w.str(e.Type)
	w.key(false, "upgrade_id")
	w.str(e.UpgradeID)
	w.key(false, "service")
	w.str(e.Service)
	w.key(false, "at")
	w.time(e.At)
	w.key(false, "actor")
	w.str(e.Actor)
	switch {
	case len(e.Data) == 0: // nil too: an event always has its data (encodeEvent)
		w.b = append(w.b, `,"data":{}`...)
	default:
		var keys [4]string
		if len(e.Data) > len(keys) {
			w.ok = false
			return
		}
		n := 0
		for k := range e.Data {
			// Insertion sort: encoding/json sorts the keys bytewise.
			i := n
			for i > 0 && keys[i-1] > k {
				keys[i] = keys[i-1]
				i--
			}
			keys[i] = k
			n++
		}
		w.b = append(w.b, `,"data":{`...)
		for i, k := range keys[:n] {
			v, ok := e.Data[k].(string)
			if !ok {
				w.ok = false
				return
			}
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.str(k)
			w.b = append(w.b, ':')
			w.str(v)
		}
		w.b = append(w.b, '}')
	}
	if e.RequestID != "" {
		w.key(false, "request_id")
		w.str(e.RequestID)
	}
	w.b = append(w.b, '}')
}
