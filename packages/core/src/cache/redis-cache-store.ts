import { LLMError } from '../errors/llm-error.js';
import { bounded, connectRedis, LuaScript, storeTimeoutMs, type RedisHandle } from '../stores/redis/redis-connection.js';
import type { CacheStore } from './cache-store.js';

export interface RedisCacheStoreOptions {
  /** Put before every cache key in Redis. Default `llmrr:cache:`. */
  keyPrefix?: string;
  /** TTL of entries whose `set` gives none (ms). Absent: such entries live until Redis evicts them. */
  ttlMs?: number;
  /** Keys asked for per SCAN step by `deleteByPrefix` and `clear`. Default 500. */
  scanCount?: number;
  /**
   * Each Redis command that takes longer fails with `store_unavailable` (the router then treats the lookup as a
   * miss, or skips the store). Default 1000 ms.
   */
  timeoutMs?: number;
  /**
   * Bound on the bytes the entries take in Redis, kept by the store itself (for a Redis it shares with other data,
   * e.g. the shared-mode limits and budgets, whose keys Redis's own `maxmemory` eviction must never touch). Each
   * entry counts its JSON as allocated (the allocator's size class: up to a quarter more), four times its key and
   * `ENTRY_OVERHEAD_BYTES` (Redis's own structures; `redisEntryCost`) until it is
   * deleted or its TTL has passed. A write first forgets entries Redis has expired, then, when the sum would pass the
   * bound, drops the least recently used entries (written or hit: a hit is one script, GET and the entry's last use,
   * still one round trip; an entry indexed by a version before the last use counts as used least recently once a write
   * has looked at it: `MAX_ADOPTED_LOOKS_PER_WRITE` index members a write). One write
   * removes at most `MAX_REMOVALS_PER_WRITE` entries and stores its own only if it then fits (the next writes go on
   * trimming). An entry larger than the bound on its own is not stored.
   * Absent: no bound (a Redis of the cache's own, bounded by its `maxmemory` and `allkeys-lru`).
   */
  maxBytes?: number;
}

/**
 * What an entry costs in Redis besides its JSON's allocation (`allocatedBytes`) and four copies of its key (the entry's
 * own, and one in each of the bound's `order`, `sizes` and `used`): the keyspace's and the index's structures, the TTL,
 * the rounding of the keys' allocations. Measured with `INFO memory` over 4000 entries (keys of 99 bytes, JSON of 12
 * to 3002 bytes, with and without a TTL, Redis 7, jemalloc): 344 to 484 bytes besides; counted with some room.
 */
export const ENTRY_OVERHEAD_BYTES = 560;

/**
 * The bytes jemalloc (Redis's allocator) takes for `n` requested: its size class, four to each doubling (8, 16, 32, 48,
 * 64, 80, ... 2048, 2560, 3072, ... 16384, 20480, ...), so up to a quarter more (a 65 540-byte JSON takes 81 920).
 */
export function allocatedBytes(n: number): number {
  if (n <= 8) return 8;
  if (n <= 16) return 16;
  let p = 32;
  while (p < n) p *= 2;
  const step = Math.max(16, p / 8);
  return Math.ceil(n / step) * step;
}

/**
 * What an entry of `LARGE_JSON_BYTES` of JSON or more takes in Redis besides what `redisEntryCost` otherwise counts
 * for it. Measured with `INFO memory` (Redis 7.0, jemalloc 5.3; 3 to 40 entries of each size, just past a size class,
 * several runs): a count without it fell short by 0 to 240 bytes an entry at 1 MiB of JSON, 350 to 490 at 2 MiB, 680
 * to 1 300 at 4 MiB, up to 1 300 at 8 MiB and 1 550 at 16 MiB (none at 32 MiB); counted with some room.
 */
export const LARGE_ENTRY_MARGIN_BYTES = 2_048;
/**
 * The JSON length (bytes) from which an entry counts `LARGE_ENTRY_MARGIN_BYTES` more: 4 KiB below 1 MiB (1 044 480).
 * At 1 048 560 bytes, a count without the margin was -79 to +169 bytes short of what the entry took (measured as
 * above): within the measurement's noise of 1 MiB, so the margin starts a little before it.
 */
export const LARGE_JSON_BYTES = 1_048_576 - 4_096;

