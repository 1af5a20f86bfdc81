package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/bot"
)

// Consumer groups of a capped stream. The event stream is trimmed to about
// EventsMaxLen entries (XADD MAXLEN ~) whoever has read them: a group that
// falls further behind than that never gets the oldest entries it had not
// read. Redis says nothing about it: XREADGROUP goes on from the stream's
// first entry, and the group's read counter (entries-read), which XINFO
// GROUPS' lag is computed from (entries-added minus entries-read), counts
// one per entry read, so the lag stays too high by the number trimmed,
// forever. Likewise XAUTOCLAIM drops the pending entries trimmed meanwhile
// from the pending list and names them in a third reply element that
// go-redis discards.
//
// So every read of a group goes through a script that first looks at the
// group and the stream (XINFO GROUPS and XINFO STREAM: no scan), and when
// the stream now starts after the group's position, counts the entries in
// between (entries-added minus the stream's length minus entries-read),
// records them as lost in <lostKey> and corrects the group's counter
// (XGROUP SETID … ENTRIESREAD), in the same step as the read: exactly once,
// whichever replica reads. Claims record the trimmed pending entries the
// same way. The record lives under the stream's hash tag, so the scripts
// run unchanged on Redis Cluster.
//
// On a server that does not count the entries a stream was given (the
// embedded memory:// server), nothing is checked.

// lostKey records the events of the stream that group never got.
func (s *Store) lostKey(group string) string { return s.eventsSlotKey("lost:" + group) }

// lostKeys are the KEYS of the scripts that read a group: the stream, the
// group's lost record, and that record's old name, which they adopt.
func (s *Store) lostKeys(group string) []string {
	return []string{s.eventsKey(), s.lostKey(group), s.legacyLostKey(group)}
}

// groupLua is what the group scripts share.
//
// cmpid compares two stream ids (-1, 0, 1) without converting them to Lua
// numbers (a sequence may be 2^64-1). inspect returns the group's XINFO
// GROUPS fields and the stream's XINFO STREAM fields, or nil when either
// is missing. record adds a loss to the record. reconcile finds the
// entries trimmed before the group read them, records them and corrects
// the group's read counter; it returns the loss (or false) and the group.
const groupLua = `
local function cmpid(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if #am ~= #bm then return #am < #bm and -1 or 1 end
  if am ~= bm then return am < bm and -1 or 1 end
  if #as ~= #bs then return #as < #bs and -1 or 1 end
  if as ~= bs then return as < bs and -1 or 1 end
  return 0
end

local function fields(t)
  local m = {}
  for i = 1, #t, 2 do m[t[i]] = t[i + 1] end
  return m
end

local function inspect(key, group)
  if redis.call('EXISTS', key) == 0 then return nil end
  local g
  for _, raw in ipairs(redis.call('XINFO', 'GROUPS', key)) do
    local m = fields(raw)
    if m['name'] == group then g = m; break end
  end
  if not g then return nil end
  local s = fields(redis.call('XINFO', 'STREAM', key))
  s.first = s['first-entry'] and s['first-entry'][1]
  s.last = s['last-entry'] and s['last-entry'][1]
  return g, s
end

local function record(lost, n, exact, after, before, now)
  redis.call('HINCRBY', lost, 'lost', n)
  redis.call('HSET', lost, 'last_at', now, 'last_count', n, 'last_exact', exact, 'last_after', after, 'last_before', before)
  return {n, exact, after, before}
end

local function reconcile(key, lost, group, now)
  local g, s = inspect(key, group)
  if not g then return false, nil end
  local added, length = s['entries-added'], s['length']
  if not added or not s.first then return false, g end
  local pos, read = g['last-delivered-id'], g['entries-read']
  if not read and pos == '0-0' then read = 0 end -- never read: none
  local gone = added - length
  if cmpid(pos, s.first) < 0 then
    -- Every entry up to the stream's first was trimmed; the group had read
    -- those up to its position. Entries deleted from the middle (XDEL)
    -- would make gone too high: then nothing is counted.
    local maxdel = s['max-deleted-entry-id'] or '0-0'
    if cmpid(maxdel, s.first) >= 0 then return false, g end
    if read then
      if gone - read <= 0 then return false, g end
      redis.call('XGROUP', 'SETID', key, group, pos, 'ENTRIESREAD', gone)
      return record(lost, gone - read, 1, pos == '0-0' and '' or pos, s.first, now), g
    end
    -- Redis does not know the group's reads: whether the entries right
    -- after its position were trimmed cannot be told (the trim may have
    -- stopped exactly there), so nothing is counted; the counter is set.
    redis.call('XGROUP', 'SETID', key, group, pos, 'ENTRIESREAD', gone)
    return false, g
  end
  if s.last and cmpid(pos, s.last) >= 0 and read ~= added then
    -- The group has read everything, so its counter must be entries-added.
    -- It is set, and nothing is counted as lost: Redis 7.0 does not pass
    -- a group's counter to replicas or the AOF (redis/redis#12898), so
    -- after a failover or a restart it is low although nothing was lost.
    redis.call('XGROUP', 'SETID', key, group, pos, 'ENTRIESREAD', added)
  end
  return false, g
end
`

