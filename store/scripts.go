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

// createScript stores a new upgrade.
//
// KEYS: data, log, acks. ARGV: json, decision json, log maxlen, ttl ms (0 = none).
// Returns 1, or 0 when the upgrade already exists.
var createScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'rev', '1', 'json', ARGV[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'decision', ARGV[2])
if ARGV[4] ~= '0' then
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
end
return 1
`)

// updateScript is the compare-and-set of an upgrade.
//
// KEYS: data, log, acks. ARGV: json, new rev, decision json (” = none),
// log maxlen, ttl ms (0 = keep forever).
// Returns 1 when saved, 0 when the stored rev is not new rev - 1, -1 when the
// upgrade does not exist.
var updateScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'rev')
if not cur then
  return -1
end
if tonumber(cur) ~= tonumber(ARGV[2]) - 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'rev', ARGV[2], 'json', ARGV[1])
if ARGV[3] ~= '' then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'decision', ARGV[3])
end
for i = 1, 3 do
  if ARGV[5] ~= '0' then
    redis.call('PEXPIRE', KEYS[i], ARGV[5])
  else
    redis.call('PERSIST', KEYS[i])
  end
end
return 1
`)

// ackScript records an acknowledgment if none stands for the field yet.
//
// KEYS: data, acks, log. ARGV: field (scope|who), ack json, decision json, log maxlen.
// Returns {1, ack json} when this one is first, {0, standing ack json} when
// one stood already, {-1} when the upgrade does not exist.
var ackScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {-1}
end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then
  return {0, redis.call('HGET', KEYS[2], ARGV[1])}
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'decision', ARGV[3])
-- a finished upgrade expires as one: the new acks hash follows the data's TTL
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[2], ttl)
  redis.call('PEXPIRE', KEYS[3], ttl)
end
return {1, ARGV[2]}
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
// KEYS: jobs due, inflight, data, by:N, revs. ARGV: now ms, upgrade id, the
// revision planned from, then triples of member, due ms, json. A revision
// older than the one in revs is ignored; an empty plan forgets the revision
// (a late, older plan of a finished upgrade is then harmless: its jobs are
// skipped as stale when they fall due). A job whose json is unchanged is left where it is
// (due or in flight), so it falls due once; a changed one goes back to due
// with its new score. A job due at or before now is only ever kept, never
// added: overdue-and-unsent stays, already-sent stays gone.
var replaceJobsScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local last = tonumber(redis.call('HGET', KEYS[5], ARGV[2]) or '0')
if tonumber(ARGV[3]) < last then
  return 0
end
if #ARGV > 3 then
  redis.call('HSET', KEYS[5], ARGV[2], ARGV[3])
else
  redis.call('HDEL', KEYS[5], ARGV[2])
end
local keep = {}
for i = 4, #ARGV, 3 do
  if tonumber(ARGV[i + 1]) > now or redis.call('HGET', KEYS[3], ARGV[i]) == ARGV[i + 2] then
    keep[ARGV[i]] = true
  end
end
for _, m in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  if not keep[m] then
    redis.call('ZREM', KEYS[1], m)
    redis.call('ZREM', KEYS[2], m)
    redis.call('HDEL', KEYS[3], m)
    redis.call('SREM', KEYS[4], m)
  end
end
for i = 4, #ARGV, 3 do
  local m = ARGV[i]
  if keep[m] and redis.call('HGET', KEYS[3], m) ~= ARGV[i + 2] then
    redis.call('ZREM', KEYS[2], m)
    redis.call('ZADD', KEYS[1], ARGV[i + 1], m)
    redis.call('HSET', KEYS[3], m, ARGV[i + 2])
    redis.call('SADD', KEYS[4], m)
  end
end
return 1
`)

// claimScript leases due jobs to one caller.
//
// KEYS: jobs due, inflight, data. ARGV: now ms, lease-until ms, max.
// Jobs whose lease ran out go back to due first, at their original due time
// (the "due_ms" field that the store puts first in every job's json).
// Returns the json of the claimed jobs, earliest first.
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
  end
end
return out
`)

// doneScript removes a finished job, but only the version that was claimed:
// a job replaced meanwhile (new due time) stays.
//
// KEYS: jobs due, inflight, data, by:N. ARGV: member, json.
// Returns 1 when removed, 0 when the job was gone or had changed.
var doneScript = redis.NewScript(`
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then
  return 0
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
return 1
`)