/**
 * What a bounded store counts for an entry (the same sum as its write's script): its JSON's allocation in Redis (the
 * string's header and terminator included: `allocatedBytes`), four times its key (`keyBytes`: its UTF-8 bytes, prefix
 * included), `ENTRY_OVERHEAD_BYTES`, and for JSON of `LARGE_JSON_BYTES` (4 KiB below 1 MiB) or more `LARGE_ENTRY_MARGIN_BYTES`. Measured with `INFO
 * memory` and `MEMORY USAGE` (Redis 7.0, jemalloc 5.3; JSON of 12 to 33 554 450 bytes, sizes just past a size class
 * the worst): at least what an entry takes.
 */
export function redisEntryCost(jsonBytes: number, keyBytes: number): number {
  const margin = jsonBytes >= LARGE_JSON_BYTES ? LARGE_ENTRY_MARGIN_BYTES : 0;
  return allocatedBytes(jsonBytes + sdsHeaderBytes(jsonBytes) + 1) + 4 * keyBytes + ENTRY_OVERHEAD_BYTES + margin;
}

/** The header of a Redis string (sds) of `n` bytes (its length's width picks the type). */
function sdsHeaderBytes(n: number): number {
  return n < 256 ? 3 : n < 65_536 ? 5 : 9;
}

const DEFAULT_PREFIX = 'llmrr:cache:';
const DEFAULT_TIMEOUT_MS = 1_000;

/**
 * Most index members one write removes (expired ones and evictions together): a write's script stays short (some
 * 130 commands for them, one per member and a few more, besides the members it looks at and keeps, at most
 * `MAX_LOOKED_AT_PER_WRITE` and `MAX_ADOPTED_LOOKS_PER_WRITE`) however far the entries are past the bound, e.g.
 * after a restart with a smaller one; later writes finish the trim.
 */
export const MAX_REMOVALS_PER_WRITE = 100;

/**
 * Most members of `used` with no entry (left by a previous version's eviction or deletion; dropped, not counted as
 * removals) one write passes over while looking for the least recently used entries. One O(1) lookup each: the write
 * that passes 1000 of them takes 3 to 4 ms of Redis time (`INFO commandstats`, at 10 000 and 100 000 entries; Redis
 * 7.0, a loaded 2-core host). 1000 before every live entry make that one write go unstored (they are gone for the next).
 */
export const MAX_LOOKED_AT_PER_WRITE = 1_000;

/**
 * Members of `order` one write looks at for entries with no last use (written by a version before `used`, or by such a
 * process during a rolling upgrade), from where the previous write stopped (`#bound:adopt`, a rank; back to the start
 * after the last member): each found gets the oldest last use (0), so it is dropped before every entry used since.
 * After an upgrade with n entries, n / this many writes adopt them all (a hit adopts its entry at once); eviction is
 * then plain least-recently-used. Its own budget: it never takes from the looks or removals of the eviction, so a
 * write is stored whenever room can be made. Measured per write with `INFO commandstats` (Redis 7.0, a loaded 2-core
 * host; `set` into a full bound, 3 entries with no last use behind the others): at 10 000 entries 1.3 to 4 ms
 * (7 ms once) while the look is under way, 0.1 to 0.3 ms after it; at 100 000 entries 0.9 to 1.7 ms (the look
 * lasts 200 writes). The version before, walking from rank 0 at each write with a budget shared with the
 * eviction: 1.5 to 2.9 ms at 10 000, 3.2 to 4 ms at 100 000, every such write refused.
 */
export const MAX_ADOPTED_LOOKS_PER_WRITE = 500;

/**
 * Members of `used` one write sweeps for those with no entry in the index (none in `sizes`, which is kept with `order`; left by a process of a version before `used`:
 * its eviction, deletion or forgetting of expired entries), from where the previous write stopped (`#bound:sweep`, a
 * rank; back to the start after the last member). Each found is dropped and starts an adoption look (such a process
 * writes entries with no last use too, which the counts alone would hide: one entry of its written for each it
 * removed leaves `used` as large as `order`). Its own budget, on every write: one `HMGET` of `sizes` for the batch.
 * Measured with `INFO commandstats` (Redis 7.0, a loaded 2-core host; 300-write runs into a full bound, medians of 5 to 7
 * interleaved runs, two sessions): at 10 000 entries 0.073 to 0.078 ms a write, 0.040 to 0.049 without the sweep (16
 * members: 0.059 to 0.063, 64: 0.088 to 0.104); at 100 000 0.085 to 0.107, 0.042 to 0.059 without. A round over n
 * members takes n / 32 writes. The next rank moves back by the members a write takes from below it (its removals, its
 * stale members, and its own key's member when the key was below it: an overwrite takes the newest last use, an
 * overwrite that no longer fits loses it), so the write passes over none; a member that hits or deletions between two
 * writes move from past the rank to below it is passed over, and found by a later round.
 */
