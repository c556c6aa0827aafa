import type { CachedAnswer } from '../cache/exact-cache.js';
import { redisPrefixPattern } from '../cache/redis-cache-store.js';
import { bounded, connectRedis, LuaScript, storeTimeoutMs, type RedisHandle } from '../stores/redis/redis-connection.js';
import { annModule } from './ann-loader.js';
import type { HybridIndexOptions } from './hybrid-index.js';
import { checkPositiveInt } from './memory-semantic-store.js';
import type { SemanticEntry, SemanticMatch, SemanticStore, SemanticStoreLimits } from './semantic-store.js';
import { VectorCatalog, type CatalogMeta } from './vector-catalog.js';

/**
 * Lua that drops entry `id` (a string) for good: its hash, log and rank, and its id from the erasure sets that
 * the owners hash (KEYS[7] of ADD, KEYS[3] of DROP) names for it (`t<id>`, `u<id>`; entries written before the
 * store kept owners have none: erasure deletes their ids with the sets). Returns 1 when the hash still existed.
 * Needs locals `log`, `lru`, `owners`, `entry` (the entry key prefix). Redis deletes a set left empty. Keys are
 * dropped with UNLINK (Redis >= 4: the key goes at once, its memory, a vector and an answer, is freed in the
 * background), as everywhere in this store: a tenant's erasure never blocks Redis for other callers. (The store
 * needs Redis >= 5 anyway: ZPOPMIN.)
 */
const DROP_ENTRY = `
local function drop(id)
  local sets = redis.call('HMGET', owners, 't' .. id, 'u' .. id)
  if sets[1] then redis.call('SREM', sets[1], id) end
  if sets[2] then redis.call('SREM', sets[2], id) end
  redis.call('HDEL', owners, 't' .. id, 'u' .. id)
  redis.call('ZREM', log, id)
  redis.call('ZREM', lru, id)
  return redis.call('UNLINK', entry .. id)
end
`;

/**
 * Adds an entry atomically: id from a counter, hash with TTL, the append log (for other processes' mirrors),
 * a recency rank from a shared use clock, and the erasure sets (with the entry's sets in the owners hash, kept
 * past the hash's TTL); past the cap, drops the least recently used entries, their ids from the erasure sets
 * too (so the sets never list more ids than the ranking holds, expired entries' among them).
 * KEYS: seq, log, tenant set, user set, clock, lru, owners. ARGV: entry prefix, ns, tenant, user, prompt, vec,
 * answer, exp, max.
 */
const ADD = new LuaScript(`
local log, lru, owners, entry = KEYS[2], KEYS[6], KEYS[7], ARGV[1]
${DROP_ENTRY}
local id = redis.call('INCR', KEYS[1])
local ek = entry .. id
redis.call('HSET', ek, 'ns', ARGV[2], 'tenant', ARGV[3], 'user', ARGV[4], 'prompt', ARGV[5], 'vec', ARGV[6], 'answer', ARGV[7], 'exp', ARGV[8])
redis.call('PEXPIREAT', ek, ARGV[8])
redis.call('ZADD', log, id, id)
redis.call('ZADD', lru, redis.call('INCR', KEYS[5]), id)
redis.call('SADD', KEYS[3], id)
redis.call('HSET', owners, 't' .. id, KEYS[3])
if ARGV[4] ~= '' then
  redis.call('SADD', KEYS[4], id)
  redis.call('HSET', owners, 'u' .. id, KEYS[4])
end
local over = redis.call('ZCARD', lru) - tonumber(ARGV[9])
if over > 0 then
  local popped = redis.call('ZPOPMIN', lru, over)
  for i = 1, #popped, 2 do drop(popped[i]) end
end
return id
`);

/** Drops entries (see DROP_ENTRY); returns how many hashes still existed. KEYS: log, lru, owners. ARGV: entry prefix, ids. */
const DROP = new LuaScript(`
local log, lru, owners, entry = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
${DROP_ENTRY}
local n = 0
for i = 2, #ARGV do n = n + drop(ARGV[i]) end
return n
`);

/** A served entry moves to the recent end (only while it is still ranked). KEYS: clock, lru. ARGV: id. */
const TOUCH = new LuaScript(`
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[1]), ARGV[1])
  return 1
end
return 0
`);

/**
 * Entries written before the store ranked by recency get ranks in insertion order (once, by whoever connects
 * first), and the clock starts past them. KEYS: log, lru, clock, seq.
 */
const RANK_OLD_ENTRIES = new LuaScript(`
if redis.call('EXISTS', KEYS[2]) == 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('ZUNIONSTORE', KEYS[2], 1, KEYS[1])
  local seq = tonumber(redis.call('GET', KEYS[4]) or '0')
  if tonumber(redis.call('GET', KEYS[3]) or '0') < seq then redis.call('SET', KEYS[3], seq) end
end
return 0
`);

