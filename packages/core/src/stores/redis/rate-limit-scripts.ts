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
local W = 60000`;

/**
 * Storing a bucket (taken now; deleted when full), and its level now under `limit`: under another limit than its
 * own it keeps the time still to drain; a clock behind its time (stepped back) drains nothing, and the bucket is
 * stored again taken now, so that it drains from the earlier time (see `gcraRebase`).
 */
const BUCKET = `local function store(key, l, limit)
  if l > 0 then
    redis.call('SET', key, string.format('%.17g %.17g %.17g', now, l, limit), 'PX', math.ceil(l / limit) + 1000)
  else
    redis.call('DEL', key)
  end
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
  return math.ceil(l / was * limit)
end`;

/**
 * KEYS: 3 per scope (rpm, tpm, leases). ARGV: n, cost, leaseId, leaseTtlMs, then rpm, tpm, maxConcurrency
 * per scope (0 = none). Returns { granted, kind, scopeIndex, retryAfterMs, now, then rpm bucket, tpm bucket, inFlight per scope }.
 */
export const ACQUIRE_SCRIPT = new LuaScript(`${NOW}
${BUCKET}
local n = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local lease = ARGV[3]
local ttl = tonumber(ARGV[4])
local worstRetry = -1
local worstKind = ''
local worstScope = 0
local sets = {}
local function check(key, limit, c, kind, i)
  local l = level(key, limit)
  local over = l + (math.min(c, limit) - limit) * W
  if over > 0 then
    if over / limit > worstRetry then worstRetry = over / limit; worstKind = kind; worstScope = i end
  else
    sets[#sets + 1] = { key, l + c * W, limit }
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
      redis.call('PEXPIRE', ck, ttl + 60000)
    end
  end
end
local out = { granted, worstKind, worstScope, string.format('%.3f', math.max(worstRetry, 0)), string.format('%.3f', now) }
for i = 1, n do
  local k = (i - 1) * 3
  out[#out + 1] = redis.call('GET', KEYS[k + 1]) or ''
  out[#out + 1] = redis.call('GET', KEYS[k + 2]) or ''
  out[#out + 1] = tostring(redis.call('ZCOUNT', KEYS[k + 3], now, '+inf'))
end
return out`);

/**
 * KEYS: 2 per scope (tpm, leases). ARGV: n, leaseId, tokenDelta, then tpm per scope (0 = none).
 * Frees the lease and corrects the token charge by tokenDelta (negative refunds, never below "full").
 */
export const RELEASE_SCRIPT = new LuaScript(`${NOW}
${BUCKET}
local n = tonumber(ARGV[1])
local delta = tonumber(ARGV[3])
for i = 1, n do
  redis.call('ZREM', KEYS[(i - 1) * 2 + 2], ARGV[2])
  local tpm = tonumber(ARGV[3 + i])
  if tpm > 0 and delta ~= 0 then
    local key = KEYS[(i - 1) * 2 + 1]
    store(key, math.max(level(key, tpm) + delta * W, 0), tpm)
  end
end
return 1`);

/**
 * KEYS: one lease set per lease and scope. ARGV: leaseId and leaseTtlMs per key. Extends each lease still
 * live (present, not expired: an expired one's slot may be someone else's by now) to its TTL from now.
 */
export const RENEW_SCRIPT = new LuaScript(`${NOW}
for i = 1, #KEYS do
  local id = ARGV[(i - 1) * 2 + 1]
  local ttl = tonumber(ARGV[(i - 1) * 2 + 2])
  local exp = redis.call('ZSCORE', KEYS[i], id)
  if exp and tonumber(exp) > now then
    redis.call('ZADD', KEYS[i], now + ttl, id)
    redis.call('PEXPIRE', KEYS[i], ttl + 60000)
  end
end
return 1`);

/** KEYS: 3 per scope. Returns { now, then rpm bucket, tpm bucket, inFlight per scope } without changing anything. */
export const PEEK_SCRIPT = new LuaScript(`${NOW}
local out = { string.format('%.3f', now) }
for i = 1, #KEYS / 3 do
  local k = (i - 1) * 3
  out[#out + 1] = redis.call('GET', KEYS[k + 1]) or ''
  out[#out + 1] = redis.call('GET', KEYS[k + 2]) or ''
  out[#out + 1] = tostring(redis.call('ZCOUNT', KEYS[k + 3], now, '+inf'))
end
return out`);
