package store

import "github.com/redis/go-redis/v9"

// The Lua scripts. Each one touches only the keys it is given in KEYS, and
// the keys of one call always share a hash tag, so they run unchanged on
// Redis Cluster. redis.Script runs them with EVALSHA and falls back to EVAL
// the first time a server has not seen them.
//
// Scores and millisecond values are passed as decimal strings and handed to
// Redis untouched: converting them to Lua numbers and back could print them
// in exponent notation.

// createScript stores a new upgrade. Its state is kept beside its JSON, so
// ackScript can check it without decoding.
//
// KEYS: data, log, acks, events. ARGV: json, decision json, log maxlen, ttl
// ms (0 = none), state, event id, event type, event json (” = none).
// Returns 1, or 0 when the upgrade already exists (1 when it is this
// call's own write, run again: the same event id, see updateScript).
var createScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  if ARGV[6] ~= '' and redis.call('HGET', KEYS[1], 'evid') == ARGV[6] then
    return 1
  end
  return 0
end
redis.call('HSET', KEYS[1], 'rev', '1', 'json', ARGV[1], 'state', ARGV[5], 'evid', ARGV[6])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'decision', ARGV[2])
if ARGV[8] ~= '' then
  redis.call('XADD', KEYS[4], '*', 'id', ARGV[6], 'type', ARGV[7], 'event', ARGV[8])
end
if ARGV[4] ~= '0' then
  for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
end
return 1
`)

// updateScript is the compare-and-set of an upgrade.
//
// KEYS: data, log, acks, events. ARGV: json, new rev, decision json (” =
// none), log maxlen, ttl ms (0 = keep forever), state, event id, event type,
// event json (” = none), then more events as id, type, json triples.
// Returns 1 when saved, 0 when the stored rev is not new rev - 1, -1 when the
// upgrade does not exist. The event id is kept with the data ('evid'): the
// same call run again (go-redis sends a script again when the connection
// was cut under its answer) finds its own write and returns 1, changing
// nothing, rather than a conflict that would apply the change twice.
var updateScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'rev')
if not cur then
  return -1
end
if tonumber(cur) ~= tonumber(ARGV[2]) - 1 then
  if ARGV[7] ~= '' and tonumber(cur) == tonumber(ARGV[2]) and redis.call('HGET', KEYS[1], 'evid') == ARGV[7] then
    return 1
  end
  return 0
end
redis.call('HSET', KEYS[1], 'rev', ARGV[2], 'json', ARGV[1], 'state', ARGV[6], 'evid', ARGV[7])
if ARGV[3] ~= '' then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'decision', ARGV[3])
end
if ARGV[9] ~= '' then
  redis.call('XADD', KEYS[4], '*', 'id', ARGV[7], 'type', ARGV[8], 'event', ARGV[9])
end
for i = 10, #ARGV, 3 do
  redis.call('XADD', KEYS[4], '*', 'id', ARGV[i], 'type', ARGV[i+1], 'event', ARGV[i+2])
end
for i = 1, 4 do
  if ARGV[5] ~= '0' then
    redis.call('PEXPIRE', KEYS[i], ARGV[5])
  else
    redis.call('PERSIST', KEYS[i])
  end
end
return 1
`)

// ackScript records one press in one step: the state check, the
// de-duplication of the delivery, and for each acknowledgment of the press
// (the presser's, her groups') first-wins in the acks hash with its
// decision-log entry and its event in the upgrade's outbox stream (relayed
// to the shared stream later, exactly once). Acks, log and outbox follow the
// data's expiry, so a finished upgrade expires as one: only a finished
// upgrade's keys expire (Store.ttl), and of the states that take an
// acknowledgment only rolled_back is finished, so only then is the expiry
// read and copied (reading it on every press, and EXISTS before the state,
// cost 7% of a press's instructions in Redis).
//
// KEYS: data, acks, log, events, once. ARGV: scope, delivery? ('1'/'0'),
// once ttl ms, log maxlen, n, then n times: field (scope|who), ack json,
// decision json, event id, event type, event json.
// Returns -1 for a missing upgrade, {-2, state} when the state does not
// ask for the scope, -3 for a delivery seen before, 1 when every
// acknowledgment was recorded now (the caller has their json), else {1,
// then per entry '1' and an empty string when recorded now, or '0' and the
// standing ack json}. The usual answer is a number: nothing to decode.
var ackScript = redis.NewScript(ackScriptText)

