import { GCRA_MAX_DRAIN_MS } from '../../tenancy/gcra.js';
import { LuaScript } from './redis-connection.js';

/**
 * Lua for the Redis rate limiter; the arithmetic mirrors `tenancy/gcra.ts`. Time comes from Redis
 * (`TIME`, whole ms as `Date.now()`, so the levels stay integers), so every gateway process shares one
 * clock. Per scope the keys are: the GCRA bucket for rpm and for tpm (`"<at> <level> <limit>"`, see
 * `GcraState`; the key expires when the bucket is full again, whatever the limit becomes), and a sorted set
 * of concurrency leases scored by expiry.
 */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local W = 60000
local MAXD = ${GCRA_MAX_DRAIN_MS}`;

/**
 * Storing a bucket (taken now, never more than `GCRA_MAX_DRAIN_MS` from full, so its expiry is an integer below
 * 2^53; deleted when full), and its level now under `limit`: under another limit than its own it keeps the time
 * still to drain (`mulDivCeil`, the same steps as in `gcra.ts`); a clock behind its time (stepped back) drains
 * nothing, and the bucket is stored again taken now, so that it drains from the earlier time (see `gcraRebase`).
 */
const BUCKET = `local function store(key, l, limit)
  l = math.min(l, limit * MAXD)
  if l > 0 then
    redis.call('SET', key, string.format('%.17g %.17g %.17g', now, l, limit), 'PX', string.format('%.0f', math.ceil(l / limit) + 1000))
  else
    redis.call('DEL', key)
  end
end
local function mulDivCeil(a, b, c)
  local r = math.fmod(a, c)
  local whole = (a - r) / c * b
  local q, m, bit, rest = 0, 0, 1, b
  while bit * 2 <= b do bit = bit * 2 end
  while bit >= 1 do
    q = q * 2
    m = m * 2
    if m >= c then q = q + 1; m = m - c end
    if rest >= bit then
      rest = rest - bit
      m = m + r
      if m >= c then q = q + 1; m = m - c end
    end
    bit = bit / 2
  end
  if m > 0 then q = q + 1 end
  return whole + q
end
local function level(key, limit)
  local v = redis.call('GET', key)
  if not v then return 0 end
  local at, l, was = string.match(v, '^(%S+) (%S+) (%S+)$')
  at = tonumber(at)
  l = tonumber(l)
  was = tonumber(was)
  if at > now then
    store(key, l, was)
  else
    l = math.max(l - (now - at) * was, 0)
  end
  if was == limit then return l end
  return mulDivCeil(l, limit, was)
end`;

/**
 * A lease set expires 60 s after its longest lease: taking or renewing a lease of `ttl` from now may push the
 * expiry later, never earlier (a short lease must not drop the set while a long one is held).
 */
const LEASES = `local function keepLeases(key, ttl)
  if redis.call('PTTL', key) < ttl + 60000 then redis.call('PEXPIRE', key, string.format('%.0f', ttl + 60000)) end
