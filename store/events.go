package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/bot"
)

// Reading the shared event stream (<prefix>:events): from a position (the
// status API's live subscription), and as a consumer group (webhooks: each
// endpoint is a group, so every event is delivered once per endpoint
// whichever replica reads it, and what a dead replica left pending is
// claimed by another).

// decodeStream turns stream entries into events; an entry that is not an
// event (written by hand, or trimmed under a pending claim) has a zero
// Event and nil JSON, so readers can acknowledge and skip it.
func decodeStream(msgs []redis.XMessage) []bot.StreamEvent {
	out := make([]bot.StreamEvent, 0, len(msgs))
	for _, m := range msgs {
		se := bot.StreamEvent{Pos: m.ID}
		if js, ok := m.Values["event"].(string); ok && json.Unmarshal([]byte(js), &se.Event) == nil {
			se.JSON = []byte(js)
		}
		out = append(out, se)
	}
	return out
}

// EventsAfter returns up to max events recorded after position after
// (after "" or "0-0": from the oldest the stream keeps), oldest first.
func (s *Store) EventsAfter(ctx context.Context, after string, max int) ([]bot.StreamEvent, error) {
	if after == "" {
		after = "0-0"
	}
	res, err := s.client.XRead(ctx, &redis.XReadArgs{Streams: []string{s.eventsKey(), after}, Count: int64(max), Block: -1}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("store: events after %s: %w", after, err)
	}
	if len(res) == 0 {
		return nil, nil
	}
	return decodeStream(res[0].Messages), nil
}

// WaitEvents is EventsAfter that waits up to block for the first event when
// there is none yet; none after block is no error.
func (s *Store) WaitEvents(ctx context.Context, after string, max int, block time.Duration) ([]bot.StreamEvent, error) {
	if after == "" {
		after = "0-0"
	}
	res, err := s.client.XRead(ctx, &redis.XReadArgs{Streams: []string{s.eventsKey(), after}, Count: int64(max), Block: block}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("store: wait for events after %s: %w", after, err)
	}
	if len(res) == 0 {
		return nil, nil
	}
	return decodeStream(res[0].Messages), nil
}

// LastEventPos is the position of the newest event, "0-0" when none.
func (s *Store) LastEventPos(ctx context.Context) (string, error) {
	msgs, err := s.client.XRevRangeN(ctx, s.eventsKey(), "+", "-", 1).Result()
	if err != nil {
		return "", fmt.Errorf("store: last event: %w", err)
	}
	if len(msgs) == 0 {
		return "0-0", nil
	}
	return msgs[0].ID, nil
}

// EnsureGroup creates the consumer group of the event stream if it does not
// exist. A new group starts at the end: it gets the events recorded from
// now on, not the stream's history; with since set, it gets the events
// whose ids are from since on, for a group created late because Redis did
// not answer when it was first tried. The ids are Redis's clock (XADD *),
// since is the caller's: a caller whose clock may run ahead of Redis's
// moves since back by a margin (the webhook deliverer by a minute), or the
// events recorded in the difference are never read by the group.
//
// The group is created with its count of reads (ENTRIESREAD) set, so that
// the entries trimmed off the stream before it reads them are counted
// (groups.go).
func (s *Store) EnsureGroup(ctx context.Context, group string, since time.Time) error {
	start := "$"
	if !since.IsZero() {
		// The last id before since's millisecond: its events are delivered too.
		start = strconv.FormatInt(since.UnixMilli()-1, 10) + "-18446744073709551615"
	}
	if err := groupCreateScript.Run(ctx, s.client, []string{s.eventsKey()}, group, start).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("store: create consumer group %s: %w", group, err)
	}
	return nil
}

// AckEvents marks events as done for group.
func (s *Store) AckEvents(ctx context.Context, group string, pos ...string) error {
	if len(pos) == 0 {
		return nil
	}
	if err := s.client.XAck(ctx, s.eventsKey(), group, pos...).Err(); err != nil {
		return fmt.Errorf("store: acknowledge events of group %s: %w", group, err)
	}
	return nil
}

// Leases: one holder at a time for a named job (a webhook endpoint's
// delivery), renewed by its holder, taken over when it lapses.

func (s *Store) leaseKey(name string) string { return s.prefix + ":lease:" + name }