// groupCreateScript creates a group unless it exists, with its count of
// reads: the entries the stream was given up to its start. Redis leaves the
// count unknown otherwise, and guesses it at the first read as if nothing
// had been trimmed unread before. A start inside the stream needs the
// entries after it counted (up to 10,000: a minute's events, normally);
// when there are more, or the server has no counts (the embedded server),
// the group is created without.
//
// KEYS: events. ARGV: group, start ('$' or an id).
var groupCreateScript = redis.NewScript(groupLua + `
local key, group, start = KEYS[1], ARGV[1], ARGV[2]
local n
if redis.call('EXISTS', key) == 1 then
  for _, raw in ipairs(redis.call('XINFO', 'GROUPS', key)) do
    if fields(raw)['name'] == group then return 0 end
  end
  local s = fields(redis.call('XINFO', 'STREAM', key))
  s.first = s['first-entry'] and s['first-entry'][1]
  s.last = s['last-entry'] and s['last-entry'][1]
  local added, length = s['entries-added'], s['length']
  local maxdel = s['max-deleted-entry-id'] or '0-0'
  if added then
    if start == '$' or not s.last or cmpid(start, s.last) >= 0 then
      n = added
    elseif cmpid(start, s.first) < 0 then
      if cmpid(maxdel, s.first) < 0 then n = added - length end
    elseif cmpid(maxdel, start) < 0 then
      local after = #redis.call('XRANGE', key, '(' .. start, '+', 'COUNT', 10001)
      if after <= 10000 then n = added - after end
    end
  end
else
  -- A new stream: no entries yet, when the server counts them.
  local res = redis.pcall('XGROUP', 'CREATE', key, group, start, 'MKSTREAM', 'ENTRIESREAD', 0)
  if type(res) == 'table' and res.err then
    redis.call('XGROUP', 'CREATE', key, group, start, 'MKSTREAM')
  end
  return 1
end
if n then
  redis.call('XGROUP', 'CREATE', key, group, start, 'ENTRIESREAD', n)
else
  redis.call('XGROUP', 'CREATE', key, group, start)
end
return 1
`)

// groupReadScript reads a group's new entries (XREADGROUP, not blocking)
// after reconciling it.
//
// KEYS: events, lost, lost under its old name (lostKeys). ARGV: group, consumer, count, now ms.
// Returns {loss or nil, entries, the group's position before the read}.
var groupReadScript = redis.NewScript(groupLua + adoptLua + `
adoptLost(KEYS[3], KEYS[2])
local loss, g = reconcile(KEYS[1], KEYS[2], ARGV[1], ARGV[4])
local res = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
local entries = {}
if res then entries = res[1][2] end
return {loss, entries, g and g['last-delivered-id'] or '0-0'}
`)

// groupCheckScript only reconciles a group.
//
// KEYS: events, lost, lost under its old name (lostKeys). ARGV: group, now ms. Returns the loss or nil.
var groupCheckScript = redis.NewScript(groupLua + adoptLua + `
adoptLost(KEYS[3], KEYS[2])
local loss = reconcile(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
return loss
`)

// groupClaimScript is XAUTOCLAIM that records the pending entries it found
// trimmed (Redis 7 drops them from the pending list and lists their ids).
//
// KEYS: events, lost, lost under its old name (lostKeys). ARGV: group, consumer, start, count, now ms.
// Returns {next start, entries, loss or nil}.
var groupClaimScript = redis.NewScript(groupLua + adoptLua + `
adoptLost(KEYS[3], KEYS[2])
local function succ(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return ms .. '-' .. string.format('%d', tonumber(seq) + 1)
end
local function pred(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  if seq == '0' then return string.format('%d', tonumber(ms) - 1) .. '-18446744073709551615' end
  return ms .. '-' .. string.format('%d', tonumber(seq) - 1)
end
local res = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'COUNT', ARGV[4])
local loss = false
local del = res[3]
if type(del) == 'table' and #del > 0 then
  loss = record(KEYS[2], #del, 1, pred(del[1]), succ(del[#del]), ARGV[5])
end
return {res[1], res[2], loss}
`)