// ackScriptSHA and ackScriptSource are ackScript's EVALSHA and EVAL
// arguments, boxed once.
var ackScriptSHA, ackScriptSource any = ackScript.Hash(), ackScriptText

const ackScriptText = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then -- missing, or written before the state had a field of its own
  local js = redis.call('HGET', KEYS[1], 'json')
  if not js then
    return -1
  end
  state = cjson.decode(js)['state']
end
local ok
if ARGV[1] == 'rollback' then
  ok = state == 'rolled_back'
else
  ok = state == 'scheduled' or state == 'in_progress'
end
if not ok then
  return {-2, state}
end
if ARGV[2] == '1' and not redis.call('SET', KEYS[5], '1', 'NX', 'PX', ARGV[3]) then
  return -3
end
local out, all = {1}, true
for i = 0, tonumber(ARGV[5]) - 1 do
  local b = 6 + i * 6
  if redis.call('HSETNX', KEYS[2], ARGV[b], ARGV[b + 1]) == 1 then
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'decision', ARGV[b + 2])
    redis.call('XADD', KEYS[4], '*', 'id', ARGV[b + 3], 'type', ARGV[b + 4], 'event', ARGV[b + 5])
    out[#out + 1] = '1'
    out[#out + 1] = ''
  else
    all = false
    out[#out + 1] = '0'
    out[#out + 1] = redis.call('HGET', KEYS[2], ARGV[b])
  end
end
if state == 'rolled_back' then -- the only state acknowledged whose keys expire
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then
    for k = 2, 4 do redis.call('PEXPIRE', KEYS[k], ttl) end
  end
end
if all then
  return 1
end
return out
`

// publishScript adds an event to an upgrade's events (its outbox), with the
// expiry of the upgrade's data.
//
// KEYS: data, events. ARGV: event id, event type, event json.
// Returns 1, or 0 when the upgrade does not exist (any more).
var publishScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('XADD', KEYS[2], '*', 'id', ARGV[1], 'type', ARGV[2], 'event', ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return 1
`)

// relayReadScript returns the events of an upgrade's outbox that are not in
// the shared stream yet: those after its cursor (the data hash's
// 'relayed'), at most max.
//
// KEYS: data, events. ARGV: max.
// Returns {cursor, id1, type1, json1, entry1, id2, ...} where entry is the
// outbox entry's stream id.
var relayReadScript = redis.NewScript(`
local cursor = redis.call('HGET', KEYS[1], 'relayed') or '0-0'
local out = {cursor}
for _, e in ipairs(redis.call('XRANGE', KEYS[2], cursor, '+', 'COUNT', tonumber(ARGV[1]) + 1)) do
  if e[1] ~= cursor and #out < 1 + 4 * tonumber(ARGV[1]) then
    local f = {}
    for i = 1, #e[2], 2 do f[e[2][i]] = e[2][i + 1] end
    out[#out + 1] = f['id']
    out[#out + 1] = f['type']
    out[#out + 1] = f['event']
    out[#out + 1] = e[1]
  end
end
return out
`)

// relayWriteScript appends events to the shared stream unless they are
// there already (by event id, remembered for a week in a sorted set beside
// the stream), so relaying twice, or from two replicas, adds each once.
//
// KEYS: events, relayed, relayed under its old name (adoptLua). ARGV: now
// ms, forget-before ms, maxlen, then triples of id, type, json.
// Returns how many it appended.
var relayWriteScript = redis.NewScript(adoptLua + `
adoptRelayed(KEYS[3], KEYS[2])
local n = 0
for i = 4, #ARGV, 3 do
  if not redis.call('ZSCORE', KEYS[2], ARGV[i]) then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'id', ARGV[i], 'type', ARGV[i + 1], 'event', ARGV[i + 2])
    redis.call('ZADD', KEYS[2], ARGV[1], ARGV[i])
    n = n + 1
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
return n
`)

// relayDoneScript moves an upgrade's relay cursor forward (never back: two
// relays may finish out of order) and trims the outbox up to it.
//
// KEYS: data, events. ARGV: the last relayed entry's stream id.
var relayDoneScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local cur = redis.call('HGET', KEYS[1], 'relayed') or '0-0'
local function parts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local cm, cs = parts(cur)
local nm, ns = parts(ARGV[1])
if nm > cm or (nm == cm and ns > cs) then
  redis.call('HSET', KEYS[1], 'relayed', ARGV[1])
  redis.call('XTRIM', KEYS[2], 'MINID', ARGV[1])
end
return 1
`)

// indexScript points the List indexes at one revision of an upgrade, unless
// a newer revision is indexed already (two writers may finish out of order).
//
// KEYS: idx start, end, active, expire, rev, pending.
// ARGV: id, rev, start ms, end ms, active ('1'/'0'), expire-at ms ('0' = none),
// pending member to clear (” = none).
var indexScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[5], ARGV[1]) or '0')
if tonumber(ARGV[2]) >= cur then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
  if ARGV[5] == '1' then
    redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
  else
    redis.call('ZREM', KEYS[3], ARGV[1])
  end
  if ARGV[6] ~= '0' then
    redis.call('ZADD', KEYS[4], ARGV[6], ARGV[1])
  else
    redis.call('ZREM', KEYS[4], ARGV[1])
  end
  redis.call('HSET', KEYS[5], ARGV[1], ARGV[2])
end
if ARGV[7] ~= '' then
  redis.call('ZREM', KEYS[6], ARGV[7])
end
return 1
`)

// unindexScript forgets upgrades whose data is gone.
//
// KEYS: idx start, end, active, expire, rev, pending.
// ARGV: n, then n ids, then pending members to clear.
var unindexScript = redis.NewScript(`
local n = tonumber(ARGV[1])
for i = 2, n + 1 do
  for k = 1, 4 do redis.call('ZREM', KEYS[k], ARGV[i]) end
  redis.call('HDEL', KEYS[5], ARGV[i])
end
for i = n + 2, #ARGV do
  redis.call('ZREM', KEYS[6], ARGV[i])
end
return 1
`)

// replaceJobsScript makes ARGV the complete set of one upgrade's jobs.
//
// KEYS: jobs due, inflight, data, by:N, revs, attempts, sent, planned:N,
// since, sentsince, alertsince. ARGV: now ms, upgrade id, the revision planned from, the TTL (ms) of
// planned:N once the upgrade has no pending job, then triples of member, due
// ms, json. A revision older than the one in revs is ignored.
//
// Whether a job is added is decided by whether it was ever done, not by
// whether its time has passed. planned:N maps each job of the upgrade that
// was pending or done to the due ms of its latest version, so a listed job
// that is not pending is:
//   - left out when planned:N holds it at that due time: it was done (sent,
//     or skipped as useless), and a sent job never comes back;
//   - left out when it is due before since: a version of the store that
//     kept no records may have sent it. since is the now of the first call
//     of this script, or 0 if no job was pending then (a new schedule);
//   - otherwise added, overdue or not: it is new, moved to another time, or
//     was never planned in time (the plan lagged its moment).
//
// sentsince is set like since, by the first call of a version that records
// when jobs were sent (Store.MarkSent): a job due before it may have been
// sent by an older version without a record (Store.SentAt cannot tell).
// alertsince is set to now by the first call of a version that records
// when rollback alerts went out (command notices, not jobs, so whether jobs
// were pending says nothing of them): a rollback before it cannot tell.
//
// A pending job stays pending: unchanged, it is left where it is (due, in
// flight, or waiting for a retry), so it falls due once; changed, it goes
// back to due with its new score and forgets its attempts and delivered
// parts. Pending jobs not listed are removed with their record (never
// done). Records of done jobs stay, listed or not.
//
// The revision is remembered only while the upgrade has jobs: an upgrade
// without any leaves nothing in revs (a late, older plan of it is then
// harmless: its jobs are skipped as stale when they fall due). planned:N
// has no expiry while jobs are pending, expires TTL after the last plan or
// done job that left none, and is deleted by an empty plan (a finished
// upgrade's state calls for no job again).
var replaceJobsScript = redis.NewScript(`
local last = tonumber(redis.call('HGET', KEYS[5], ARGV[2]) or '0')
if tonumber(ARGV[3]) < last then
  return 0
end
local since = redis.call('GET', KEYS[9])
if not since then
  -- The first plan of this version: jobs of an older one may be pending,
  -- and others of theirs done without a record. Without any pending job,
  -- the schedule is new (or was empty): every record is complete.
  since = ARGV[1]
  if redis.call('HLEN', KEYS[3]) == 0 then
    since = '0'
  end
  redis.call('SET', KEYS[9], since)
end
since = tonumber(since)
if redis.call('EXISTS', KEYS[10]) == 0 then
  if redis.call('HLEN', KEYS[3]) == 0 then
    redis.call('SET', KEYS[10], '0')
  else
    redis.call('SET', KEYS[10], ARGV[1])
  end
end
if redis.call('EXISTS', KEYS[11]) == 0 then
  redis.call('SET', KEYS[11], ARGV[1])
end
local keep = {}
local listed = 0
for i = 5, #ARGV, 3 do
  local m, due = ARGV[i], ARGV[i + 1]
  listed = listed + 1
  if redis.call('HEXISTS', KEYS[3], m) == 1 then
    keep[m] = true
  elseif redis.call('HGET', KEYS[8], m) ~= due and tonumber(due) >= since then
    keep[m] = true
  end
end
for _, m in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  if not keep[m] then
    redis.call('ZREM', KEYS[1], m)
    redis.call('ZREM', KEYS[2], m)
    redis.call('HDEL', KEYS[3], m)
    redis.call('SREM', KEYS[4], m)
    redis.call('HDEL', KEYS[6], m)
    redis.call('HDEL', KEYS[7], m)
    redis.call('HDEL', KEYS[8], m)
  end
end
for i = 5, #ARGV, 3 do
  local m = ARGV[i]
  if keep[m] then
    if redis.call('HGET', KEYS[3], m) ~= ARGV[i + 2] then
      redis.call('ZREM', KEYS[2], m)
      redis.call('ZADD', KEYS[1], ARGV[i + 1], m)
      redis.call('HSET', KEYS[3], m, ARGV[i + 2])
      redis.call('SADD', KEYS[4], m)
      redis.call('HDEL', KEYS[6], m)
      redis.call('HDEL', KEYS[7], m)
    end
    redis.call('HSET', KEYS[8], m, ARGV[i + 1])
  end
end
if redis.call('SCARD', KEYS[4]) > 0 then
  redis.call('HSET', KEYS[5], ARGV[2], ARGV[3])
  redis.call('PERSIST', KEYS[8])
else
  redis.call('HDEL', KEYS[5], ARGV[2])
  if listed == 0 then
    redis.call('DEL', KEYS[8])
  else
    redis.call('PEXPIRE', KEYS[8], ARGV[4])
  end
end
return 1
`)

// claimScript leases due jobs to one caller.
//
// KEYS: jobs due, inflight, data, attempts. ARGV: now ms, lease-until ms, max.
// Jobs whose lease ran out go back to due first, at their original due time
// (the "due_ms" field that the store puts first in every job's json).
// Returns the json of each claimed job followed by its count of failed
// attempts, earliest first: {json1, attempts1, json2, attempts2, ...}.
var claimScript = redis.NewScript(`
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])) do
  redis.call('ZREM', KEYS[2], m)
  local js = redis.call('HGET', KEYS[3], m)
  if js then
    local due = string.match(js, '"due_ms":(%-?%d+)')
    redis.call('ZADD', KEYS[1], due or ARGV[1], m)
  end
end
local out = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])) do
  redis.call('ZREM', KEYS[1], m)
  local js = redis.call('HGET', KEYS[3], m)
  if js then
    redis.call('ZADD', KEYS[2], ARGV[2], m)
    out[#out + 1] = js
    out[#out + 1] = redis.call('HGET', KEYS[4], m) or '0'
  end
end
return out
`)

// requeueScript puts claimed jobs back in due: Release (at their own due
// time, so at once) and Retry (later, with a new attempt count). Only the
// claim that holds a job may put it back: the job must be in flight with
// the caller's lease end as its score (after a lease ran out another
// replica's claim has a later one) and unchanged since (not re-planned).
//
// KEYS: jobs due, inflight, data, attempts. ARGV: quintuples of member,
// json as claimed, lease-until ms of the claim, score ms (empty: the job's own
// due time), attempts (empty: keep).
// Returns how many jobs were put back.
var requeueScript = redis.NewScript(`
local n = 0
for i = 1, #ARGV, 5 do
  local m = ARGV[i]
  local held = redis.call('ZSCORE', KEYS[2], m)
  if held and tonumber(held) == tonumber(ARGV[i + 2]) and redis.call('HGET', KEYS[3], m) == ARGV[i + 1] then
    local score = ARGV[i + 3]
    if score == '' then
      score = string.match(ARGV[i + 1], '"due_ms":(%-?%d+)')
    end
    redis.call('ZREM', KEYS[2], m)
    redis.call('ZADD', KEYS[1], score, m)
    if ARGV[i + 4] ~= '' then
      redis.call('HSET', KEYS[4], m, ARGV[i + 4])
    end
    n = n + 1
  end
end
return n
`)

// doneScript removes a finished job, but only the version that was claimed:
// a job replaced meanwhile (new due time) stays. It records the finished
// version in planned:N (member -> due ms), also when a re-plan removed the
// job while it ran (it was sent all the same), so no re-plan adds it again.
// With its upgrade's last job gone, the upgrade's planned revision goes
// too, and planned:N expires after the TTL, so a finished upgrade leaves
// nothing behind in the schedule for long.
//
// KEYS: jobs due, inflight, data, by:N, revs, attempts, sent, planned:N.
// ARGV: member, json, upgrade id, due ms, TTL ms of planned:N.
// Returns 1 when removed, 0 when the job was gone (recorded all the same)
// or had changed (left alone).
var doneScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[3], ARGV[1])
if cur and cur ~= ARGV[2] then
  return 0
end
if cur then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('SREM', KEYS[4], ARGV[1])
  redis.call('HDEL', KEYS[6], ARGV[1])
  redis.call('HDEL', KEYS[7], ARGV[1])
end
redis.call('HSET', KEYS[8], ARGV[1], ARGV[4])
if redis.call('SCARD', KEYS[4]) == 0 then
  redis.call('HDEL', KEYS[5], ARGV[3])
  redis.call('PEXPIRE', KEYS[8], ARGV[5])
end
if cur then
  return 1
end
return 0
`)

// markDeliveredScript remembers that one part of a claimed job (one thread
// of a notice) was delivered, so a retry of the job skips it. Nothing is
// marked when the job was re-planned since it was claimed.
//
// KEYS: jobs data, sent. ARGV: member, json as claimed, part.
// Returns 1 when marked, 0 when the job changed.
var markDeliveredScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  return 0
end
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if cur then
  redis.call('HSET', KEYS[2], ARGV[1], cur .. '\n' .. ARGV[3])
else
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
end
return 1
`)