export const MAX_SWEPT_PER_WRITE = 32;

/**
 * An entry without a TTL is scored this far past its write (microseconds, ~127 years): after every entry with a
 * TTL, and below 2^53 (exact in a double) until far past this century.
 */
const NO_TTL_SCORE_US = 4e15;

/**
 * An entry's cost is `redisEntryCost`'s (the same sum, here).
 * KEYS: entry, order (zset: entry keys by expiry time, microseconds of Redis's clock), sizes (hash: entry key ->
 * cost), bytes (the costs' sum), used (zset: entry keys by last use, microseconds: written or hit; 0: adopted),
 * adopt (the rank in `order` where the next look for entries with no last use starts; absent: no look under way), sweep
 * (the rank in `used` where the next sweep for stale members starts; absent: at 0).
 * ARGV: JSON, TTL ms ('0': none), maxBytes, per-entry overhead, most removals, most stale `used` members passed over,
 * most `order` members looked at for adoption, most `used` members swept.
 * Reads first: the members Redis has expired already (order's scores up to now: their room is free; only the index
 * remembers them). Then the adoption: while a look is under way, or `used` holds fewer members than `order`, ARGV[7]
 * members of `order` from the `adopt` rank; those with no last use (indexed by a version without `used`, or by one such
 * process of a rolling upgrade) are adopted with last use 0, the oldest. Then, while the new entry does not fit, the
 * live ones least recently used: the entries just adopted (soonest to expire first), then used's lowest scores (those
 * adopted before first), then (every used member gone) order's; at most ARGV[5] of them. A member of `used` with no
 * entry in `order` (left by a version that did not keep `used`, evicting or deleting) is dropped on the way and not
 * counted as a removal (ARGV[6] of them at most, so the script stays short); one found starts an adoption look (that
 * version may have written entries too, which the counts alone would not show). Then the sweep: ARGV[8] members of
 * `used` from the `sweep` rank, those with no entry in `sizes` (kept with `order`; one HMGET) dropped as above (they
 * start a look too); its next rank is less the members it, this write's removals and the key's own member (read before
 * any write: an overwrite moves it to the newest last use, a removal of the key takes it) take from below it. With `order` empty every member of
 * `used` is such a one (a previous version's `clear()`): `used` goes whole.
 * The entry is stored only if it then fits (else the next writes go on trimming; a larger one than the bound is never
 * stored, and the key's old entry is dropped either way).
 * Writes: the new entry's ZADD comes first. Redis checks maxmemory once in a script, at its first write that may grow
 * memory (before any other write): under noeviction a Redis already full refuses that ZADD, so the entry is not stored
 * (the store's error, a miss) while the removals still run, and only the deletions free memory. A Redis just below
 * maxmemory lets the script finish: the entry may take it past maxmemory by its own size until the next writes drop
 * others. Then the removals (UNLINK, index), the adopted entries' last use and the next `adopt` rank (less this write's
 * removals, which may have been below it: a member looked at twice costs one lookup, one passed over is found only by
 * the next look; less one when the entry, overwritten, moved by its new expiry from below that rank to at or above it,
 * as every member between moved down; past the last member the key goes), the entry, the sum; when every other member was removed the sum is
 * set to what is left (it had drifted: the bound's keys deleted or evicted behind the store). Returns 1 when stored.
 */
