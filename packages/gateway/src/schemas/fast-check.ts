import type { z } from 'zod';

/** A cheap sufficient check: true only when `schema` accepts the value and outputs it unchanged. */
export type FastCheck = (value: unknown) => boolean;

const checks = new WeakMap<z.ZodType, FastCheck>();

/**
 * Gives `schema` a fast check that `validateBody` tries first: when it passes, the value is returned as
 * it is; otherwise the schema parses it (and produces the error). Only for schemas without defaults or
 * transforms, whose output equals their input.
 */
export function addFastCheck<S extends z.ZodType>(schema: S, check: (value: unknown) => value is z.output<S>): S {
  checks.set(schema, check);
  return schema;
}

export function fastCheckOf(schema: z.ZodType): FastCheck | undefined {
  return checks.get(schema);
}
