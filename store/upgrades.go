package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/bot"
)

// pendingGrace is how old a pending index marker must be before List
// repairs it: younger ones belong to writes that are still running.
const pendingGrace = 30 * time.Second

// fetchBatch bounds one pipeline of upgrade reads.
const fetchBatch = 500

// Keys. Everything of one upgrade shares the tag {upg:N}; the List indexes
// share {idx}; the job schedule shares {jobs}.

func (s *Store) seqKey() string { return s.prefix + ":seq" }
func (s *Store) upgKey(id int) string {
	var b [64]byte
	return string(s.appendUpgKey(b[:0], id))
}
func (s *Store) acksKey(id int) string   { return s.upgKey(id) + ":acks" }
func (s *Store) logKey(id int) string    { return s.upgKey(id) + ":log" }
func (s *Store) eventsKey() string       { return s.prefix + ":events" }
func (s *Store) outboxKey(id int) string { return s.upgKey(id) + ":events" }
func (s *Store) onceUpgKey(id int, key string) string {
	return s.upgKey(id) + ":once:" + key
}

// appendUpgKey appends upgKey(id) to b.
func (s *Store) appendUpgKey(b []byte, id int) []byte {
	b = append(b, s.prefix...)
	b = append(b, ":{upg:"...)
	b = strconv.AppendInt(b, int64(id), 10)
	return append(b, '}')
}

// relayedKey remembers the event ids in the shared stream.
func (s *Store) relayedKey() string        { return s.eventsSlotKey("relayed") }
func (s *Store) onceKey(key string) string { return s.prefix + ":once:" + key }
func (s *Store) idxKey(name string) string { return s.prefix + ":{idx}:" + name }

// idxKeys are the KEYS of indexScript and unindexScript, in order.
func (s *Store) idxKeys() []string {
	return []string{s.idxKey("start"), s.idxKey("end"), s.idxKey("active"),
		s.idxKey("expire"), s.idxKey("rev"), s.idxKey("pending")}
}

// NextID allocates the next upgrade number.
func (s *Store) NextID(ctx context.Context) (int, error) {
	n, err := s.client.Incr(ctx, s.seqKey()).Result()
	if err != nil {
		return 0, fmt.Errorf("store: next id: %w", err)
	}
	return int(n), nil
}

// finished reports whether the upgrade's keys should expire.
func finished(st bot.State) bool {
	return st == bot.Completed || st == bot.RolledBack || st == bot.Cancelled
}

// ttl is the expiry to put on an upgrade's keys in state st, 0 for none.
func (s *Store) ttl(st bot.State) time.Duration {
	if finished(st) && s.opts.Retention > 0 {
		return s.opts.Retention
	}
	return 0
}

// Create saves a new upgrade with its first decision-log entry. It sets
// u.Rev to 1. An upgrade with the same ID that exists already is an error
// wrapping bot.ErrConflict.
func (s *Store) Create(ctx context.Context, u *bot.Upgrade, d bot.Decision) error {
	if u.ID <= 0 {
		return fmt.Errorf("store: create: invalid upgrade id %d", u.ID)
	}
	u.Rev = 1
	data, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("store: create upgrade %d: encode: %w", u.ID, err)
	}
	dec, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("store: create upgrade %d: encode decision: %w", u.ID, err)
	}
	evID, evType, ev, err := encodeEvent(d.Event)
	if err != nil {
		return fmt.Errorf("store: create upgrade %d: %w", u.ID, err)
	}
	pending := s.markPending(ctx, u.ID, u.Rev)
	keys := []string{s.upgKey(u.ID), s.logKey(u.ID), s.acksKey(u.ID), s.outboxKey(u.ID)}
	n, err := createScript.Run(ctx, s.client, keys, data, dec, s.opts.LogMaxLen, s.ttl(u.State).Milliseconds(), string(u.State), evID, evType, ev).Int()
	if err != nil && unsure(err) {
		return fmt.Errorf("store: create upgrade %d: %w: %w", u.ID, bot.ErrOutcomeUnknown, err) // the marker stays, as in Update
	} else if err != nil {
		s.clearPending(ctx, pending)
		return fmt.Errorf("store: create upgrade %d: %w", u.ID, err)
	}
	if n == 0 {
		s.clearPending(ctx, pending)
		return fmt.Errorf("store: create upgrade %d: it exists already: %w", u.ID, bot.ErrConflict)
	}
	s.index(ctx, u, pending)
	return nil
}