// claimNoticesScript takes the pending command notices recorded at or
// before a time (their replica is gone) for one caller: it re-scores each
// to now, so no other caller takes it until it is stale again (the caller
// forgets it once delivered; if the caller dies too, it is claimed again).
// A member whose data is gone is dropped, with its marks.
//
// KEYS: notices due, data, sent. ARGV: before ms, now ms, max.
// Returns, oldest first, the json of each claimed notice followed by its
// marks (the parts already dealt with, newline-separated; "" for none).
var claimNoticesScript = redis.NewScript(`
local out = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])) do
  local js = redis.call('HGET', KEYS[2], m)
  if js then
    redis.call('ZADD', KEYS[1], ARGV[2], m)
    out[#out + 1] = js
    out[#out + 1] = redis.call('HGET', KEYS[3], m) or ''
  else
    redis.call('ZREM', KEYS[1], m)
    redis.call('HDEL', KEYS[3], m)
  end
end
return out
`)

// markNoticeScript remembers that one part of a recorded notice (one
// thread) was dealt with, so a recovered notice skips it. Nothing is
// marked once the notice is forgotten.
//
// KEYS: notices data, sent. ARGV: key, part.
// Returns 1 when marked, 0 when the notice is no longer recorded.
var markNoticeScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return 0
end
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if cur then
  redis.call('HSET', KEYS[2], ARGV[1], cur .. '\n' .. ARGV[2])
else
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
return 1
`)
