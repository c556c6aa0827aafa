import type { RetryConfig, TimeoutsConfig } from '../config/schema.js';
import { LLMError } from '../errors/llm-error.js';
import type { RouterCallOptions } from './types.js';

/** What a field's value must be, said after "must be". Undefined: it is. */
type FieldCheck = (v: unknown) => string | undefined;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const count: FieldCheck = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : 'an integer >= 0');
const ms: FieldCheck = (v) => (finite(v) && v >= 0 ? undefined : 'a number of ms >= 0');
const positiveMs: FieldCheck = (v) => (finite(v) && v > 0 ? undefined : 'a number of ms > 0');
const flag: FieldCheck = (v) => (typeof v === 'boolean' ? undefined : 'true or false');

/**
 * A call's fields as the config's schema has them (`RetrySchema`, `TimeoutsSchema`), but for the upper bounds: a
 * call's delay or time limit past a timer's longest delay waits the longest a timer can, and its `max` is its own.
 */
const RETRY_FIELDS: Readonly<Record<keyof RetryConfig, FieldCheck>> = {
  max: count,
  initialDelayMs: ms,
  maxDelayMs: ms,
  factor: (v) => (finite(v) && v >= 1 ? undefined : 'a number >= 1'),
  jitter: flag,
  respectRetryAfter: flag,
  maxRetryAfterMs: ms,
};
const TIMEOUT_FIELDS: Readonly<Record<keyof TimeoutsConfig, FieldCheck>> = { firstTokenMs: positiveMs, totalMs: positiveMs, consumerIdleMs: ms };

/**
 * A call's `retries`, `timeouts` and `signal`, checked as the config's fields are (a JavaScript caller's typo, a
 * string for a number, an object that is no `AbortSignal`): `invalid_request` naming the field (`retries.max`).
 * A field given as `undefined` is unset, and so is a `null` signal. Only options that are present are looked at: a
 * call without them pays three comparisons.
 */
export function checkCallOptions(o: Pick<RouterCallOptions, 'retries' | 'timeouts' | 'signal'>): void {
  if (o.retries !== undefined) checkFields(o.retries, RETRY_FIELDS, 'retries');
  if (o.timeouts !== undefined) checkFields(o.timeouts, TIMEOUT_FIELDS, 'timeouts');
  const signal: unknown = o.signal;
  // null is no signal, as `RequestInit.signal` allows (what a caller forwarding one may pass).
  if (signal != null && !isAbortSignal(signal)) {
    throw new LLMError({ code: 'invalid_request', message: `signal must be an AbortSignal, got ${describe(signal)}`, param: 'signal' });
  }
}

/**
 * The retries of a call: its own fields over the config's, a field it leaves `undefined` keeping the config's value
 * (a spread would replace it: `max: undefined` never stops retrying).
 */
export function callRetries(base: RetryConfig, own: Partial<RetryConfig>): RetryConfig {
  const out: RetryConfig = { ...base };
  const target = out as Record<string, unknown>;
  for (const key of Object.keys(own)) {
    const v = (own as Record<string, unknown>)[key];
    if (v !== undefined) target[key] = v;
  }
  return out;
}

function checkFields(value: unknown, shape: Readonly<Record<string, FieldCheck>>, name: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LLMError({ code: 'invalid_request', message: `${name} must be an object, got ${describe(value)}`, param: name });
  }
  for (const key of Object.keys(value)) {
    const param = `${name}.${key}`;
    if (!Object.hasOwn(shape, key)) {
      throw new LLMError({ code: 'invalid_request', message: `${param}: unknown option (known: ${Object.keys(shape).join(', ')})`, param });
    }
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined) continue;
    const wanted = shape[key]!(v);
    if (wanted !== undefined) throw new LLMError({ code: 'invalid_request', message: `${param} must be ${wanted}, got ${describe(v)}`, param });
  }
}

/** An `AbortSignal`, or one of another realm or polyfill that the router's abort handling can use as one. */
function isAbortSignal(s: unknown): boolean {
  if (typeof AbortSignal !== 'undefined' && s instanceof AbortSignal) return true;
  if (typeof s !== 'object' || s === null) return false;
  const o = s as Record<string, unknown>;
  return typeof o['aborted'] === 'boolean' && typeof o['addEventListener'] === 'function' && typeof o['removeEventListener'] === 'function';
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v === 'object' ? 'an object' : typeof v;
}