// Get loads one upgrade; a missing one is an error wrapping bot.ErrNotFound.
func (s *Store) Get(ctx context.Context, id int) (*bot.Upgrade, error) {
	vals, err := s.client.HMGet(ctx, s.upgKey(id), "rev", "json").Result()
	if err != nil {
		return nil, fmt.Errorf("store: get upgrade %d: %w", id, err)
	}
	u, err := decodeUpgrade(vals)
	if err != nil {
		return nil, fmt.Errorf("store: get upgrade %d: %w", id, err)
	}
	if u == nil {
		return nil, fmt.Errorf("store: upgrade %d: %w", id, bot.ErrNotFound)
	}
	return u, nil
}

// decodeUpgrade turns HMGET rev json into an upgrade; nil when missing.
func decodeUpgrade(vals []any) (*bot.Upgrade, error) {
	if len(vals) != 2 || vals[1] == nil {
		return nil, nil
	}
	js, _ := vals[1].(string)
	var u bot.Upgrade
	if err := json.Unmarshal([]byte(js), &u); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	// The hash's rev is the one compare-and-set checks; it is authoritative.
	if r, ok := vals[0].(string); ok {
		if n, err := strconv.Atoi(r); err == nil {
			u.Rev = n
		}
	}
	return &u, nil
}

// Update saves u if the stored revision is u.Rev-1 and appends d to the
// decision log when d.Action is set, in one step. A lost race is an error
// wrapping bot.ErrConflict, a missing upgrade one wrapping bot.ErrNotFound.
// A finished upgrade's keys expire Retention after its last change.
func (s *Store) Update(ctx context.Context, u *bot.Upgrade, d bot.Decision) error {
	data, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("store: update upgrade %d: encode: %w", u.ID, err)
	}
	var dec []byte
	if d.Action != "" {
		if dec, err = json.Marshal(d); err != nil {
			return fmt.Errorf("store: update upgrade %d: encode decision: %w", u.ID, err)
		}
	}
	evID, evType, ev, err := encodeEvent(d.Event)
	if err != nil {
		return fmt.Errorf("store: update upgrade %d: %w", u.ID, err)
	}
	args := []any{data, u.Rev, dec, s.opts.LogMaxLen, s.ttl(u.State).Milliseconds(), string(u.State), evID, evType, ev}
	for _, e := range d.More {
		id, typ, js, err := encodeEvent(e)
		if err != nil {
			return fmt.Errorf("store: update upgrade %d: %w", u.ID, err)
		}
		if js != "" {
			args = append(args, id, typ, js)
		}
	}
	pending := s.markPending(ctx, u.ID, u.Rev)
	keys := []string{s.upgKey(u.ID), s.logKey(u.ID), s.acksKey(u.ID), s.outboxKey(u.ID)}
	n, err := updateScript.Run(ctx, s.client, keys, args...).Int()
	if err != nil {
		if unsure(err) {
			// It may have been applied: the marker stays, so that List
			// indexes the change if it was (and finds nothing to do if not).
			return fmt.Errorf("store: update upgrade %d: %w: %w", u.ID, bot.ErrOutcomeUnknown, err)
		}
		s.clearPending(ctx, pending)
		return fmt.Errorf("store: update upgrade %d: %w", u.ID, err)
	}
	switch n {
	case -1:
		s.clearPending(ctx, pending)
		return fmt.Errorf("store: update upgrade %d: %w", u.ID, bot.ErrNotFound)
	case 0:
		s.clearPending(ctx, pending)
		return fmt.Errorf("store: update upgrade %d to rev %d: %w", u.ID, u.Rev, bot.ErrConflict)
	}
	s.index(ctx, u, pending)
	return nil
}

// markPending notes, before a write, that the upgrade's index entries are
// about to change. If this process dies between the write and the index
// step, List finds the marker and re-indexes from the stored data.
func (s *Store) markPending(ctx context.Context, id, rev int) string {
	member := strconv.Itoa(id) + "/" + strconv.Itoa(rev)
	err := s.client.ZAdd(ctx, s.idxKey("pending"), redis.Z{Score: float64(time.Now().UnixMilli()), Member: member}).Err()
	if err != nil {
		// The write itself will most likely fail too and report it.
		s.log.WarnContext(ctx, "store: cannot mark index pending", "upgrade", id, "err", err)
	}
	return member
}