// groupBacklogScript counts what a group has not finished, without
// changing anything: pending entries, and unread ones, which are all the
// stream holds when it starts after the group's position, none when the
// group has read its last entry, else Redis's lag (never more than the
// stream holds).
//
// KEYS: events. ARGV: group.
// Returns {pending, unread (-1: unknown, count them), the group's position}.
var groupBacklogScript = redis.NewScript(groupLua + `
local g, s = inspect(KEYS[1], ARGV[1])
if not g then return {0, 0, '0-0'} end
local pending, pos = g['pending'], g['last-delivered-id']
if not s['entries-added'] then return {pending, -1, pos} end
if not s.first then return {pending, 0, pos} end
if cmpid(pos, s.first) < 0 then return {pending, s['length'], pos} end
if cmpid(pos, s.last) >= 0 then return {pending, 0, pos} end
if g['lag'] then return {pending, math.min(g['lag'], s['length']), pos} end
return {pending, -1, pos}
`)

// ReadGroup reads, as consumer of group, up to max events no consumer of
// the group has read yet, waiting up to block for the first (not at all
// when block is 0). They stay pending for the group until AckEvents. loss
// is not nil when the stream was found to have been trimmed past events
// the group had not read: they are recorded (Lost) and will never be read.
func (s *Store) ReadGroup(ctx context.Context, group, consumer string, max int, block time.Duration) (evs []bot.StreamEvent, loss *bot.StreamLoss, err error) {
	evs, loss, pos, err := s.readGroup(ctx, group, consumer, max)
	if err != nil || len(evs) > 0 || loss != nil || block <= 0 {
		return evs, loss, err
	}
	// Nothing new: wait for an entry after the group's position, then read
	// it through the script again (only the script reads for a group, so
	// no read escapes the check).
	err = s.client.XRead(ctx, &redis.XReadArgs{Streams: []string{s.eventsKey(), pos}, Count: 1, Block: block}).Err()
	if err == redis.Nil {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, fmt.Errorf("store: wait for events of group %s: %w", group, err)
	}
	evs, loss, _, err = s.readGroup(ctx, group, consumer, max)
	return evs, loss, err
}

func (s *Store) readGroup(ctx context.Context, group, consumer string, max int) ([]bot.StreamEvent, *bot.StreamLoss, string, error) {
	now := time.Now()
	res, err := legacyRetry(ctx, s, func() ([]any, error) {
		return groupReadScript.Run(ctx, s.client, s.lostKeys(group), group, consumer, max, now.UnixMilli()).Slice()
	})
	if err != nil {
		return nil, nil, "", fmt.Errorf("store: read group %s: %w", group, err)
	}
	if len(res) != 3 {
		return nil, nil, "", fmt.Errorf("store: read group %s: unexpected reply %v", group, res)
	}
	loss := parseLoss(res[0], now)
	msgs, err := parseMessages(res[1])
	if err != nil {
		return nil, nil, "", fmt.Errorf("store: read group %s: %w", group, err)
	}
	pos, _ := res[2].(string)
	return decodeStream(msgs), loss, pos, nil
}

// CheckGroup records the events trimmed off the stream before group read
// them, and corrects the group's count of reads, as ReadGroup does before
// each read: for a deliverer that stopped reading for a while. nil when
// none were.
func (s *Store) CheckGroup(ctx context.Context, group string) (*bot.StreamLoss, error) {
	now := time.Now()
	res, err := legacyRetry(ctx, s, func() (any, error) {
		return groupCheckScript.Run(ctx, s.client, s.lostKeys(group), group, now.UnixMilli()).Result()
	})
	if err == redis.Nil {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("store: check group %s: %w", group, err)
	}
	return parseLoss(res, now), nil
}

