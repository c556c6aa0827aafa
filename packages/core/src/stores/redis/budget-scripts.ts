import { LuaScript } from './redis-connection.js';

/**
 * Lua for the Redis budget store. Per tenant and period: a hash (`settled`, `reserved`, and
 * `r:<id>` = amount of each live reservation) and a sorted set of live reservation ids scored by
 * expiry. Per reservation: a small hash (bucket keys, amount, state) kept for a week past its TTL so settle and
 * release stay idempotent; the store deletes it once a settle or release of it is answered (a retry of one whose
 * answer was lost still finds it). Amounts are integer nano-dollars.
 *
 * A decrement is written `0 - n` and skipped for 0: Lua's `-n` of 0 is -0, which Redis formats as "-0" and
 * HINCRBY refuses ("value is not an integer"), so a $0 reservation could be neither settled, released nor
 * purged, and an expired one failed its tenant's next reservation.
 */
const PURGE = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, rid in ipairs(expired) do
  local amt = redis.call('HGET', KEYS[1], 'r:' .. rid)
  if amt then
    redis.call('HDEL', KEYS[1], 'r:' .. rid)
    if tonumber(amt) ~= 0 then redis.call('HINCRBY', KEYS[1], 'reserved', 0 - tonumber(amt)) end
  end
  redis.call('ZREM', KEYS[2], rid)
end
local settled = tonumber(redis.call('HGET', KEYS[1], 'settled') or '0')
local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')`;

/** The members of a tenant's open set each reserve tied to a ledger row looks at (and removes when stale). */
const PRUNE_SAMPLE = 3;

/**
 * Lua condition: an open set's member is stale, given `rec` = its record's HMGET of `state`, `exp`, `open`, the set's
 * name and a horizon (ms) in Lua variables: its record is gone or finished, belongs to another set, or its expiry is
 * more than the horizon ago (a crashed process's, whose settlement will never come).
 */
const STALE = (set: string, horizon: string) => `(rec[1] ~= 'reserved' or rec[3] ~= ${set} or tonumber(rec[2] or '0') + ${horizon} <= now)`;

/**
 * KEYS: bucket hash, expiry zset, reservation hash, and (for a reservation with a ledger id) the tenant's set of open
 * reservations tied to a ledger row. ARGV: limit, amount, ttlMs, reservationId,
 * periodEnd (epoch ms, 0 = never expires), reservationKeepMs, bucketKeepMs, force (1: the limit is not checked: a
 * charge already spent, see `BudgetReserveRequest.force`), ledger id (empty: none), the reservation keys' prefix, the
 * open set's horizon (ms), then, for each other period at the reservation's time, its bucket key and period end (kept
 * in the record as `o<i>`/`e<i>`: `finish` adds a settled cost to those buckets too). The bucket is kept bucketKeepMs
 * after its period ends, or after now for a period that has ended (a reservation `at` a past time). An id whose reservation is open returns it (`existing`); one whose record is
 * finished (settled or released, kept because that finish's answer was lost) is reserved anew: returning the finished
 * one made its caller run on a reservation that holds nothing and whose settlement changes nothing (the cost lost).
 * A reservation with a ledger id keeps it (`lid`), the set's name (`open`) and its expiry (`exp`, epoch ms) in its record
 * and is added to the set (kept at least as long as the record), which `FINISH_SCRIPT` removes it from; that reserve
 * then looks at `PRUNE_SAMPLE` random members of the set and removes each stale one (see `STALE`): the set is otherwise
 * only cleaned when `UNSETTLED_SCRIPT` reads it, and each reserve pushes its expiry out, so the reservations never
 * finished (a crashed process's, a reserve whose answer was lost) would pile up under steady traffic.
 * Returns { ok, remaining, existing }.
 */