const BOUNDED_SET_SCRIPT = new LuaScript(`local key, order, sizes, bytes, used, cursorKey, sweepKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local function allocated(n)
  if n <= 8 then return 8 end
  if n <= 16 then return 16 end
  local p = 32
  while p < n do p = p * 2 end
  local step = math.max(16, p / 8)
  return math.ceil(n / step) * step
end
local json = #ARGV[1]
local cost = allocated(json + (json < 256 and 3 or json < 65536 and 5 or 9) + 1) + 4 * #key + tonumber(ARGV[4]) + (json >= ${LARGE_JSON_BYTES} and ${LARGE_ENTRY_MARGIN_BYTES} or 0)
local max = tonumber(ARGV[3])
local ttl = tonumber(ARGV[2])
local most = tonumber(ARGV[5])
local look = tonumber(ARGV[6])
local adopt = tonumber(ARGV[7])
local sweep = tonumber(ARGV[8])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local old = tonumber(redis.call('HGET', sizes, key) or '0')
local others = tonumber(redis.call('GET', bytes) or '0') - old
local indexed = redis.call('ZCARD', order)
local total = indexed - (redis.call('ZSCORE', order, key) and 1 or 0)
local victims, picked, freed, stale, looked = {}, {}, 0, {}, 0
local function pick(m)
  picked[m] = true
  victims[#victims + 1] = m
  freed = freed + tonumber(redis.call('HGET', sizes, m) or '0')
end
local function fits() return cost <= max and others - freed + cost <= max end
local function more() return cost <= max and not fits() and #victims < most and looked < look end
for _, m in ipairs(redis.call('ZRANGEBYSCORE', order, '-inf', string.format('%.0f', now), 'LIMIT', 0, most + 1)) do
  if #victims >= most then break end
  if m ~= key then pick(m) end
end
local dropUsed = indexed == 0
local adopted, cursor, nextCursor = {}, nil, nil
local swept, nextSweep, keyRank, upto, below = nil, nil, nil, nil, nil
if not dropUsed then
  local c = redis.call('GET', cursorKey)
  if c or indexed > redis.call('ZCARD', used) then
    cursor = tonumber(c) or 0
    local batch = redis.call('ZRANGE', order, cursor, cursor + adopt - 1)
    for _, m in ipairs(batch) do
      if m ~= key and not picked[m] and not redis.call('ZSCORE', used, m) then adopted[#adopted + 1] = m end
    end
    if #batch == adopt then nextCursor = cursor + adopt end
  end
  for _, m in ipairs(adopted) do
    if not more() then break end
    pick(m)
  end
  local from = 0
  while more() do
    local batch = redis.call('ZRANGE', used, from, from + 7)
    if #batch == 0 then break end
    for _, m in ipairs(batch) do
      if m ~= key and not picked[m] then
        if redis.call('ZSCORE', order, m) then
          pick(m)
        else
          stale[#stale + 1] = m
          looked = looked + 1
        end
        if not more() then break end
      end
    end
    from = from + 8
  end
  from = 0
  while more() do
    local batch = redis.call('ZRANGE', order, from, from + 7)
    if #batch == 0 then break end
    for _, m in ipairs(batch) do
      if m ~= key and not picked[m] then
        pick(m)
        if not more() then break end
      end
    end
    from = from + 8
  end
  swept = tonumber(redis.call('GET', sweepKey) or '0') or 0
  keyRank = redis.call('ZRANK', used, key)
  local batch = redis.call('ZRANGE', used, swept, swept + sweep - 1)
  local known, found = {}, 0
  for _, m in ipairs(stale) do known[m] = true end
  if #batch > 0 then
    local costs = redis.call('HMGET', sizes, unpack(batch))
    for i, m in ipairs(batch) do
      if m ~= key and not picked[m] and not known[m] and not costs[i] then
        stale[#stale + 1] = m
        found = found + 1
      end
    end
  end
  if #batch == sweep then
    upto, below = swept + sweep, found
    for m in pairs(known) do
      if redis.call('ZRANK', used, m) < upto then below = below + 1 end
    end
    for _, m in ipairs(victims) do
      local r = redis.call('ZRANK', used, m)
      if r and r < upto then below = below + 1 end
    end
  end
end
local exhausted = #victims >= total
local stored, refused = false, nil
if cost <= max and (exhausted or fits()) then
  local score = ttl > 0 and now + ttl * 1000 or now + ${NO_TTL_SCORE_US}
  local was = nextCursor and redis.call('ZRANK', order, key)
  local r = redis.pcall('ZADD', order, string.format('%.0f', score), key)
  if type(r) == 'table' and r.err then refused = r.err else stored = true end
  if stored and was and was < nextCursor and redis.call('ZRANK', order, key) >= nextCursor then nextCursor = nextCursor - 1 end
end
if not stored and old > 0 then
  victims[#victims + 1] = key
  freed = freed + old
end
if upto then
  if keyRank and keyRank < upto and (stored or old > 0) then below = below + 1 end
  nextSweep = math.max(0, upto - below)
end
if #victims > 0 then
  redis.call('UNLINK', unpack(victims))
  redis.call('HDEL', sizes, unpack(victims))
  redis.call('ZREM', order, unpack(victims))
  redis.call('ZREM', used, unpack(victims))
end
if dropUsed then
  redis.call('UNLINK', used, cursorKey, sweepKey)
elseif #stale > 0 then
  redis.call('ZREM', used, unpack(stale))
end
local oldest = {}
for _, m in ipairs(adopted) do
  if not picked[m] then
    oldest[#oldest + 1] = '0'
    oldest[#oldest + 1] = m
  end
end
if #oldest > 0 then redis.pcall('ZADD', used, 'NX', unpack(oldest)) end
if nextCursor then
  redis.pcall('SET', cursorKey, math.max(0, nextCursor - #victims))
elseif cursor then
  redis.call('DEL', cursorKey)
elseif #stale > 0 then
  redis.pcall('SET', cursorKey, 0)
end
if nextSweep then
  redis.pcall('SET', sweepKey, nextSweep)
elseif swept and swept > 0 then
  redis.call('DEL', sweepKey)
end
if stored then
  redis.call('HSET', sizes, key, cost)
  redis.pcall('ZADD', used, string.format('%.0f', now), key)
  if ttl > 0 then redis.call('SET', key, ARGV[1], 'PX', ARGV[2]) else redis.call('SET', key, ARGV[1]) end
end
if exhausted then
  redis.pcall('SET', bytes, stored and cost or 0)
else
  local delta = (stored and cost - old or 0) - freed
  if delta ~= 0 then redis.pcall('INCRBY', bytes, delta) end
end
if refused then return redis.error_reply(refused) end
return stored and 1 or 0`);

