import { LLMError, formatPath } from '@llmrr/core';
import type { z } from 'zod';
import { fastCheckOf } from '../schemas/fast-check.js';

/**
 * Validates a parsed body against a wire schema; the first issue becomes a 400 naming the field
 * (`messages.0.role: Invalid option: expected one of ...`), all issues go in `details`. A body that is not a
 * JSON object is refused as such, unless the schema takes it (the admin API's nullable PUT bodies: `null` clears).
 */
export function validateBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const r = schema.safeParse(body);
    if (r.success) return r.data;
    throw new LLMError({ code: 'invalid_request', message: 'Request body must be a JSON object', param: 'body' });
  }
  if (fastCheckOf(schema)?.(body)) return body as z.output<S>;
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issues = r.error.issues.map((issue) => {
    const i = fittingOption(issue);
    // An unknown key of a strict object is reported at the object; name the key itself.
    return { path: formatPath(i.code === 'unrecognized_keys' && i.keys[0] !== undefined ? [...i.path, i.keys[0]] : i.path), message: i.message };
  });
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? 's' : ''})` : '';
  return throwInvalid(first.path, `${first.path || 'body'}: ${first.message}${more}`, issues);
}

/**
 * A union no option took is one issue (`messages.0.content: Invalid input`); when only one of its options fits the
 * value's kind (an array of blocks, where the other option is a string), that option's first issue is the one to name,
 * under the union's path (`messages.0.content.1.type: ...`), and so on into nested unions.
 */
function fittingOption(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  let at = issue;
  while (at.code === 'invalid_union' && at.errors.length > 1) {
    const fitting = at.errors.filter((option) => !option.some((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value')));
    const first = fitting.length === 1 ? fitting[0]![0] : undefined;
    if (first === undefined) break;
    at = { ...first, path: [...at.path, ...first.path] };
  }
  return at;
}

function throwInvalid(param: string, message: string, details: unknown): never {
  throw new LLMError({ code: 'invalid_request', message: `Invalid request: ${message}`, param: param || 'body', details });
}
