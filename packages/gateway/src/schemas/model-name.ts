import { z } from 'zod';

/**
 * Longest model name a request may carry. Deployment names and aliases are short (provider ids of tens of
 * characters); without a bound a refused name of megabytes was echoed in the 404 and failed the ledger
 * write of the refusal (core's usage entries hold at most 500 characters per text field).
 */
export const MAX_MODEL_NAME_LENGTH = 256;

/** C0 and C1 control characters and DEL: never part of a model name, and unsafe in logs and terminals. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * True when `v` is a model name a request may carry: a non-empty string of sane length, no control
 * characters. On every chat request (the fast check): a character loop, a few times cheaper than the regex.
 */
export function isModelName(v: unknown): v is string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_MODEL_NAME_LENGTH) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return false;
  }
  return true;
}

/** Why `name` is not a model name, or undefined when it is one (for checks outside the wire schemas). */
export function modelNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > MAX_MODEL_NAME_LENGTH) return `must be at most ${MAX_MODEL_NAME_LENGTH} characters`;
  if (CONTROL.test(name)) return 'must not contain control characters';
  return undefined;
}

/** The `model` field of every request body. */
export const ModelNameSchema = z
  .string()
  .min(1)
  .max(MAX_MODEL_NAME_LENGTH, `must be at most ${MAX_MODEL_NAME_LENGTH} characters`)
  .regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, 'must not contain control characters');