/**
 * KEYS: entry, order, used (as BOUNDED_SET_SCRIPT). A hit of a bounded store, in one round trip: the entry's value, and
 * its last use set to now (only for an entry in `order`; one indexed by a previous version, with no last use yet, gets
 * one). A Redis that refuses the write (full, noeviction) still answers the value; the entry then keeps its older last
 * use.
 */
const BOUNDED_GET_SCRIPT = new LuaScript(`local v = redis.call('GET', KEYS[1])
if v and redis.call('ZSCORE', KEYS[2], KEYS[1]) then
  local t = redis.call('TIME')
  redis.pcall('ZADD', KEYS[3], string.format('%.0f', tonumber(t[1]) * 1000000 + tonumber(t[2])), KEYS[1])
end
return v`);

/**
 * KEYS: order, sizes, bytes, used, adopt, sweep (as BOUNDED_SET_SCRIPT), then the entries to delete. Deletes them and their
 * part of the bound. The sum's decrement may be refused by a full Redis (noeviction): then it over-counts, dropping
 * entries early, until the bound's index is empty. While an adoption look is under way, its rank moves back by the
 * members removed below it (every later member moves down), so the next look starts at the member it would have
 * (else it would pass over as many). Returns how many entries existed.
 */
const BOUNDED_DELETE_SCRIPT = new LuaScript(`local n = 0
local cursor = tonumber(redis.call('GET', KEYS[5]) or '0') or 0
local start = cursor
for i = 7, #KEYS do
  local k = KEYS[i]
  n = n + redis.call('UNLINK', k)
  redis.call('ZREM', KEYS[4], k)
  local size = redis.call('HGET', KEYS[2], k)
  if size then
    if cursor > 0 then
      local r = redis.call('ZRANK', KEYS[1], k)
      if r and r < cursor then cursor = cursor - 1 end
    end
    redis.call('HDEL', KEYS[2], k)
    redis.call('ZREM', KEYS[1], k)
    redis.pcall('DECRBY', KEYS[3], size)
  end
end
if cursor ~= start then redis.pcall('SET', KEYS[5], cursor) end
return n`);

/**
 * KEYS: order, sizes, bytes, used, adopt, sweep. ARGV: from, count. The end of `clear()`, whose SCAN deleted the entries with their
 * part of the bound, called with `from` 0 and then with what it returns while that is not negative: each call looks at
 * `count` members of `order` from rank `from` and drops those whose entry is gone (expired, which SCAN never finds, or
 * deleted behind the store) with their part of the bound. After the last members, the bound's keys go only when no
 * entry is indexed, in one step, so an entry written meanwhile (by this or another process) stays counted with its
 * index; with none, a sum that had drifted starts again from nothing (and members of `used` left by a previous version
 * go too). An adoption look's rank (`adopt`) moves back by the members dropped below it, as in BOUNDED_DELETE_SCRIPT.
 * Returns the next `from`, or -1 when done.
 */