export const RESERVE_SCRIPT = new LuaScript(`${PURGE}
local limit = tonumber(ARGV[1])
local amount = tonumber(ARGV[2])
local state = redis.call('HGET', KEYS[3], 'state')
if state == 'reserved' then
  return { 1, string.format('%.0f', limit - settled - reserved), 1 }
end
if state then redis.call('DEL', KEYS[3]) end
if ARGV[8] ~= '1' and settled + reserved + amount > limit then
  return { 0, string.format('%.0f', limit - settled - reserved), 0 }
end
redis.call('HINCRBY', KEYS[1], 'reserved', ARGV[2])
redis.call('HSET', KEYS[1], 'r:' .. ARGV[4], ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[4])
redis.call('HSET', KEYS[3], 'bucket', KEYS[1], 'zset', KEYS[2], 'amount', ARGV[2], 'state', 'reserved')
for i = 12, #ARGV - 1, 2 do
  local n = (i - 10) / 2
  redis.call('HSET', KEYS[3], 'o' .. n, ARGV[i], 'e' .. n, ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[3], ARGV[6])
if KEYS[4] then
  redis.call('HSET', KEYS[3], 'lid', ARGV[9], 'open', KEYS[4], 'exp', string.format('%.0f', now + tonumber(ARGV[3])))
  redis.call('SADD', KEYS[4], ARGV[4])
  if redis.call('PTTL', KEYS[4]) < tonumber(ARGV[6]) then redis.call('PEXPIRE', KEYS[4], ARGV[6]) end
  local horizon = tonumber(ARGV[11])
  for _, id in ipairs(redis.call('SRANDMEMBER', KEYS[4], ${PRUNE_SAMPLE})) do
    if id ~= ARGV[4] then
      local rec = redis.call('HMGET', ARGV[10] .. id, 'state', 'exp', 'open')
      if ${STALE('KEYS[4]', 'horizon')} then redis.call('SREM', KEYS[4], id) end
    end
  end
end
if ARGV[5] ~= '0' then
  local expireAt = math.max(tonumber(ARGV[5]), now) + tonumber(ARGV[7])
  redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', expireAt))
  redis.call('PEXPIREAT', KEYS[2], string.format('%.0f', expireAt))
end
return { 1, string.format('%.0f', limit - settled - reserved - amount), 0 }`);

/**
 * KEYS: reservation hash, bucket hash, expiry zset, then the other periods' bucket hashes (from the record's `o<i>`).
 * ARGV: reservationId, mode (`settle`|`release`), actual, bucketKeepMs, then each other bucket's period end (epoch ms,
 * 0 = never expires). A settlement adds the actual cost to every bucket's `settled` (each period's counter at the
 * reservation's time: a budget whose period changes finds it there); an other bucket this creates is kept
 * bucketKeepMs after its period ends (or after now), one that exists keeps its expiry. A reservation with a ledger id
 * leaves its tenant's set of open ones (named in its record, as `RENEW_SCRIPT` reads the expiry set). Returns 1 when it
 * changed something, 0 when the reservation was already finished.
 */
export const FINISH_SCRIPT = new LuaScript(`local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'reserved' then return 0 end
local open = redis.call('HGET', KEYS[1], 'open')
if open then redis.call('SREM', open, ARGV[1]) end
local amt = redis.call('HGET', KEYS[2], 'r:' .. ARGV[1])
if amt then
  redis.call('HDEL', KEYS[2], 'r:' .. ARGV[1])
  if tonumber(amt) ~= 0 then redis.call('HINCRBY', KEYS[2], 'reserved', 0 - tonumber(amt)) end
  redis.call('ZREM', KEYS[3], ARGV[1])
end
if ARGV[2] == 'settle' then
  redis.call('HINCRBY', KEYS[2], 'settled', ARGV[3])
  if #KEYS > 3 and ARGV[3] ~= '0' then
    local amount = tonumber(ARGV[3])
    local now
    for i = 4, #KEYS do
      local ends = ARGV[i + 1]
      -- An expiry only for a counter with none yet: one this settlement created (its sum is the amount), never
      -- lowering the longer one a reservation in that period gave it.
      if tonumber(redis.call('HINCRBY', KEYS[i], 'settled', ARGV[3])) == amount and ends ~= '0' and redis.call('PTTL', KEYS[i]) == -1 then
        if not now then
          local t = redis.call('TIME')
          now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end
        redis.call('PEXPIREAT', KEYS[i], string.format('%.0f', math.max(tonumber(ends), now) + tonumber(ARGV[4])))
      end
    end
  end
  redis.call('HSET', KEYS[1], 'state', 'settled')
else
  redis.call('HSET', KEYS[1], 'state', 'released')
end
return 1`);

/** KEYS: bucket hash, expiry zset. Returns { settled, reserved } after dropping expired reservations. */
export const SPENT_SCRIPT = new LuaScript(`${PURGE}
return { string.format('%.0f', settled), string.format('%.0f', reserved) }`);

