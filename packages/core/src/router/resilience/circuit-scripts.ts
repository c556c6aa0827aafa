import { LuaScript } from '../../stores/redis/redis-connection.js';

/**
 * How long a circuit stays marked (its hash's `u`) after a router that cannot publish failure notices last touched it
 * (see `REPORT_CIRCUIT_SCRIPT`, `ACQUIRE_CIRCUIT_SCRIPT`).
 */
export const UNANNOUNCED_MARK_MS = 60_000;

/**
 * Lua for the Redis circuit store; the state machine mirrors `CircuitBreaker`. Per deployment: a hash
 * (`s` state c/o/h, absent = closed; `f` consecutive failures; `o` when it opened; `k` successful probes
 * of this half-open period; `u` until when its failures may go unannounced: a router touching it cannot publish
 * failure notices) and a sorted set of the probes in flight, scored by when they expire (a process that dies
 * holding a probe frees its slot after `probeTtlMs`). Both keys share the hash tag `{<deployment>}`: one cluster
 * slot. Time is Redis's (`TIME`), so every process shares one clock. A closed circuit with no failures has no keys
 * at all, but for its mark while it lasts (`CLOSE`).
 */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 's', 'f', 'o', 'u')
local s = h[1] or 'c'
local f = tonumber(h[2] or '0')
local opened = tonumber(h[3] or '0')
local u = tonumber(h[4] or '0')`;

/** Leaves the circuit's hash closed with no failures: gone, but for its mark (`u`) until that lapses. */
const CLOSE = `local function close()
  if u > now then
    redis.call('HDEL', KEYS[1], 's', 'f', 'o', 'k')
    redis.call('PEXPIRE', KEYS[1], u - now)
  else
    redis.call('DEL', KEYS[1])
  end
end`;

/** Marks the circuit (`u`, see `UNANNOUNCED_MARK_MS`), keeping its hash at least that long. */
const MARK = `local function mark()
  u = now + ${UNANNOUNCED_MARK_MS}
  redis.call('HSET', KEYS[1], 'u', u)
  if redis.call('PTTL', KEYS[1]) < ${UNANNOUNCED_MARK_MS} then redis.call('PEXPIRE', KEYS[1], ${UNANNOUNCED_MARK_MS}) end
end`;

/**
 * Admission. KEYS: hash, probes. ARGV: force (0/1), cooldownMs, halfOpenMaxProbes, probeId, probeTtlMs, keepMs,
 * unannounced (1: the admitting store cannot publish failure notices: the circuit is marked, renewed once half its
 * mark's life has passed).
 * Closed admits; open past its cooldown (or forced) turns half-open; half-open admits while fewer than
 * halfOpenMaxProbes probes are in flight (or forced), recording the probe.
 * Returns { admitted 0/1, state c/o/h, failures, openedAt, now, probes in flight }, and when closed also whether
 * the circuit is marked (1: a router that cannot publish its failures of it touched it lately).
 */
export const ACQUIRE_CIRCUIT_SCRIPT = new LuaScript(`${NOW}
${MARK}
if ARGV[7] == '1' and u - now < ${UNANNOUNCED_MARK_MS / 2} then mark() end
if s == 'c' then
  local marked = 0
  if u > now then marked = 1 end
  return { 1, 'c', f, opened, now, 0, marked }
end
local force = ARGV[1] == '1'
if s == 'o' and (force or now - opened >= tonumber(ARGV[2])) then
  s = 'h'
  redis.call('HSET', KEYS[1], 's', 'h', 'k', 0)
  redis.call('DEL', KEYS[2])