func (s *Store) clearPending(ctx context.Context, member string) {
	if err := s.client.ZRem(ctx, s.idxKey("pending"), member).Err(); err != nil {
		s.log.WarnContext(ctx, "store: cannot clear index marker", "member", member, "err", err)
	}
}

// index is the step after a write that updates the List indexes. It lives in
// another hash slot, so it cannot share the write's script; a failure is only
// logged, because the upgrade is saved and List repairs the index from the
// pending marker.
func (s *Store) index(ctx context.Context, u *bot.Upgrade, pending string) {
	if err := s.runIndex(ctx, u, pending); err != nil {
		s.log.ErrorContext(ctx, "store: index update failed; List will repair it", "upgrade", u.ID, "err", err)
	}
}

func (s *Store) runIndex(ctx context.Context, u *bot.Upgrade, pending string) error {
	active := "0"
	if u.State.Active() {
		active = "1"
	}
	expireAt := int64(0)
	if ttl := s.ttl(u.State); ttl > 0 {
		expireAt = time.Now().Add(ttl).UnixMilli()
	}
	return indexScript.Run(ctx, s.client, s.idxKeys(), u.ID, u.Rev, ms(u.Start), ms(u.End), active, expireAt, pending).Err()
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// List returns the upgrades that match f, ordered by start, then id.
//
// It reads candidates from one index, the narrowest that f allows (the
// active set when f asks only for active states, else the start or end
// index when f has a window, with the active set when f.AnyActive), loads them with pipelines and applies f.Match.
//
// It writes nothing: an index entry whose upgrade is gone is skipped, and
// Tidy (the reconciler's housekeeping) forgets it.
func (s *Store) List(ctx context.Context, f bot.Filter) ([]*bot.Upgrade, error) {
	ids, err := s.candidates(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("store: list: %w", err)
	}
	ups, _, err := s.load(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("store: list: %w", err)
	}
	out := make([]*bot.Upgrade, 0, len(ups))
	for _, u := range ups {
		if f.Match(u) {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b *bot.Upgrade) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// candidates returns the ids that may match f, from one index (and the
// active set, when f.AnyActive lets active upgrades outside its window in).
func (s *Store) candidates(ctx context.Context, f bot.Filter) ([]string, error) {
	maxStart := "+inf"
	if !f.To.IsZero() {
		maxStart = ms(f.To) // inclusive: Match makes it exact
	}
	minEnd := "-inf"
	if !f.From.IsZero() {
		minEnd = ms(f.From)
	}
	onlyActive := len(f.States) > 0
	for _, st := range f.States {
		onlyActive = onlyActive && st.Active()
	}
	key, rng := s.idxKey("start"), &redis.ZRangeBy{Min: "-inf", Max: maxStart}
	switch {
	case onlyActive:
		key = s.idxKey("active")
		if f.AnyActive { // their window does not matter
			rng = &redis.ZRangeBy{Min: "-inf", Max: "+inf"}
		}
	case !f.From.IsZero() && !f.To.IsZero():
		// Both bounds: read whichever side holds fewer upgrades.
		pipe := s.client.Pipeline()
		byStart := pipe.ZCount(ctx, s.idxKey("start"), "-inf", maxStart)
		byEnd := pipe.ZCount(ctx, s.idxKey("end"), minEnd, "+inf")
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("count candidates: %w", err)
		}
		if byEnd.Val() < byStart.Val() {
			key, rng = s.idxKey("end"), &redis.ZRangeBy{Min: minEnd, Max: "+inf"}
		}
	case !f.From.IsZero():
		key, rng = s.idxKey("end"), &redis.ZRangeBy{Min: minEnd, Max: "+inf"}
	}
	if onlyActive || !f.AnyActive || (f.From.IsZero() && f.To.IsZero()) {
		ids, err := s.client.ZRangeByScore(ctx, key, rng).Result()
		if err != nil {
			return nil, fmt.Errorf("read index: %w", err)
		}
		return ids, nil
	}
	// Active upgrades match whatever their window: read the active set
	// with the window's index, in one round trip.
	pipe := s.client.Pipeline()
	windowed := pipe.ZRangeByScore(ctx, key, rng)
	active := pipe.ZRange(ctx, s.idxKey("active"), 0, -1)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	ids := windowed.Val()
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		seen[id] = true
	}
	for _, id := range active.Val() {
		if !seen[id] {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// load reads upgrades by id with pipelines; gone lists ids without data.
func (s *Store) load(ctx context.Context, ids []string) (ups []*bot.Upgrade, gone []string, err error) {
	for chunk := range slices.Chunk(ids, fetchBatch) {
		pipe := s.client.Pipeline()
		cmds := make([]*redis.SliceCmd, len(chunk))
		for i, id := range chunk {
			n, err := strconv.Atoi(id)
			if err != nil {
				return nil, nil, fmt.Errorf("index holds a bad id %q", id)
			}
			cmds[i] = pipe.HMGet(ctx, s.upgKey(n), "rev", "json")
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, nil, fmt.Errorf("load upgrades: %w", err)
		}
		for i, c := range cmds {
			u, err := decodeUpgrade(c.Val())
			if err != nil {
				return nil, nil, fmt.Errorf("upgrade %s: %w", chunk[i], err)
			}
			if u == nil {
				gone = append(gone, chunk[i])
				continue
			}
			ups = append(ups, u)
		}
	}
	return ups, gone, nil
}

// unindex forgets ids whose data is gone and clears pending markers.
func (s *Store) unindex(ctx context.Context, ids, pending []string) error {
	args := make([]any, 0, 1+len(ids)+len(pending))
	args = append(args, len(ids))
	for _, id := range ids {
		args = append(args, id)
	}
	for _, p := range pending {
		args = append(args, p)
	}
	if err := unindexScript.Run(ctx, s.client, s.idxKeys(), args...).Err(); err != nil {
		return fmt.Errorf("drop stale index entries: %w", err)
	}
	return nil
}

// tidyBatch is how many index entries Tidy takes from each of its two
// sets per round trip.
const tidyBatch = 100

// Tidy implements bot.Tidier: the indexes' housekeeping, which the
// scheduler's reconciler has done before it lists (so that List, a read,
// writes nothing). It re-indexes upgrades whose writer died between its
// write and its index step (a pending marker older than pendingGrace),
// and drops the index entries of upgrades whose keys have expired. One
// round trip when there is nothing to do; else it works in batches until
// nothing is left, or tidyRounds batches are done (the next pass goes on).
func (s *Store) Tidy(ctx context.Context) error {
	for range tidyRounds {
		more, err := s.tidyBatch(ctx)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// tidyRounds bounds one Tidy pass: 10,000 entries of each set.
const tidyRounds = 100

// tidyBatch is one batch of Tidy; more is true when a set held a full
// batch (there may be more to do).
func (s *Store) tidyBatch(ctx context.Context) (more bool, err error) {
	now := time.Now()
	pipe := s.client.Pipeline()
	pendCmd := pipe.ZRangeByScore(ctx, s.idxKey("pending"), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.Add(-pendingGrace).UnixMilli(), 10), Count: tidyBatch})
	expCmd := pipe.ZRangeByScore(ctx, s.idxKey("expire"), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10), Count: tidyBatch})
	if _, err := pipe.Exec(ctx); err != nil {
		return false, fmt.Errorf("store: tidy the indexes: %w", err)
	}
	if len(pendCmd.Val()) == 0 && len(expCmd.Val()) == 0 {
		return false, nil
	}
	ids := slices.Clone(expCmd.Val())
	for _, p := range pendCmd.Val() {
		id, _, _ := strings.Cut(p, "/")
		ids = append(ids, id)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	ups, gone, err := s.load(ctx, ids)
	if err != nil {
		return false, fmt.Errorf("store: tidy the indexes: %w", err)
	}
	// Re-index every survivor from its stored revision; the rev guard in
	// indexScript keeps a newer entry if a writer got there first. An
	// expired entry whose upgrade is still there (its expiry was pushed
	// back by a change whose index step has not run yet) is re-indexed
	// too, which moves its entry to the new expiry.
	for _, u := range ups {
		if err := s.runIndex(ctx, u, ""); err != nil {
			return false, fmt.Errorf("store: tidy the indexes: re-index upgrade %d: %w", u.ID, err)
		}
	}
	if err := s.unindex(ctx, gone, pendCmd.Val()); err != nil {
		return false, fmt.Errorf("store: tidy the indexes: %w", err)
	}
	return len(pendCmd.Val()) == tidyBatch || len(expCmd.Val()) == tidyBatch, nil
}

// ackField is the field of an acknowledgment in the acks hash (Ack
// writes it itself).
func ackField(a bot.Ack) string { return a.Scope + "|" + a.Who }

// Ack implements bot.Store with ackScript: one round trip for a whole
// press, on the upgrade's slot.
func (s *Store) Ack(ctx context.Context, id int, w bot.AckWrite) (bot.AckResult, error) {
	// Every string of the press (its keys, its scope, and per
	// acknowledgment its field and its three documents) is written into
	// one buffer, ends marking where each ends, and cut from one string;
	// go-redis takes them by pointer, so none is boxed on its own.
	var endsArr [6 + 4*4]int // the keys, the scope and four acknowledgments without allocating
	ends := endsArr[:0]
	j := jsonw{b: make([]byte, 0, 256+768*len(w.Entries)), ok: true}
	j.b = s.appendUpgKey(j.b, id)
	base := len(j.b)
	ends = append(ends, len(j.b)) // KEYS[1] data
	for _, suffix := range [...]string{":acks", ":log", ":events"} {
		j.b = append(append(j.b, j.b[:base]...), suffix...)
		ends = append(ends, len(j.b)) // KEYS[2] acks, KEYS[3] log, KEYS[4] events (the outbox)
	}
	hasDelivery := any("0")
	if w.Delivery != "" {
		hasDelivery = any("1")
		j.b = append(append(append(j.b, j.b[:base]...), ":once:"...), w.Delivery...)
	} else {
		j.b = append(append(j.b, j.b[:base]...), ":events"...) // any key of the slot
	}
	ends = append(ends, len(j.b)) // KEYS[5] once
	j.b = append(j.b, w.Scope...)
	ends = append(ends, len(j.b)) // ARGV[1]
	for i := range w.Entries {
		e := &w.Entries[i]
		j.b = append(append(append(j.b, e.Ack.Scope...), '|'), e.Ack.Who...) // ackField
		ends = append(ends, len(j.b))
		start := len(j.b)
		j.ack(&e.Ack)
		if !j.ok { // boxed only here: it would allocate on every press
			if err := j.fallback(start, e.Ack); err != nil {
				return bot.AckResult{}, fmt.Errorf("store: ack upgrade %d: encode: %w", id, err)
			}
		}
		ends = append(ends, len(j.b))
		start = len(j.b)
		j.decision(&e.Decision)
		if !j.ok { // boxed only here: it would allocate on every press
			if err := j.fallback(start, e.Decision); err != nil {
				return bot.AckResult{}, fmt.Errorf("store: ack upgrade %d: encode decision: %w", id, err)
			}
		}
		ends = append(ends, len(j.b))
		start = len(j.b)
		j.event(&e.Event)
		if !j.ok { // boxed only here: it would allocate on every press
			if err := j.fallback(start, e.Event); err != nil {
				return bot.AckResult{}, fmt.Errorf("store: ack upgrade %d: encode event: %w", id, err)
			}
		}
		ends = append(ends, len(j.b))
	}
	strs := cutStrings(j.b, ends)
	const keys = 5
	args := make([]any, 0, 3+keys+5+6*len(w.Entries))
	args = append(args, "evalsha", ackScriptSHA, "5")
	for k := range keys {
		args = append(args, &strs[k])
	}
	args = append(args, &strs[keys], hasDelivery, onceTTLms, s.logMaxLen, len(w.Entries))
	for i := range w.Entries {
		e, js := &w.Entries[i].Event, strs[keys+1+4*i:]
		args = append(args, &js[0], &js[1], &js[2], &e.ID, &e.Type, &js[3])
	}
	cmd := s.client.Do(ctx, args...)
	if err := cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") { // the server has not seen it yet
		args[0], args[1] = "eval", ackScriptSource
		cmd = s.client.Do(ctx, args...)
	}
	res, err := cmd.Result()
	if err != nil {
		return bot.AckResult{}, fmt.Errorf("store: ack upgrade %d: %w", id, err)
	}
	out := bot.AckResult{Standing: make([]bot.Ack, len(w.Entries)), First: make([]bool, len(w.Entries))}
	list, _ := res.([]any)
	code, _ := res.(int64)
	if len(list) > 0 {
		code, _ = list[0].(int64)
	}
	switch {
	case code == -1:
		return bot.AckResult{}, fmt.Errorf("store: ack upgrade %d: %w", id, bot.ErrNotFound)
	case code == -2 && len(list) == 2:
		state, _ := list[1].(string)
		return bot.AckResult{Refused: true, State: bot.State(state)}, nil
	case code == -3:
		return bot.AckResult{Duplicate: true}, nil
	case code == 1 && list == nil: // every acknowledgment recorded now: what was written stands
		for i := range w.Entries {
			out.First[i], out.Standing[i] = true, w.Entries[i].Ack
		}
		return out, nil
	case code != 1 || len(list) != 1+2*len(w.Entries):
		return bot.AckResult{}, fmt.Errorf("store: ack upgrade %d: unexpected reply %v", id, res)
	}
	for i := range w.Entries {
		flag, _ := list[1+2*i].(string)
		if out.First[i] = flag == "1"; out.First[i] {
			out.Standing[i] = w.Entries[i].Ack // what was written; not sent back
			continue
		}
		js, _ := list[2+2*i].(string)
		if err := json.Unmarshal([]byte(js), &out.Standing[i]); err != nil {
			return bot.AckResult{}, fmt.Errorf("store: ack upgrade %d: decode: %w", id, err)
		}
	}
	return out, nil
}

// onceTTL is how long a press's delivery id is remembered.
const onceTTL = 10 * time.Minute

// onceTTLms is the once key's expiry as a press's argument, boxed once
// (boxing an int64 of this size allocates, on every press).
var onceTTLms any = onceTTL.Milliseconds()

// relayBatch bounds the events one relay round moves.
const relayBatch = 500

// relayedKeep is how long the shared stream remembers which event ids it
// holds, so a relay repeated within it adds nothing twice.
const relayedKeep = 7 * 24 * time.Hour

// RelayEvents implements bot.EventOutbox: the upgrade's events written with
// their change (ackScript) that are not in the shared stream yet go there,
// each once, in order; then the upgrade's cursor moves past them and its
// outbox is trimmed. Safe to run from several replicas at once.
func (s *Store) RelayEvents(ctx context.Context, id int) (int, error) {
	total := 0
	for {
		res, err := relayReadScript.Run(ctx, s.client, []string{s.upgKey(id), s.outboxKey(id)}, relayBatch).StringSlice()
		if err != nil {
			return total, fmt.Errorf("store: relay events of upgrade %d: read: %w", id, err)
		}
		if len(res) < 5 {
			return total, nil
		}
		now := time.Now()
		args := []any{now.UnixMilli(), now.Add(-relayedKeep).UnixMilli(), s.opts.EventsMaxLen}
		last := ""
		for i := 1; i+3 < len(res); i += 4 {
			args = append(args, res[i], res[i+1], res[i+2])
			last = res[i+3]
		}
		n, err := legacyRetry(ctx, s, func() (int, error) {
			return relayWriteScript.Run(ctx, s.client, []string{s.eventsKey(), s.relayedKey(), s.legacyRelayedKey()}, args...).Int()
		})
		if err != nil {
			return total, fmt.Errorf("store: relay events of upgrade %d: write: %w", id, err)
		}
		total += n
		if err := relayDoneScript.Run(ctx, s.client, []string{s.upgKey(id), s.outboxKey(id)}, last).Err(); err != nil {
			return total, fmt.Errorf("store: relay events of upgrade %d: move the cursor: %w", id, err)
		}
		if (len(res)-1)/4 < relayBatch {
			return total, nil
		}
	}
}

// Acks lists the acknowledgments of an upgrade, oldest first; none for a
// missing upgrade.
func (s *Store) Acks(ctx context.Context, id int) ([]bot.Ack, error) {
	m, err := s.client.HGetAll(ctx, s.acksKey(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("store: acks of upgrade %d: %w", id, err)
	}
	out := make([]bot.Ack, 0, len(m))
	for f, js := range m {
		var a bot.Ack
		if err := json.Unmarshal([]byte(js), &a); err != nil {
			return nil, fmt.Errorf("store: acks of upgrade %d: decode %q: %w", id, f, err)
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b bot.Ack) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(ackField(a), ackField(b))
	})
	return out, nil
}

// Log returns the decision log, oldest first; empty for a missing upgrade.
func (s *Store) Log(ctx context.Context, id int) ([]bot.Decision, error) {
	msgs, err := s.client.XRange(ctx, s.logKey(id), "-", "+").Result()
	if err != nil {
		return nil, fmt.Errorf("store: log of upgrade %d: %w", id, err)
	}
	out := make([]bot.Decision, 0, len(msgs))
	for _, m := range msgs {
		js, _ := m.Values["decision"].(string)
		var d bot.Decision
		if err := json.Unmarshal([]byte(js), &d); err != nil {
			return nil, fmt.Errorf("store: log of upgrade %d: decode entry %s: %w", id, m.ID, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// encodeEvent returns the id, type and JSON of the event of a change, or
// empty strings when it has none.
func encodeEvent(e *bot.Event) (id, typ, js string, err error) {
	if e == nil {
		return "", "", "", nil
	}
	if e.Data == nil { // {} rather than null: every event has its data (spec/http.md)
		c := *e
		c.Data = map[string]any{}
		e = &c
	}
	b, err := json.Marshal(e)
	if err != nil {
		return "", "", "", fmt.Errorf("encode event %s: %w", e.Type, err)
	}
	return e.ID, e.Type, string(b), nil
}

// Publish implements bot.Store: the event joins the upgrade's events (its
// outbox, on the upgrade's slot) and is relayed to the shared stream like
// those written with a change. The event of an upgrade that no longer
// exists goes to the shared stream directly. Either way an event id
// published before is published once.
func (s *Store) Publish(ctx context.Context, id int, e bot.Event) error {
	evID, evType, js, err := encodeEvent(&e)
	if err != nil {
		return fmt.Errorf("store: publish: %w", err)
	}
	n, err := publishScript.Run(ctx, s.client, []string{s.upgKey(id), s.outboxKey(id)}, evID, evType, js).Int()
	if err != nil {
		return fmt.Errorf("store: publish %s of upgrade %d: %w", e.Type, id, err)
	}
	if n == 1 {
		return nil
	}
	now := time.Now()
	_, err = legacyRetry(ctx, s, func() (any, error) {
		return nil, relayWriteScript.Run(ctx, s.client, []string{s.eventsKey(), s.relayedKey(), s.legacyRelayedKey()},
			now.UnixMilli(), now.Add(-relayedKeep).UnixMilli(), s.opts.EventsMaxLen, evID, evType, js).Err()
	})
	if err != nil {
		return fmt.Errorf("store: publish %s of upgrade %d: %w", e.Type, id, err)
	}
	return nil
}

// First reports whether key is new, remembering it for ttl (SET NX PX).
func (s *Store) First(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("store: once %q: ttl must be positive, got %v", key, ttl)
	}
	ok, err := s.client.SetNX(ctx, s.onceKey(key), 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("store: once %q: %w", key, err)
	}
	return ok, nil
}

var _ bot.EventOutbox = (*Store)(nil)

var _ bot.Versions = (*Store)(nil)

// Version implements bot.Versions: the revision and the number of
// acknowledgments, in one pipelined round trip.
func (s *Store) Version(ctx context.Context, id int) (int, int, error) {
	var rev *redis.StringCmd
	var acks *redis.IntCmd
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		rev = p.HGet(ctx, s.upgKey(id), "rev")
		acks = p.HLen(ctx, s.acksKey(id))
		return nil
	})
	if errors.Is(err, redis.Nil) {
		return 0, 0, fmt.Errorf("store: upgrade %d: %w", id, bot.ErrNotFound)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("store: version of upgrade %d: %w", id, err)
	}
	r, err := strconv.Atoi(rev.Val())
	if err != nil {
		return 0, 0, fmt.Errorf("store: version of upgrade %d: bad rev %q", id, rev.Val())
	}
	return r, int(acks.Val()), nil
}