const BOUNDED_CLEAR_SCRIPT = new LuaScript(`local order, sizes, bytes, used, cursor, sweep = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local from, count = tonumber(ARGV[1]), tonumber(ARGV[2])
local batch = redis.call('ZRANGE', order, from, from + count - 1)
local gone, freed, below = {}, 0, 0
local adopt = tonumber(redis.call('GET', cursor) or '0') or 0
for i, m in ipairs(batch) do
  if redis.call('EXISTS', m) == 0 then
    gone[#gone + 1] = m
    freed = freed + tonumber(redis.call('HGET', sizes, m) or '0')
    if from + i - 1 < adopt then below = below + 1 end
  end
end
if #gone > 0 then
  redis.call('HDEL', sizes, unpack(gone))
  redis.call('ZREM', order, unpack(gone))
  redis.call('ZREM', used, unpack(gone))
  if freed > 0 then redis.pcall('DECRBY', bytes, freed) end
  if below > 0 then redis.pcall('SET', cursor, adopt - below) end
end
if #batch == count then return from + count - #gone end
if redis.call('ZCARD', order) == 0 then redis.call('UNLINK', order, sizes, bytes, used, cursor, sweep) end
return -1`);

/** Redis SCAN MATCH pattern for keys starting with `prefix` (glob characters escaped). */
export function redisPrefixPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
}

/**
 * A `CacheStore` in Redis, shared by every process that points at the same server and prefix (the exact
 * cache of several gateways). Values are JSON; each entry is one Redis string with its TTL (`SET ... PX`),
 * so Redis expires them itself. Prefix deletion walks the keys with `SCAN ... MATCH` (never blocking the
 * server like `KEYS`) and drops them with `UNLINK` (freed in the background).
 *
 * With `maxBytes` the store bounds its entries' bytes itself (least recently used dropped first; the index under
 * `<keyPrefix without its last ':'>#bound:`); without, entries live for their TTL and the Redis must bound them: one
 * of the cache's own with `maxmemory` and `allkeys-lru`, never the Redis of the shared-mode limits and budgets (its
 * eviction would drop their keys too). An unreadable entry counts as a miss.
 *
 * Every command is bounded by `timeoutMs`: a Redis that stops answering without closing the connection (a
 * partition, a stalled primary) fails the call in about a second instead of holding it until TCP gives up.
 */
export class RedisCacheStore<V> implements CacheStore<V> {
  readonly keyPrefix: string;
  readonly timeoutMs: number;
  readonly #redis: RedisHandle;
  readonly #ttlMs: number | undefined;
  readonly #scanCount: number;
  readonly #maxBytes: number | undefined;
  /** The bound's keys (order, sizes, bytes, used, adopt, sweep) when `maxBytes` is set. */
  readonly #boundKeys: readonly [string, string, string, string, string, string] | undefined;
  #closed = false;

  /** Over an open connection (e.g. the shared-mode stores' one); the store holds a reference until `close()`. */
  constructor(redis: RedisHandle, options: RedisCacheStoreOptions = {}) {
    const prefix = options.keyPrefix ?? DEFAULT_PREFIX;
    if (typeof prefix !== 'string') throw invalid('keyPrefix', 'must be a string');
    if (options.ttlMs !== undefined) checkPositiveInt('ttlMs', options.ttlMs);
    if (options.scanCount !== undefined) checkPositiveInt('scanCount', options.scanCount);
    if (options.maxBytes !== undefined) checkPositiveInt('maxBytes', options.maxBytes);
    this.keyPrefix = prefix;
    this.#maxBytes = options.maxBytes;
    if (options.maxBytes !== undefined) {
      const base = `${prefix.endsWith(':') ? prefix.slice(0, -1) : prefix}#bound:`;
      this.#boundKeys = [`${base}order`, `${base}sizes`, `${base}bytes`, `${base}used`, `${base}adopt`, `${base}sweep`];
    }
    this.timeoutMs = storeTimeoutMs(options.timeoutMs, DEFAULT_TIMEOUT_MS, 'RedisCacheStore');
    this.#ttlMs = options.ttlMs;
    this.#scanCount = options.scanCount ?? 500;
    this.#redis = redis.retain(this.timeoutMs);
  }