end
if s ~= 'h' then return { 0, s, f, opened, now, 0 } end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local probes = redis.call('ZCARD', KEYS[2])
local admitted = 0
if probes < tonumber(ARGV[3]) or force then
  local ttl = tonumber(ARGV[5])
  redis.call('ZADD', KEYS[2], now + ttl, ARGV[4])
  redis.call('PEXPIRE', KEYS[2], ttl)
  probes = probes + 1
  admitted = 1
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[6]))
return { admitted, 'h', f, opened, now, probes }`);

/**
 * Marks a circuit (its hash's `u`, see `UNANNOUNCED_MARK_MS`) without touching its state. KEYS: hash. Run on every
 * circuit a store created once it cannot publish failure notices, and renewed while it cannot: other routers then
 * report the successes of calls they admit there before that store's own first admission on it.
 */
export const MARK_CIRCUIT_SCRIPT = new LuaScript(`local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local u = 0
${MARK}
mark()
return 1`);

/**
 * Read-only state. KEYS: hash. ARGV: cooldownMs. Writes nothing (no transition, no probe slot, no expiry):
 * an open circuit past its cooldown answers 'h' but stays 'o' in Redis. Returns { state c/o/h, openedAt, now }.
 */
export const PEEK_CIRCUIT_SCRIPT = new LuaScript(`${NOW}
if s == 'o' and now - opened >= tonumber(ARGV[1]) then s = 'h' end
return { s, opened, now }`);

/**
 * Outcome of an attempt. KEYS: hash, probes. ARGV: outcome (s success, f failure, r release, u failure of
 * work that took no permit), probeId ('' when the attempt held no probe), failureThreshold,
 * successThreshold, keepMs, cooldownMs, channel.
 * A success clears the failure count and, for a probe of this half-open period, counts toward closing;
 * a failure counts, re-opens on a failed probe and opens a closed circuit at the threshold; an unadmitted
 * failure (a token count's) counts, opens a closed circuit at the threshold and re-opens a half-open one,
 * or an open one past its cooldown (freeing the probe slots: their probes no longer count); a release
 * only frees the probe slot. The first failure counted since there were none is published on `channel`
 * (message: the hash key), so that routers holding calls admitted with none counted report their success
 * (`pcall`: a user the ACL denies the channel still has its failure counted, the circuit is marked as one whose
 * failures may go unannounced, `u`, read by admissions, and the answer says it was not published). Closing keeps
 * that mark while it lasts. Returns { state, failures, openedAt, now, probes in flight, published 0/1 }.
 */
export const REPORT_CIRCUIT_SCRIPT = new LuaScript(`local probe = 0
if ARGV[2] ~= '' then probe = redis.call('ZREM', KEYS[2], ARGV[2]) end
${NOW}
${CLOSE}
${MARK}
local keep = tonumber(ARGV[5])
local published = 1
if ARGV[1] == 's' then
  f = 0
  if s == 'c' then
    close()
  elseif s == 'h' and probe == 1 and redis.call('HINCRBY', KEYS[1], 'k', 1) >= tonumber(ARGV[4]) then
    close()
    redis.call('DEL', KEYS[2])
    s = 'c'
  else
    redis.call('HSET', KEYS[1], 'f', 0)
    redis.call('PEXPIRE', KEYS[1], keep)
  end
elseif ARGV[1] == 'f' or ARGV[1] == 'u' then
  f = f + 1
  if f == 1 then
    local r = redis.pcall('PUBLISH', ARGV[7], KEYS[1])
    if type(r) == 'table' and r.err then
      published = 0
      mark()
    end
  end
  local unadmitted = ARGV[1] == 'u'
  local lapsed = s == 'h' or (s == 'o' and now - opened >= tonumber(ARGV[6]))
  if (s == 'h' and probe == 1) or (unadmitted and lapsed) or (s == 'c' and f >= tonumber(ARGV[3])) then
    s = 'o'
    opened = now
    redis.call('HSET', KEYS[1], 's', 'o', 'f', f, 'o', now, 'k', 0)
    redis.call('DEL', KEYS[2])
  else
    redis.call('HSET', KEYS[1], 'f', f)
  end
  redis.call('PEXPIRE', KEYS[1], keep)
end
local probes = 0
if s == 'h' then probes = redis.call('ZCOUNT', KEYS[2], '(' .. now, '+inf') end
return { s, f, opened, now, probes, published }`);

/**
 * Reset: closes the circuit for every router. KEYS: hash, probes. Its mark (`u`) stays while it lasts: the router
 * that cannot announce its failures is still there.
 */
export const RESET_CIRCUIT_SCRIPT = new LuaScript(`${NOW}
${CLOSE}
close()
redis.call('DEL', KEYS[2])
return 1`);