// leaseScript takes or renews a lease.
//
// KEYS: lease. ARGV: holder, ttl ms. Returns 1 when holder holds it now.
var leaseScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// unleaseScript gives a lease up, if holder holds it.
var unleaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// Lease takes the lease name for holder for ttl, or renews it when holder
// holds it; false when another holder does.
func (s *Store) Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	n, err := leaseScript.Run(ctx, s.client, []string{s.leaseKey(name)}, holder, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("store: lease %s: %w", name, err)
	}
	return n == 1, nil
}

// Unlease gives the lease name up if holder holds it.
func (s *Store) Unlease(ctx context.Context, name, holder string) error {
	if err := unleaseScript.Run(ctx, s.client, []string{s.leaseKey(name)}, holder).Err(); err != nil {
		return fmt.Errorf("store: give up lease %s: %w", name, err)
	}
	return nil
}

// The delivery record of each webhook endpoint: a hash of its last
// success and last error, and a capped stream of the events it gave up on.

func (s *Store) hookKey(endpoint string) string { return s.prefix + ":webhooks:" + endpoint }

// hookFailuresMax caps the record of given-up events per endpoint.
const hookFailuresMax = 1000

// HookDelivered records a successful delivery to endpoint at at.
func (s *Store) HookDelivered(ctx context.Context, endpoint string, at time.Time) error {
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.hookKey(endpoint), "last_success", at.UTC().Format(time.RFC3339Nano))
		p.HIncrBy(ctx, s.hookKey(endpoint), "delivered", 1)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record delivery to %s: %w", endpoint, err)
	}
	return nil
}

// HookFailed records a failed attempt to deliver ev to endpoint; gaveUp
// says it was the last one, and the event is recorded as failed.
func (s *Store) HookFailed(ctx context.Context, endpoint string, at time.Time, ev bot.StreamEvent, msg string, gaveUp bool) error {
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.hookKey(endpoint), "last_error", msg, "last_error_at", at.UTC().Format(time.RFC3339Nano), "last_error_event", ev.Event.ID)
		p.HIncrBy(ctx, s.hookKey(endpoint), "attempts_failed", 1)
		if gaveUp {
			p.HIncrBy(ctx, s.hookKey(endpoint), "failed", 1)
			p.XAdd(ctx, &redis.XAddArgs{
				Stream: s.hookKey(endpoint) + ":failed", MaxLen: hookFailuresMax, Approx: true,
				Values: []any{"pos", ev.Pos, "id", ev.Event.ID, "type", ev.Event.Type, "upgrade_id", ev.Event.UpgradeID, "error", msg, "event", string(ev.JSON)},
			})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record failed delivery to %s: %w", endpoint, err)
	}
	return nil
}

// HookStatus reads the delivery record of endpoint, with up to recent of
// the events it gave up on, newest first.
func (s *Store) HookStatus(ctx context.Context, endpoint string, recent int) (bot.HookStatus, error) {
	var st bot.HookStatus
	m, err := s.client.HGetAll(ctx, s.hookKey(endpoint)).Result()
	if err != nil {
		return st, fmt.Errorf("store: delivery record of %s: %w", endpoint, err)
	}
	st.LastSuccess, _ = time.Parse(time.RFC3339Nano, m["last_success"])
	st.LastErrorAt, _ = time.Parse(time.RFC3339Nano, m["last_error_at"])
	st.LastError = m["last_error"]
	st.Delivered, _ = strconv.ParseInt(m["delivered"], 10, 64)
	st.Failed, _ = strconv.ParseInt(m["failed"], 10, 64)
	st.FailedAttempts, _ = strconv.ParseInt(m["attempts_failed"], 10, 64)
	if recent > 0 {
		msgs, err := s.client.XRevRangeN(ctx, s.hookKey(endpoint)+":failed", "+", "-", int64(recent)).Result()
		if err != nil {
			return st, fmt.Errorf("store: failed deliveries of %s: %w", endpoint, err)
		}
		for _, msg := range msgs {
			f := bot.HookFailure{Pos: str(msg.Values["pos"]), EventID: str(msg.Values["id"]), Type: str(msg.Values["type"]),
				UpgradeID: str(msg.Values["upgrade_id"]), Error: str(msg.Values["error"])}
			if ms, _, ok := strings.Cut(msg.ID, "-"); ok {
				if n, err := strconv.ParseInt(ms, 10, 64); err == nil {
					f.At = time.UnixMilli(n).UTC()
				}
			}
			st.Recent = append(st.Recent, f)
		}
	}
	return st, nil
}

func str(v any) string { s, _ := v.(string); return s }
