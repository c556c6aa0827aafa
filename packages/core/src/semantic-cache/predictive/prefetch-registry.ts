import { ENTRY_OVERHEAD_BYTES } from '../../cache/exact-cache.js';
import { utf8ByteLength } from '../../util/utf8-byte-length.js';
import { userKey } from '../user-key.js';
import { DEFAULT_PREDICTIVE_MAX_BYTES } from './predictive-config.js';

/** What identifies a cached answer when it is served again (the fields a cache hit carries). */
export interface AnswerIdentity {
  text: string;
  deployment: string;
  id?: string;
  usage: { inputTokens: number; outputTokens: number };
}

/** A prefetched answer being tracked: was it ever served to a live request before it expired? */
export interface PrefetchedEntry {
  tenant: string;
  /** The predicted question it answers. */
  question: string;
  /**
   * The end user the prefetch was made for, as a fixed-size key: `userKey` of the request's `user` (its SHA-256 in
   * base64url, 43 characters; '' for an empty id), not the id itself (a string of any length). Absent without one.
   */
  userKey?: string;
  storedAt: number;
  /** When tracking ends (the cache's TTL): unused by then, it is reported. */
  until: number;
  costUsd: number;
  /** Live requests it answered so far. */
  hits: number;
}

/** A tracked entry with its size (`prefetchEntryBytes`). */
interface Tracked {
  entry: PrefetchedEntry;
  bytes: number;
}

/**
 * About how many bytes tracking a prefetched answer holds, counted as `answerBytes` counts a cache entry (its strings
 * as UTF-8 plus `ENTRY_OVERHEAD_BYTES`): the fingerprint, tenant, question and user key (the answer itself is not kept).
 */
export function prefetchEntryBytes(key: string, entry: Pick<PrefetchedEntry, 'tenant' | 'question' | 'userKey'>): number {
  return ENTRY_OVERHEAD_BYTES + utf8ByteLength(key) + utf8ByteLength(entry.tenant) + utf8ByteLength(entry.question) + (entry.userKey === undefined ? 0 : entry.userKey.length);
}

/**
 * Marks prefetched answers: each one stored by a prefetch is remembered by a fingerprint of what a cache
 * hit returns (tenant, deployment, provider response id, usage, text), so a live hit on it is counted,
 * and one never used before its TTL ends is reported. Bounded by count (`max`) and by bytes (`maxBytes`,
 * `prefetchEntryBytes`): past either the least recently used (stored or hit) go, those never hit reported as
 * unused early (`evicted`); an entry larger than `maxBytes` on its own is not tracked (reported so at once).
 * `maxBytes` defaults to `cache.predictive.maxTrackedBytes`' default (16 000 000).
 */
export class PrefetchRegistry {
  /** Least recently used first. */
  readonly #entries = new Map<string, Tracked>();
  #bytes = 0;

  readonly #maxBytes: number;

  constructor(private readonly options: { trackMs: number; max: number; maxBytes?: number; now: () => number }) {
    this.#maxBytes = options.maxBytes ?? DEFAULT_PREDICTIVE_MAX_BYTES;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** What the tracked entries hold, in bytes (`prefetchEntryBytes`): at most `maxBytes`. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Tracks a stored prefetched answer; `user` is the request's end-user id (only its `userKey` is kept, for erasure). */
  add(tenant: string, answer: AnswerIdentity, question: string, costUsd: number, user: string | undefined): PrefetchedEntry[] {
    const now = this.options.now();
    const key = fingerprint(tenant, answer);
    this.#remove(key);
    const entry: PrefetchedEntry = { tenant, question, ...(user !== undefined ? { userKey: userKey(user) } : {}), storedAt: now, until: now + this.options.trackMs, costUsd, hits: 0 };
    const bytes = prefetchEntryBytes(key, entry);
    if (bytes > this.#maxBytes) return [entry]; // (it would evict every other entry, then itself)
    this.#entries.set(key, { entry, bytes });
    this.#bytes += bytes;
    const evicted: PrefetchedEntry[] = [];
    while (this.#entries.size > this.options.max || this.#bytes > this.#maxBytes) {
      const [oldest, t] = this.#entries.entries().next().value!;
      this.#remove(oldest);
      if (t.entry.hits === 0) evicted.push(t.entry);
    }
    return evicted;
  }

  /** A live request was answered from the cache with `answer`: the prefetched entry it came from, if any (now the most recently used). */
  hit(tenant: string, answer: AnswerIdentity): PrefetchedEntry | undefined {
    const key = fingerprint(tenant, answer);
    const t = this.#entries.get(key);
    if (!t || t.entry.until <= this.options.now()) return undefined;
    t.entry.hits++;
    this.#entries.delete(key); // re-inserted last: the map stays least recently used first
    this.#entries.set(key, t);
    return t.entry;
  }

  /** Ends tracking of expired entries; returns those never used. */
  sweep(): PrefetchedEntry[] {
    const now = this.options.now();
    const unused: PrefetchedEntry[] = [];
    for (const [key, t] of this.#entries) {
      if (t.entry.until > now) continue;
      this.#remove(key);
      if (t.entry.hits === 0) unused.push(t.entry);
    }
    return unused;
  }

  /** Erasure: drops a tenant's entries (or one user's, by the id the requests gave: compared by its `userKey`). */
  forget(tenant: string, user?: string): void {
    const k = user === undefined ? undefined : userKey(user);
    for (const [key, t] of this.#entries) if (t.entry.tenant === tenant && (k === undefined || t.entry.userKey === k)) this.#remove(key);
  }

  #remove(key: string): void {
    const t = this.#entries.get(key);
    if (!t) return;
    this.#entries.delete(key);
    this.#bytes -= t.bytes;
  }
}

function fingerprint(tenant: string, a: AnswerIdentity): string {
  return `${tenant}\u0000${a.deployment}\u0000${a.id ?? ''}\u0000${a.usage.inputTokens}/${a.usage.outputTokens}\u0000${a.text.length}:${hash(a.text, 0x811c9dc5)}:${hash(a.text, 0x01234567)}`;
}

/** 32-bit FNV-1a with a chosen offset basis (two bases give a 64-bit fingerprint of the text). */
function hash(text: string, basis: number): string {
  let h = basis;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}
