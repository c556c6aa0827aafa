import type { z } from 'zod';

/**
 * Deepest nesting accepted in free-form JSON fields (tool schemas, structured-output schemas, tool inputs).
 * Real JSON Schemas stay far below it; without a bound a few KB of `{"a":{"a":...}}` overflows the stack of
 * recursive code downstream (cache keys, provider encoders) and answers 500 instead of 400.
 */
export const MAX_JSON_DEPTH = 64;

/** True when `value` nests objects or arrays deeper than `max` levels (iterative: never overflows itself). */
export function jsonDepthExceeds(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** `schema` refusing values nested deeper than `max` levels, with a message naming the limit. */
export function boundedJson<S extends z.ZodType>(schema: S, max = MAX_JSON_DEPTH): S {
  return schema.refine((v) => !jsonDepthExceeds(v, max), { message: `nests deeper than ${max} levels` }) as S;
}