export interface RedisSemanticStoreOptions extends Partial<SemanticStoreLimits> {
  url: string;
  /** Key prefix shared by every process using the cache. Default `llmrr`. */
  prefix?: string;
  index?: HybridIndexOptions;
  /**
   * Each Redis command that takes longer fails with `store_unavailable` (the router then treats the lookup as a
   * miss, or skips the store). Default 1000 ms.
   */
  timeoutMs?: number;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function vectorToBase64(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

function vectorFromBase64(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/**
 * Semantic store in Redis, shared by several gateway processes. Redis holds everything (vectors,
 * prompts, answers, expiry as key TTL, per-tenant and per-user id sets for erasure, an append log of
 * ids); each process mirrors the vectors in an in-process index for search and catches up from the log
 * with one ZRANGEBYSCORE per lookup. A match is confirmed by reading its answer from Redis, so an entry
 * erased, expired or evicted by another process is never served. Eviction past `maxEntries` drops the
 * least recently used entries: each add and each served hit (`touch`) takes a tick of a clock shared in Redis,
 * so recency is the same for every process. Expired entries keep their rank, and their ids in the erasure
 * sets, until evicted (their keys are gone at once, by TTL): the sets and the owners hash that names each id's
 * sets never hold more ids than the ranking, which the cap bounds. Every command is bounded by `timeoutMs`, so a
 * Redis that stops answering without closing the connection fails a lookup or store instead of holding it.
 */
export class RedisSemanticStore implements SemanticStore {
  readonly kind = 'redis';
  readonly #catalog: VectorCatalog;
  readonly #now: () => number;
  readonly #max: number;
  readonly #timeoutMs: number;
  readonly #k: { seq: string; log: string; clock: string; lru: string; owners: string; entry: string; tenant: (t: string) => string; user: (t: string, u: string) => string };
  #lastSeq = 0;
  #pruneAbove = 0;

  private constructor(private readonly redis: RedisHandle, options: RedisSemanticStoreOptions) {
    this.#max = options.maxEntries ?? 10_000;
    checkPositiveInt('cache.semantic.maxEntries', this.#max);
    this.#timeoutMs = storeTimeoutMs(options.timeoutMs, 1_000, 'RedisSemanticStore');
    this.#pruneAbove = this.#max + Math.ceil(this.#max / 4);
    this.#now = options.now ?? Date.now;
    this.#catalog = new VectorCatalog({ ann: annModule, ...options.index });
    const p = `${options.prefix ?? 'llmrr'}:sem:`;
    this.#k = {
      seq: `${p}seq`,
      log: `${p}log`,
      clock: `${p}clock`,
      lru: `${p}lru`,
      owners: `${p}owners`,
      entry: `${p}e:`,
      tenant: (t) => `${p}t:${enc(t)}`,
      user: (t, u) => `${p}u:${enc(t)}:${enc(u)}`,
    };
  }

  /** Connects (failing fast with a clear error when Redis is unreachable) and loads the live entries. */
  static async connect(options: RedisSemanticStoreOptions): Promise<RedisSemanticStore> {
    const handle = (await connectRedis(options.url, options.prefix ?? 'llmrr')).retain();
    let store: RedisSemanticStore;
    try {
      store = new RedisSemanticStore(handle, options); // (an invalid option must not leave the connection open)
      await store.#eval(RANK_OLD_ENTRIES, [store.#k.log, store.#k.lru, store.#k.clock, store.#k.seq], []);
      await store.sync();
    } catch (e) {
      await handle.release();
      throw e;
    }
    return store;
  }

  /** Pulls entries other processes added since the last call into the local index. */
  async sync(): Promise<void> {
    const ids = await this.#command<string[]>(['ZRANGEBYSCORE', this.#k.log, `(${this.#lastSeq}`, '+inf']);
    if (ids.length === 0) return;
    for (let i = 0; i < ids.length; i += 256) {
      const chunk = ids.slice(i, i + 256);
      const rows = await Promise.all(chunk.map((id) => this.#command<Array<string | null>>(['HMGET', this.#k.entry + id, 'ns', 'tenant', 'user', 'vec', 'exp'])));
      const items: Array<{ id: number; meta: CatalogMeta; vector: Float32Array }> = [];
      rows.forEach((row, j) => {
        const [ns, tenant, user, vec, exp] = row;
        if (ns == null || tenant == null || vec == null || exp == null) return; // expired or evicted meanwhile
        items.push({ id: Number(chunk[j]), meta: { namespace: ns, tenant, ...(user ? { user } : {}), expiresAt: Number(exp) }, vector: vectorFromBase64(vec) });
      });
      this.#catalog.putMany(items);
    }
    this.#lastSeq = Math.max(this.#lastSeq, ...ids.map(Number));
    // Pruning reads the whole log: only once the mirror has grown by a quarter of the cap since the last
    // prune (processes with a larger cap can keep the log above this one's cap for good).
    if (this.#catalog.size > this.#pruneAbove) {
      await this.#pruneMirror();
      this.#pruneAbove = Math.max(this.#max, this.#catalog.size) + Math.ceil(this.#max / 4);
    }
  }

  /**
   * Drops mirrored ids that are no longer in the log (evicted or deleted by some process). Runs once the
   * mirror holds a quarter more ids than the cap, so its cost (one read of the log) is spread over many adds.
   */
  async #pruneMirror(): Promise<void> {
    const live = new Set((await this.#command<string[]>(['ZRANGE', this.#k.log, '0', '-1'])).map(Number));
    for (const id of this.#catalog.select(() => true)) if (!live.has(id)) this.#catalog.remove(id);
  }

  async add(entry: SemanticEntry): Promise<number> {
    const id = Number(
      await this.#eval<number>(
        ADD,
        [this.#k.seq, this.#k.log, this.#k.tenant(entry.tenant), this.#k.user(entry.tenant, entry.user ?? ''), this.#k.clock, this.#k.lru, this.#k.owners],
        [
          this.#k.entry,
          entry.namespace,
          entry.tenant,
          entry.user ?? '',
          entry.prompt,
          vectorToBase64(entry.vector),
          JSON.stringify(entry.answer),
          Math.floor(entry.expiresAt),
          this.#max,
        ],
      ),
    );
    await this.sync();
    return id;
  }

  async search(namespace: string, vector: Float32Array, k: number): Promise<SemanticMatch[]> {
    await this.sync();
    // Ask for a few extra: candidates whose entry is gone from Redis are dropped here.
    const { matches } = this.#catalog.search(namespace, vector, k + 2, this.#now());
    // One round trip: concurrent commands on the connection are pipelined.
    const rows = await Promise.all(matches.map((m) => this.#command<Array<string | null>>(['HMGET', this.#k.entry + m.id, 'prompt', 'answer', 'exp'])));
    const out: SemanticMatch[] = [];
    const now = this.#now();
    matches.forEach((m, i) => {
      const [prompt, answer, exp] = rows[i]!;
      if (prompt == null || answer == null || exp == null || Number(exp) <= now) this.#catalog.remove(m.id);
      else if (out.length < k) out.push({ id: m.id, score: m.score, prompt, answer: JSON.parse(answer) as CachedAnswer });
    });
    return out;
  }

  /** A served entry becomes the most recently used (for eviction), for every process. */
  async touch(id: number): Promise<void> {
    await this.#eval(TOUCH, [this.#k.clock, this.#k.lru], [id]);
  }

  /** Drops entries everywhere in Redis (hash, log, rank, erasure sets); returns how many hashes still existed. */
  async #drop(ids: string[]): Promise<number> {
    return Number(await this.#eval<number>(DROP, [this.#k.log, this.#k.lru, this.#k.owners], [this.#k.entry, ...ids]));
  }

  async delete(id: number): Promise<boolean> {
    this.#catalog.remove(id);
    return (await this.#drop([String(id)])) > 0;
  }

  async #deleteSet(setKey: string): Promise<number> {
    const ids = await this.#command<string[]>(['SMEMBERS', setKey]);
    let n = 0;
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      n += await this.#drop(chunk);
      for (const id of chunk) this.#catalog.remove(Number(id));
    }
    await this.#command(['UNLINK', setKey]); // (ids of entries written before the owners hash)
    return n;
  }

  async eraseTenant(tenant: string): Promise<number> {
    const n = await this.#deleteSet(this.#k.tenant(tenant));
    // The per-user sets of the tenant only list ids deleted above (left only by entries without owners).
    const pattern = redisPrefixPattern(this.#k.user(tenant, ''));
    let cursor = '0';
    do {
      const [next, keys] = await this.#command<[string, string[]]>(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '500']);
      if (keys.length > 0) await this.#command(['UNLINK', ...keys]);
      cursor = next;
    } while (cursor !== '0');
    for (const id of this.#catalog.select((m) => m.tenant === tenant)) this.#catalog.remove(id);
    return n;
  }

  async eraseUser(tenant: string, user: string): Promise<number> {
    const n = await this.#deleteSet(this.#k.user(tenant, user));
    for (const id of this.#catalog.select((m) => m.tenant === tenant && m.user === user)) this.#catalog.remove(id);
    return n;
  }

  /** Deletes every semantic-cache key under the prefix. */
  async clear(): Promise<void> {
    let cursor = '0';
    const pattern = redisPrefixPattern(this.#k.entry.slice(0, -2));
    do {
      const [next, keys] = await this.#command<[string, string[]]>(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '500']);
      const doomed = keys.filter((key) => key !== this.#k.seq); // ids keep growing: other processes track them
      if (doomed.length > 0) await this.#command(['UNLINK', ...doomed]);
      cursor = next;
    } while (cursor !== '0');
    this.#catalog.clear();
    this.#lastSeq = 0;
  }

  async size(): Promise<number> {
    await this.sync();
    const now = this.#now();
    let n = 0;
    for (const id of this.#catalog.select((m) => m.expiresAt > now)) {
      if (Number(await this.#command<number>(['EXISTS', this.#k.entry + id])) > 0) n++;
    }
    return n;
  }

  async close(): Promise<void> {
    await this.redis.release();
  }

  #command<T = unknown>(args: ReadonlyArray<string>): Promise<T> {
    return bounded(this.redis.command<T>(args), this.#timeoutMs, `semantic cache ${args[0]}`);
  }

  #eval<T = unknown>(script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<T> {
    return bounded(this.redis.eval<T>(script, keys, args), this.#timeoutMs, 'semantic cache script');
  }
}
