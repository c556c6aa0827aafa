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
  user?: string;
  storedAt: number;
  /** When tracking ends (the cache's TTL): unused by then, it is reported. */
  until: number;
  costUsd: number;
  /** Live requests it answered so far. */
  hits: number;
}

/**
 * Marks prefetched answers: each one stored by a prefetch is remembered by a fingerprint of what a cache
 * hit returns (tenant, deployment, provider response id, usage, text), so a live hit on it is counted,
 * and one never used before its TTL ends is reported. Bounded: past `max` entries the oldest is
 * reported as unused early (`evicted`).
 */
export class PrefetchRegistry {
  readonly #entries = new Map<string, PrefetchedEntry>();

  constructor(private readonly options: { trackMs: number; max: number; now: () => number }) {}

  get size(): number {
    return this.#entries.size;
  }

  add(tenant: string, answer: AnswerIdentity, question: string, costUsd: number, user: string | undefined): PrefetchedEntry[] {
    const now = this.options.now();
    const key = fingerprint(tenant, answer);
    this.#entries.delete(key);
    this.#entries.set(key, { tenant, question, ...(user !== undefined ? { user } : {}), storedAt: now, until: now + this.options.trackMs, costUsd, hits: 0 });
    const evicted: PrefetchedEntry[] = [];
    while (this.#entries.size > this.options.max) {
      const [oldest, entry] = this.#entries.entries().next().value!;
      this.#entries.delete(oldest);
      if (entry.hits === 0) evicted.push(entry);
    }
    return evicted;
  }

  /** A live request was answered from the cache with `answer`: the prefetched entry it came from, if any. */
  hit(tenant: string, answer: AnswerIdentity): PrefetchedEntry | undefined {
    const entry = this.#entries.get(fingerprint(tenant, answer));
    if (!entry || entry.until <= this.options.now()) return undefined;
    entry.hits++;
    return entry;
  }

  /** Ends tracking of expired entries; returns those never used. */
  sweep(): PrefetchedEntry[] {
    const now = this.options.now();
    const unused: PrefetchedEntry[] = [];
    for (const [key, entry] of this.#entries) {
      if (entry.until > now) continue;
      this.#entries.delete(key);
      if (entry.hits === 0) unused.push(entry);
    }
    return unused;
  }

  /** Erasure: drops a tenant's entries (or one user's). */
  forget(tenant: string, user?: string): void {
    for (const [key, entry] of this.#entries) if (entry.tenant === tenant && (user === undefined || entry.user === user)) this.#entries.delete(key);
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
