import type { CacheControl } from '@llmrr/core';
import { z } from 'zod';

/**
 * A prompt-cache breakpoint as clients send it (`cache_control`, @anthropic-ai/sdk 1.14 CacheControlEphemeral):
 * `{ type: 'ephemeral', ttl?: '5m' | '1h' }`, or null (no breakpoint, as the SDK types allow). Other keys are
 * ignored, like unknown keys elsewhere; another `type` or `ttl`, or a value that is not an object, is refused.
 */
export interface CacheControlWire {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

/** The one check of a `cache_control` value, shared by the schemas and the chat fast check (so they agree). */
export function isCacheControlWire(v: unknown): v is CacheControlWire | null {
  if (v === null) return true;
  if (typeof v !== 'object' || Array.isArray(v)) return false;
  const c = v as Record<string, unknown>;
  return c.type === 'ephemeral' && (c.ttl === undefined || c.ttl === '5m' || c.ttl === '1h');
}

/** A value as the error message quotes it: JSON, cut to 40 characters (the message echoes client input). */
function shown(v: unknown): string {
  if (v === undefined) return 'missing';
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/**
 * `cache_control` of a block, message, tool or request. Its problems are refinement issues, which do not end a
 * union's parse: a bad mark inside `system: string | TextBlock[]` is reported at its own path
 * (`system.1.cache_control.ttl`), not as the union's "Invalid input" at `system`.
 */
export const CacheControlSchema = z
  .unknown()
  .superRefine((v, ctx) => {
    if (isCacheControlWire(v)) return;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      ctx.addIssue({ code: 'custom', message: 'must be an object { type: "ephemeral", ttl?: "5m" | "1h" } or null' });
      return;
    }
    const c = v as Record<string, unknown>;
    if (c.type !== 'ephemeral') ctx.addIssue({ code: 'custom', path: ['type'], message: `must be "ephemeral" (the only cache_control type), not ${shown(c.type)}` });
    if (c.ttl !== undefined && c.ttl !== '5m' && c.ttl !== '1h') ctx.addIssue({ code: 'custom', path: ['ttl'], message: `must be "5m" or "1h", not ${shown(c.ttl)}` });
  })
  .meta({
    description: 'Prompt-cache breakpoint',
    anyOf: [{ type: 'null' }, { type: 'object', properties: { type: { const: 'ephemeral' }, ttl: { enum: ['5m', '1h'] } }, required: ['type'] }],
  })
  .optional();

/** A validated `cache_control` value (typed `unknown` by its schema) as the core breakpoint; undefined for none. */
export function toCacheControl(v: unknown): CacheControl | undefined {
  if (!v || !isCacheControlWire(v)) return undefined;
  return v.ttl === undefined ? { type: 'ephemeral' } : { type: 'ephemeral', ttl: v.ttl };
}

/** `target` with `cacheControl` set when there is a mark; left as it is otherwise, so unmarked requests do not change. */
export function withMark<T extends { cacheControl?: CacheControl }>(target: T, mark: CacheControl | undefined): T {
  if (mark) target.cacheControl = mark;
  return target;
}
