import { seededRandom } from '@llmrr/core/test';
import { isDeepStrictEqual } from 'node:util';
import { expect } from 'vitest';
import type { z } from 'zod';

// The agreement harness of the schemas' fast checks (schemas/fast-check.ts): seeded generators of JSON values,
// mostly well-formed, often broken in one place, and the loop that holds a fast check to its zod schema.

/** A field left out of the object `obj` builds. */
export const ABSENT = Symbol('absent');
export type Pool = readonly unknown[];

/** Values that break most fields' types, mixed into every field's pool. */
export const junk: Pool = [null, 0, -1, 1.5, 1e20, 2 ** 53, '', 'x', true, [], {}, ['a'], [{}], [null]];
export const strings: Pool = ['', 'x', 'gpt-4o', 'caf\u00e9 \u6f22\u5b57 \ud83d\ude00'];
export const positiveInts: Pool = [1, 32, 4096, 0, -3, 2.5, 2 ** 53, 9007199254740991];

/**
 * `o` with an own `__proto__` key, as JSON.parse makes one (the schemas' copy of a loose object drops it, so
 * a fast check must leave such an object to the schema).
 */
export function withProto(o: Record<string, unknown>, value: unknown = {}): Record<string, unknown> {
  const copy = { ...o };
  Object.defineProperty(copy, '__proto__', { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** Whether `v` or anything in it has an own `__proto__` key. */
export function hasProtoKey(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasProtoKey);
  if (typeof v !== 'object' || v === null) return false;
  return Object.hasOwn(v, '__proto__') || Object.values(v).some(hasProtoKey);
}

/** Own keys, recursively, as `key:<name>` entries: `toEqual` alone does not see an own `__proto__` key. */
export function ownKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(ownKeysDeep);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.keys(v).map((k) => [`key:${k}`, ownKeysDeep((v as Record<string, unknown>)[k])]));
}

/** As the gateway sees a value: what JSON.parse makes of its text. */
export const viaJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

/** Seeded draws (mulberry32, so a failure is reproducible) for building generated values. */
export interface Draws {
  pick<T>(pool: readonly T[]): T;
  chance(p: number): boolean;
  /** Not broken (false at the current junk rate). */
  ok(): boolean;
  /** Mostly a valid value from `good`, sometimes junk, sometimes absent. */
  field(good: Pool, pAbsent?: number): unknown;
  /** The entries that are not ABSENT, sometimes an extra key, sometimes an own `__proto__` key. */
  obj(entries: Record<string, unknown>): Record<string, unknown>;
  list<T>(make: () => T, max: number): T[];
  /** Starts a new value: half the values are nearly clean, half often broken. */
  next(): void;
}

export interface ProtoKeys {
  /** What the own `__proto__` key holds. */
  values: Pool;
  /** How often `obj` adds one, at a junk rate. */
  rate(junkRate: number): number;
}

export function draws(seed: number, proto: ProtoKeys): Draws {
  const r = seededRandom(seed);
  let junkRate = 0.2;
  const pick = <T,>(pool: readonly T[]): T => pool[Math.floor(r() * pool.length)]!;
  const chance = (p: number) => r() < p;
  return {
    pick,
    chance,
    ok: () => !chance(junkRate),
    field: (good, pAbsent = 0.6) => (chance(junkRate < 0.1 && pAbsent > 0.5 ? 0.9 : pAbsent) ? ABSENT : chance(junkRate) ? pick(junk) : pick(good)),
    obj(entries) {
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(entries)) if (v !== ABSENT) o[k] = v;
      if (chance(0.05)) o.extra_field = pick(junk);
      // An own `__proto__` key (JSON.parse makes one) at any level: the schema's copy drops it.
      return chance(proto.rate(junkRate)) ? withProto(o, pick(proto.values)) : o;
    },
    list: (make, max) => Array.from({ length: Math.floor(r() * (max + 1)) }, make),
    next() {
      junkRate = chance(0.5) ? 0.01 : 0.2;
    },
  };
}

/**
 * The timeout of an agreement test: none. Its work is bounded by count (seeded values), never by time, and it runs
 * synchronously, so a timeout could not stop it, only fail it once done: on a loaded machine a 10,000-body run that
 * agreed on every body took past vitest's 30 s and was reported as timed out.
 */
export const COUNT_BOUNDED = 0;

export interface Agreement {
  accepted: number;
  refused: number;
  /** Values the schema accepts but changes (it drops an own `__proto__` key): left to it. */
  protoLeft: number;
}

/**
 * `n` values of `make` (through JSON): the fast check accepts only what the schema accepts, unchanged (own keys
 * included), and refuses everything the schema refuses; outside `outside` (its scope) it accepts everything the
 * schema accepts. An object with an own `__proto__` key is outside every check's scope.
 */
export function agree(schema: z.ZodType, check: (v: unknown) => boolean, make: () => unknown, n: number, outside: (v: unknown) => boolean): Agreement {
  let accepted = 0;
  let refused = 0;
  let protoLeft = 0;
  for (let i = 0; i < n; i++) {
    const value = viaJson(make());
    const zod = schema.safeParse(value);
    const fast = check(value);
    // (Each verdict is checked plainly first, and `expect` called only to report a disagreement: its deep equality
    // on every value took most of a 10,000-value run's time.)
    if (fast) {
      if (!zod.success) expect({ i, value, zod: zod.success }).toEqual({ i, value, zod: true });
      const data = ownKeysDeep(zod.data);
      const sent = ownKeysDeep(value);
      if (!isDeepStrictEqual(data, sent)) expect({ i, data }).toEqual({ i, data: sent });
      accepted++;
    } else if (!outside(value)) {
      if (zod.success && !isDeepStrictEqual(ownKeysDeep(zod.data), ownKeysDeep(value))) {
        // Accepted but changed by the schema: only by dropping an own `__proto__` key.
        if (!hasProtoKey(value)) expect({ i, value, proto: false }).toEqual({ i, value, proto: true });
        protoLeft++;
      } else {
        if (zod.success) expect({ i, value, zod: zod.success }).toEqual({ i, value, zod: false });
        refused++;
      }
    }
  }
  return { accepted, refused, protoLeft };
}
