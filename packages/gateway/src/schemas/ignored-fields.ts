import type { CallWarning, GenerateRequest } from '@llmrr/core';

/** The most ignored-field warnings one request gets; one more, field `...`, says how many others there were. */
export const IGNORED_FIELD_WARNINGS_MAX = 16;

/** What a route does with the top-level fields of its body. */
export interface IgnoredFieldRules {
  /** The fields the route acts on (maps to the core request, checks, refuses, echoes): never warned about. */
  handled: ReadonlySet<string>;
  /** Values of other fields that ask for nothing, beyond null, false, `[]` and `{}` (e.g. `truncation: "disabled"`). */
  noop: ReadonlyMap<string, (value: unknown) => boolean>;
}

/**
 * The rules of a route whose body schema is `shape` (a zod object's `shape`): its keys are handled except
 * `ignored` (accepted and checked, but not acted on).
 */
export function ignoredFieldRules(shape: object, ignored: readonly string[] = [], noop: Record<string, (value: unknown) => boolean> = {}): IgnoredFieldRules {
  const handled = new Set(Object.keys(shape));
  for (const k of ignored) handled.delete(k);
  return { handled, noop: new Map(Object.entries(noop)) };
}

/** null, false, an empty array or an empty object: a value that asks for nothing. */
export function asksForNothing(v: unknown): boolean {
  if (v === null || v === false) return true;
  if (typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.length === 0;
  for (const _ in v) return false;
  return true;
}

/** The number of fields each `...` warning made here stands for, so lists joined later add them up. */
const moreCounts = new WeakMap<CallWarning, number>();

/** The warning saying `more` further fields were not sent (field `...`). */
function moreWarning(more: number): CallWarning {
  const w: CallWarning = { code: 'setting_not_sent', field: '...', message: `${more} more field${more === 1 ? ' is' : 's are'} not supported by this gateway; they were not sent.` };
  moreCounts.set(w, more);
  return w;
}

/**
 * A list of the gateway's own warnings about one request, at most `IGNORED_FIELD_WARNINGS_MAX` (then one with field
 * `...` counting the others), so a hostile body costs bounded work and memory: a warning that does not fit is
 * counted, never built (ask `room()` before making it).
 */
export class CappedWarnings {
  /** Made with the first warning: a request with none allocates only this object. */
  private list: CallWarning[] | undefined;
  private more = 0;

  /** Whether one more warning is kept (then `push` it); false: it is counted among the `...` ones. */
  room(): boolean {
    if (this.list === undefined || this.list.length < IGNORED_FIELD_WARNINGS_MAX) return true;
    this.more++;
    return false;
  }

  /** Keeps `w` if there is room, else counts it. */
  add(w: CallWarning): void {
    if (this.room()) (this.list ??= []).push(w);
  }

  /** Counts `n` warnings among the `...` ones, unbuilt. */
  count(n: number): void {
    this.more += n;
  }

  /** Keeps `w` (after `room()` said true). */
  push(w: CallWarning): void {
    (this.list ??= []).push(w);
  }

  /** The warnings, then the `...` one when some did not fit; undefined when there are none. */
  done(): CallWarning[] | undefined {
    if (this.more > 0) (this.list ??= []).push(moreWarning(this.more));
    return this.list;
  }
}

/**
 * `a` then `b` (lists made here, each at most `IGNORED_FIELD_WARNINGS_MAX` and a `...`), as one list within the same
 * bound: the first `IGNORED_FIELD_WARNINGS_MAX` warnings in order, then one `...` counting all the others (those of
 * the two lists' own `...` warnings included). Either list itself when the other is undefined.
 */
export function joinWarnings(a: readonly CallWarning[] | undefined, b: readonly CallWarning[] | undefined): readonly CallWarning[] | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const out = new CappedWarnings();
  for (const list of [a, b]) {
    for (const w of list) {
      const more = moreCounts.get(w);
      if (more === undefined) out.add(w);
      else out.count(more);
    }
  }
  return out.done();
}