end`;

/**
 * Appends to `out`, for scopes 1 to `count` (a Lua expression) with 3 keys each (rpm, tpm, leases), the rpm bucket,
 * the tpm bucket and the leases live now: the states `RedisRateLimiter` reads back from the acquire and peek scripts.
 */
function scopeStates(count: string): string {
  return `for i = 1, ${count} do
  local k = (i - 1) * 3
  out[#out + 1] = redis.call('GET', KEYS[k + 1]) or ''
  out[#out + 1] = redis.call('GET', KEYS[k + 2]) or ''
  out[#out + 1] = tostring(redis.call('ZCOUNT', KEYS[k + 3], now, '+inf'))
end`;
}

/** The peek scripts' answer: { now, then the states of scopes 1 to `count` } (see `scopeStates`). */
function peekAnswer(count: string): string {
  return `local out = { string.format('%.3f', now) }
${scopeStates(count)}
return out`;
}

/**
 * KEYS: 3 per scope (rpm, tpm, leases). ARGV: n, cost, leaseId, leaseTtlMs, then rpm, tpm, maxConcurrency
 * per scope (0 = none). Returns { granted, kind, scopeIndex, retryAfterMs (whole ms, rounded up as in memory),
 * now, then rpm bucket, tpm bucket, inFlight per scope, then per scope the part of the token charge the debt cap
 * dropped (see `GcraCheck.uncharged`) }.
 */
export const ACQUIRE_SCRIPT = new LuaScript(`${NOW}
${BUCKET}
${LEASES}
local n = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local lease = ARGV[3]
local ttl = tonumber(ARGV[4])
local worstRetry = -1
local worstKind = ''
local worstScope = 0
local sets = {}
local uncharged = {}
local function check(key, limit, c, kind, i)
  local l = level(key, limit)
  local over = l + (math.min(c, limit) - limit) * W
  if over > 0 then
    if over / limit > worstRetry then worstRetry = over / limit; worstKind = kind; worstScope = i end
  else
    sets[#sets + 1] = { key, l + c * W, limit }
    if kind == 'tpm' then uncharged[i] = math.max(l + c * W - limit * MAXD, 0) end
  end
end
for i = 1, n do
  local a = 4 + (i - 1) * 3
  local k = (i - 1) * 3
  local rpm = tonumber(ARGV[a + 1])
  local tpm = tonumber(ARGV[a + 2])
  local mc = tonumber(ARGV[a + 3])
  if rpm > 0 then check(KEYS[k + 1], rpm, 1, 'rpm', i) end
  if tpm > 0 and cost > 0 then check(KEYS[k + 2], tpm, cost, 'tpm', i) end
  if mc > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[k + 3], '-inf', now)
    if redis.call('ZCARD', KEYS[k + 3]) >= mc and 1000 > worstRetry then
      worstRetry = 1000; worstKind = 'concurrency'; worstScope = i
    end
  end
end
local granted = 0
if worstRetry < 0 then
  granted = 1
  for _, s in ipairs(sets) do store(s[1], s[2], s[3]) end
  for i = 1, n do
    if tonumber(ARGV[4 + (i - 1) * 3 + 3]) > 0 then
      local ck = KEYS[(i - 1) * 3 + 3]
      redis.call('ZADD', ck, now + ttl, lease)
      keepLeases(ck, ttl)
    end
  end
end
local out = { granted, worstKind, worstScope, string.format('%.0f', math.ceil(math.max(worstRetry, 0))), string.format('%.3f', now) }
${scopeStates('n')}
for i = 1, n do out[#out + 1] = string.format('%.17g', uncharged[i] or 0) end
return out`);

/**
 * KEYS: 2 per scope (tpm, leases), then the lease's release marker. ARGV: n, leaseId, tokenDelta, then tpm per scope
 * (0 = none), then per scope what the debt cap dropped from the charge (ACQUIRE_SCRIPT's last values), then the
 * marker's TTL (ms). Frees the lease and corrects the token charge by tokenDelta (negative refunds, never below
 * "full"), refunding only what was charged. Idempotent: the correction is made only by the run that sets the marker
 * (`SET NX`), so a release tried again after one whose answer was lost (its script ran) corrects nothing more, and one
 * tried again after one that never reached Redis corrects, whether its lease is still in its set or expired meanwhile.
 * No correction to make (tokenDelta 0, no tpm): no marker. The caller deletes the marker once the answer has come back
 * (`RedisRateLimiter.releaseLease`): only a release whose answer was lost leaves one to its TTL.
 */
export const RELEASE_SCRIPT = new LuaScript(releaseLua(false));

/**
 * `RELEASE_SCRIPT` that then answers as `PEEK_SCRIPT` does, in the same run: KEYS 3 per scope (rpm, tpm, leases), then
 * the lease's release marker; ARGV as `RELEASE_SCRIPT`'s. Returns { now, then rpm bucket, tpm bucket, inFlight per
 * scope } as they are once the lease is released (`RateLease.releaseAndPeek`: one round trip, not a release and a peek).
 */
export const RELEASE_PEEK_SCRIPT = new LuaScript(releaseLua(true));

/** The release scripts' Lua: with `peek`, each scope's rpm key comes first (3 keys per scope) and the states are returned. */
function releaseLua(peek: boolean): string {
  const stride = peek ? 3 : 2;
  const tpmKey = peek ? '(i - 1) * 3 + 2' : '(i - 1) * 2 + 1';
  const leasesKey = peek ? '(i - 1) * 3 + 3' : '(i - 1) * 2 + 2';
  const answer = peek ? peekAnswer('n') : 'return 1';
  return `${NOW}
${BUCKET}
local n = tonumber(ARGV[1])
local delta = tonumber(ARGV[3])
local tpms = false
for i = 1, n do
  redis.call('ZREM', KEYS[${leasesKey}], ARGV[2])
  if tonumber(ARGV[3 + i]) > 0 then tpms = true end
end
if delta ~= 0 and tpms and redis.call('SET', KEYS[${stride} * n + 1], '1', 'NX', 'PX', ARGV[4 + 2 * n]) then
  for i = 1, n do
    local tpm = tonumber(ARGV[3 + i])
    if tpm > 0 then
      local key = KEYS[${tpmKey}]
      store(key, math.max(level(key, tpm) + delta * W + (tonumber(ARGV[3 + n + i]) or 0), 0), tpm)
    end
  end
end
${answer}`;
}

/**
 * KEYS: one lease set per lease and scope. ARGV: leaseId and leaseTtlMs per key. Extends each lease still
 * live (present, not expired: an expired one's slot may be someone else's by now) to its TTL from now.
 */
export const RENEW_SCRIPT = new LuaScript(`${NOW}
${LEASES}
for i = 1, #KEYS do
  local id = ARGV[(i - 1) * 2 + 1]
  local ttl = tonumber(ARGV[(i - 1) * 2 + 2])
  local exp = redis.call('ZSCORE', KEYS[i], id)
  if exp and tonumber(exp) > now then
    redis.call('ZADD', KEYS[i], now + ttl, id)
    keepLeases(KEYS[i], ttl)
  end
end
return 1`);

/** KEYS: 3 per scope. Returns { now, then rpm bucket, tpm bucket, inFlight per scope } without changing anything. */
export const PEEK_SCRIPT = new LuaScript(`${NOW}
${peekAnswer('#KEYS / 3')}`);