// ClaimEvents takes over, for consumer, up to max events pending in group
// (read by a consumer and never acknowledged), from position start ("0-0"
// first), oldest first, whoever read them (XAUTOCLAIM). next is where to
// go on; "0-0" when the whole pending list was scanned. loss is not nil
// when some of the pending events were trimmed off the stream meanwhile:
// Redis drops them from the pending list, and they are recorded (Lost).
func (s *Store) ClaimEvents(ctx context.Context, group, consumer, start string, max int) (evs []bot.StreamEvent, next string, loss *bot.StreamLoss, err error) {
	now := time.Now()
	res, err := legacyRetry(ctx, s, func() ([]any, error) {
		return groupClaimScript.Run(ctx, s.client, s.lostKeys(group), group, consumer, start, max, now.UnixMilli()).Slice()
	})
	if err != nil {
		return nil, "", nil, fmt.Errorf("store: claim pending events of group %s: %w", group, err)
	}
	if len(res) != 3 {
		return nil, "", nil, fmt.Errorf("store: claim pending events of group %s: unexpected reply %v", group, res)
	}
	next, _ = res[0].(string)
	msgs, err := parseMessages(res[1])
	if err != nil {
		return nil, "", nil, fmt.Errorf("store: claim pending events of group %s: %w", group, err)
	}
	return decodeStream(msgs), next, parseLoss(res[2], now), nil
}

// backlogScan bounds the count of unread events when Redis cannot say.
const backlogScan = 100000

// Backlog is how many events group has not finished: those pending (read
// and not acknowledged) plus those not read yet. Events trimmed off the
// stream before the group read them are not waiting: they are lost, and
// not counted here, also before a read has recorded them.
func (s *Store) Backlog(ctx context.Context, group string) (int64, error) {
	res, err := groupBacklogScript.Run(ctx, s.client, []string{s.eventsKey()}, group).Slice()
	if err != nil {
		return 0, fmt.Errorf("store: backlog of group %s: %w", group, err)
	}
	if len(res) != 3 {
		return 0, fmt.Errorf("store: backlog of group %s: unexpected reply %v", group, res)
	}
	pending, _ := res[0].(int64)
	unread, _ := res[1].(int64)
	if unread >= 0 {
		return pending + unread, nil
	}
	// Redis cannot tell (the embedded server, or entries deleted from the
	// middle): count what follows the group's position.
	after, _ := res[2].(string)
	msgs, err := s.client.XRangeN(ctx, s.eventsKey(), "("+after, "+", backlogScan).Result()
	if err != nil {
		return 0, fmt.Errorf("store: backlog of group %s: %w", group, err)
	}
	return pending + int64(len(msgs)), nil
}

// Lost reads the record of the events group never got: how many in all,
// and the last loss found (zero At when none).
func (s *Store) Lost(ctx context.Context, group string) (total int64, last bot.StreamLoss, err error) {
	m, err := s.client.HGetAll(ctx, s.lostKey(group)).Result()
	if err != nil {
		return 0, last, fmt.Errorf("store: lost events of group %s: %w", group, err)
	}
	total, _ = strconv.ParseInt(m["lost"], 10, 64)
	if ms, err := strconv.ParseInt(m["last_at"], 10, 64); err == nil {
		last.At = time.UnixMilli(ms).UTC()
		last.Count, _ = strconv.ParseInt(m["last_count"], 10, 64)
		last.Exact = m["last_exact"] == "1"
		last.After, last.Before = m["last_after"], m["last_before"]
	}
	return total, last, nil
}

// parseLoss reads a script's {count, exact, after, before}; nil for none.
func parseLoss(v any, at time.Time) *bot.StreamLoss {
	a, ok := v.([]any)
	if !ok || len(a) != 4 {
		return nil
	}
	n, _ := a[0].(int64)
	exact, _ := a[1].(int64)
	after, _ := a[2].(string)
	before, _ := a[3].(string)
	return &bot.StreamLoss{Count: n, Exact: exact == 1, After: after, Before: before, At: at.UTC()}
}

// parseMessages reads stream entries from a script's reply: each {id,
// {field, value, …}}; an entry without fields (trimmed under a claim on
// an older server) gets none.
func parseMessages(v any) ([]redis.XMessage, error) {
	if v == nil {
		return nil, nil
	}
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("entries: unexpected reply %T", v)
	}
	out := make([]redis.XMessage, 0, len(a))
	for _, e := range a {
		ea, ok := e.([]any)
		if !ok || len(ea) == 0 {
			return nil, fmt.Errorf("entry: unexpected reply %v", e)
		}
		id, _ := ea[0].(string)
		if !strings.Contains(id, "-") {
			return nil, fmt.Errorf("entry: unexpected id %v", ea[0])
		}
		m := redis.XMessage{ID: id}
		if len(ea) > 1 {
			if fv, ok := ea[1].([]any); ok {
				m.Values = make(map[string]any, len(fv)/2)
				for i := 0; i+1 < len(fv); i += 2 {
					k, _ := fv[i].(string)
					m.Values[k] = fv[i+1]
				}
			}
		}
		out = append(out, m)
	}
	return out, nil
}