/**
 * A `setting_not_sent` warning for each top-level field of `body` the route does not act on and whose value asks for
 * something (`field`: the client's own name), in the body's order: at most `IGNORED_FIELD_WARNINGS_MAX`, then one
 * with field `...` saying how many more there were. One pass over the body's own keys; undefined (nothing
 * allocated) when every field is handled or asks for nothing.
 */
export function ignoredFieldWarnings(body: object, rules: IgnoredFieldRules): CallWarning[] | undefined {
  let out: CappedWarnings | undefined;
  const b = body as Record<string, unknown>;
  for (const key in b) {
    if (rules.handled.has(key) || !Object.hasOwn(b, key)) continue;
    const value = b[key];
    if (asksForNothing(value) || rules.noop.get(key)?.(value) === true) continue;
    out ??= new CappedWarnings();
    if (out.room()) out.push({ code: 'setting_not_sent', field: key, message: `${key} is not supported by this gateway; it was not sent.` });
  }
  return out?.done();
}

/**
 * Puts `raw`'s own top-level `__proto__` field (JSON.parse makes it an own property) back on `body`, the schema's
 * copy of `raw`, which drops it (a zod object never copies that key): as an own data property, never the
 * prototype, so `ignoredFieldWarnings` says it like any other field the route does not act on. A body that is
 * `raw` itself (a fast check passed it) already has it; otherwise one own-key check.
 */
export function keepOwnProtoField(raw: unknown, body: unknown): void {
  if (body === raw || typeof raw !== 'object' || raw === null || typeof body !== 'object' || body === null || !Object.hasOwn(raw, '__proto__')) return;
  if (Object.hasOwn(body, '__proto__')) return;
  Object.defineProperty(body, '__proto__', { value: (raw as Record<string, unknown>)['__proto__'], enumerable: true, writable: true, configurable: true });
}

/** The warnings of the fields a converted request's body had that the gateway does not act on (see `noteIgnoredFields`). */
const notes = new WeakMap<GenerateRequest, readonly CallWarning[]>();

/**
 * `request` (just converted from `body`) remembers the warnings for the fields of `body` the route does not act on,
 * then `nested` (the route's warnings about fields below the top level, already named as the client names them, a
 * `CappedWarnings` list), for the call to show (`ignoredFieldsOf`): at most `IGNORED_FIELD_WARNINGS_MAX` in all, then
 * one `...` counting the others. Nothing is stored when there are none. Returns `request`.
 */
export function noteIgnoredFields(request: GenerateRequest, body: object, rules: IgnoredFieldRules, nested?: readonly CallWarning[]): GenerateRequest {
  const warnings = joinWarnings(ignoredFieldWarnings(body, rules), nested);
  if (warnings !== undefined) notes.set(request, warnings);
  return request;
}

/** Warnings that hold only when a deployment of another provider than `provider` answers (see `noteProviderOnlyFields`). */
interface ProviderOnly {
  provider: string;
  warnings: readonly CallWarning[];
}
const providerOnly = new WeakMap<GenerateRequest, ProviderOnly>();

/**
 * `request` remembers `warnings` about fields of its body that only `provider`'s deployments receive (passed on
 * verbatim under `providerOptions[provider]`, such as `/v1/messages`' `output_config.format`; a `CappedWarnings`
 * list): said when a deployment of another provider answers (`ignoredFieldsOf` with that provider). Nothing is
 * stored for none.
 */
export function noteProviderOnlyFields(request: GenerateRequest, provider: string, warnings: readonly CallWarning[] | undefined): GenerateRequest {
  if (warnings !== undefined && warnings.length > 0) providerOnly.set(request, { provider, warnings });
  return request;
}

/**
 * The warnings `noteIgnoredFields` kept for `request`, if any; with `answeredBy` (the provider of the deployment that
 * answered), after them those of `noteProviderOnlyFields` when that provider is not the one they are for (within
 * the same bound, see `joinWarnings`).
 */
export function ignoredFieldsOf(request: GenerateRequest, answeredBy?: string): readonly CallWarning[] | undefined {
  const all = notes.get(request);
  if (answeredBy === undefined) return all;
  const only = providerOnly.get(request);
  if (only === undefined || only.provider === answeredBy) return all;
  return joinWarnings(all, only.warnings);
}