/**
 * KEYS: one reservation hash per reservation. ARGV: ttlMs, the reservation ids (same order), keepMs. Extends each
 * reservation still open (state `reserved`, not yet expired) to ttlMs from now (in its expiry set, and its
 * record's lifetime, to at least ttlMs + keepMs; one with a ledger id its `exp` and its set of open ones too). The
 * bucket and set keys come from each record, as `finish` reads them: one Redis.
 */
export const RENEW_SCRIPT = new LuaScript(`local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 1, #KEYS do
  local rec = redis.call('HMGET', KEYS[i], 'state', 'zset', 'open')
  if rec[1] == 'reserved' and rec[2] then
    local id = ARGV[i + 1]
    local exp = redis.call('ZSCORE', rec[2], id)
    if exp and tonumber(exp) > now then
      redis.call('ZADD', rec[2], now + ttl, id)
      local keep = redis.call('PTTL', KEYS[i])
      if keep >= 0 and keep < ttl + tonumber(ARGV[2 + #KEYS]) then redis.call('PEXPIRE', KEYS[i], ttl + tonumber(ARGV[2 + #KEYS])) end
      if rec[3] then
        redis.call('HSET', KEYS[i], 'exp', string.format('%.0f', now + ttl))
        if redis.call('PTTL', rec[3]) < ttl + tonumber(ARGV[2 + #KEYS]) then redis.call('PEXPIRE', rec[3], ttl + tonumber(ARGV[2 + #KEYS])) end
      end
    end
  end
end
return 1`);

/**
 * KEYS: bucket hash, expiry zset, then the reservation hash of each pending ledger row. ARGV: settled (nano-dollars),
 * periodEnd (epoch ms, 0 = never expires), bucketKeepMs, then each pending row's ledger id and cost (nano-dollars).
 * Raises the bucket's `settled` to ARGV[1], less the cost of each pending row whose reservation is still open (its
 * settlement will add it), when it is less (never lowers it); a bucket it creates is kept as `reserve` keeps one.
 * Returns 1 when it raised.
 */
export const RAISE_SETTLED_SCRIPT = new LuaScript(`local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local target = tonumber(ARGV[1])
for i = 3, #KEYS do
  local rec = redis.call('HMGET', KEYS[i], 'state', 'lid')
  if rec[1] == 'reserved' and rec[2] == ARGV[2 * i - 2] then target = target - tonumber(ARGV[2 * i - 1]) end
end
local settled = tonumber(redis.call('HGET', KEYS[1], 'settled') or '0')
if settled >= target then return 0 end
redis.call('HSET', KEYS[1], 'settled', string.format('%.0f', target))
if ARGV[2] ~= '0' and redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', math.max(tonumber(ARGV[2]), now) + tonumber(ARGV[3])))
end
return 1`);

/**
 * KEYS: a tenant's set of open reservations tied to a ledger row. ARGV: the reservation keys' prefix, settleForMs, an
 * SSCAN cursor, its COUNT, the set's own horizon (the store's `UNSETTLED_HORIZON_MS`, at least settleForMs). One SSCAN
 * step: returns { next cursor, reservationId, ledgerId, ... } of the members it gave whose record is still open
 * (`reserved`, of this set) and whose expiry is less than settleForMs ago; a member whose record is gone, finished, or
 * past the set's own horizon (a crashed process's) leaves the set; one between the two horizons stays, unlisted (a
 * caller's shorter horizon never drops what a longer one would list). A chunk per call, so no call holds Redis for
 * the whole set (the store walks the cursor to 0).
 */
export const UNSETTLED_SCRIPT = new LuaScript(`local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local listFor = tonumber(ARGV[2])
local keepFor = tonumber(ARGV[5])
local scan = redis.call('SSCAN', KEYS[1], ARGV[3], 'COUNT', ARGV[4])
local out = { scan[1] }
for _, id in ipairs(scan[2]) do
  local rec = redis.call('HMGET', ARGV[1] .. id, 'state', 'exp', 'open', 'lid')
  if ${STALE('KEYS[1]', 'keepFor')} or not rec[4] then
    redis.call('SREM', KEYS[1], id)
  elseif tonumber(rec[2] or '0') + listFor > now then
    out[#out + 1] = id
    out[#out + 1] = rec[4]
  end
end
return out`);
