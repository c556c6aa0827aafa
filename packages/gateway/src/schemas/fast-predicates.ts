import { REASONING_EFFORTS } from '@llmrr/core';

/**
 * The predicates the fast checks (`check-openai-chat.ts`, `check-openai-responses.ts`) are made of. Each
 * mirrors what the zod schema accepts for that field; a false answer only sends the body to the schema.
 */
export type Check = (v: unknown) => boolean;

/**
 * A plain object without an own `__proto__` key: JSON.parse makes one, and the schemas' copy of an object
 * drops it, so an object that has one is left to the schema (at every level).
 */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Object.hasOwn(v, '__proto__');
}
export function isString(v: unknown): v is string {
  return typeof v === 'string';
}
export function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}
export function isBoolean(v: unknown): v is boolean {
  return typeof v === 'boolean';
}
export function isPositiveInt(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) > 0;
}
/** Every element, holes included (`Array.prototype.every` skips holes; the schemas do not). */
export function every(items: readonly unknown[], check: Check): boolean {
  for (const x of items) if (!check(x)) return false;
  return true;
}
export function optional(v: unknown, check: Check): boolean {
  return v === undefined || check(v);
}
export function nullish(v: unknown, check: Check): boolean {
  return v === undefined || v === null || check(v);
}

const EFFORTS: ReadonlySet<unknown> = new Set(REASONING_EFFORTS);
/** A reasoning effort of core's list. */
export function isEffort(v: unknown): boolean {
  return EFFORTS.has(v);
}

const EXTENSION_KEYS: ReadonlySet<string> = new Set(['strategy', 'explain', 'fallbacks', 'cache']);

/** `LlmrrExtensionSchema`: a strict object (no other keys). */
export function isExtension(v: unknown): boolean {
  if (!isObject(v)) return false;
  for (const k in v) if (!EXTENSION_KEYS.has(k)) return false;
  return (
    optional(v.strategy, isNonEmptyString) &&
    optional(v.explain, isBoolean) &&
    optional(v.fallbacks, (f) => Array.isArray(f) && every(f, isNonEmptyString)) &&
    optional(v.cache, isBoolean)
  );
}