  /** Connects to `url` (needs the optional `redis` package) and opens a store on its own connection. */
  static async connect<V>(url: string, options: RedisCacheStoreOptions = {}): Promise<RedisCacheStore<V>> {
    if (typeof url !== 'string' || url === '') throw invalid('url', 'must be a redis:// URL');
    const redis = await connectRedis(url, '', 'Redis cache store');
    try {
      return new RedisCacheStore<V>(redis, options);
    } catch (e) {
      await redis.retain().release();
      throw e;
    }
  }

  async get(key: string): Promise<V | undefined> {
    const raw = this.#boundKeys
      ? await bounded(this.#redis.eval<string | null>(BOUNDED_GET_SCRIPT, [this.keyPrefix + key, this.#boundKeys[0], this.#boundKeys[3]], []), this.timeoutMs, 'cache lookup')
      : await this.#command<string | null>(['GET', this.keyPrefix + key], 'cache lookup');
    if (raw === null || raw === undefined) return undefined;
    try {
      return JSON.parse(raw) as V;
    } catch {
      return undefined;
    }
  }

  async set(key: string, value: V, ttlMs?: number): Promise<void> {
    if (ttlMs !== undefined) checkPositiveInt('ttlMs', ttlMs);
    const json = JSON.stringify(value);
    if (json === undefined) throw new LLMError({ code: 'invalid_request', message: 'RedisCacheStore: the value is not JSON-serializable', param: 'value' });
    const ttl = ttlMs ?? this.#ttlMs;
    if (this.#boundKeys) {
      await bounded(
        this.#redis.eval(BOUNDED_SET_SCRIPT, [this.keyPrefix + key, ...this.#boundKeys], [json, ttl ?? 0, this.#maxBytes!, ENTRY_OVERHEAD_BYTES, MAX_REMOVALS_PER_WRITE, MAX_LOOKED_AT_PER_WRITE, MAX_ADOPTED_LOOKS_PER_WRITE, MAX_SWEPT_PER_WRITE]),
        this.timeoutMs,
        'cache store',
      );
      return;
    }
    await this.#command(ttl === undefined ? ['SET', this.keyPrefix + key, json] : ['SET', this.keyPrefix + key, json, 'PX', String(ttl)], 'cache store');
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#unlink([this.keyPrefix + key])) > 0;
  }

  /**
   * Removes this store's entries only (its `keyPrefix`, and its bound's keys), never the rest of the database. An entry
   * written while it runs (by any process) may be kept, and is then counted in the bound as any other: the bound's keys
   * go only with its last entry, in one step.
   */
  async clear(): Promise<void> {
    await this.deleteByPrefix('');
    if (!this.#boundKeys) return;
    const count = Math.min(this.#scanCount, 1_000);
    for (let from = 0; from >= 0; ) {
      from = Number(await bounded(this.#redis.eval<number>(BOUNDED_CLEAR_SCRIPT, this.#boundKeys, [from, count]), this.timeoutMs, 'cache delete'));
    }
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    const match = redisPrefixPattern(this.keyPrefix + prefix);
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, found] = await this.#command<[string, string[]]>(['SCAN', cursor, 'MATCH', match, 'COUNT', String(this.#scanCount)], 'cache scan');
      // (A prefix without a trailing ':' may match the bound's own keys: never entries.)
      const keys = this.#boundKeys ? found.filter((k) => !this.#boundKeys!.includes(k)) : found;
      if (keys.length > 0) deleted += await this.#unlink(keys);
      cursor = String(next);
    } while (cursor !== '0');
    return deleted;
  }

  /** Deletes entries (and their part of the bound); returns how many existed. */
  #unlink(keys: string[]): Promise<number> {
    if (!this.#boundKeys) return this.#command<number>(['UNLINK', ...keys], 'cache delete');
    return bounded(this.#redis.eval<number>(BOUNDED_DELETE_SCRIPT, [...this.#boundKeys, ...keys], []), this.timeoutMs, 'cache delete');
  }

  #command<T = unknown>(args: ReadonlyArray<string>, what: string): Promise<T> {
    return bounded(this.#redis.command<T>(args), this.timeoutMs, what);
  }

  /** Releases the connection (closed with its last user). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#redis.release();
  }
}

function invalid(param: string, message: string): LLMError {
  return new LLMError({ code: 'config_invalid', message: `RedisCacheStore: ${param} ${message}`, param });
}

function checkPositiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) throw invalid(name, `must be a positive integer, got ${String(value)}`);
}
