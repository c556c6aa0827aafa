import { LLMError } from '@llmrr/core';

/**
 * Where a NUL character sits in admin input (a JSON value's strings and keys), as a dotted path
 * (`preferences.note`, `name`); undefined when there is none. PostgreSQL text and jsonb cannot hold NUL,
 * and no id, name or setting needs one, so the admin API refuses it in every state mode alike.
 */
export function nulPath(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulPath(value[i], join(path, String(i)));
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, v] of Object.entries(value)) {
    if (key.includes('\0')) return join(path, key.replace(/\0/g, '\\0'));
    const found = nulPath(v, join(path, key));
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Throws a 400 `invalid_request` naming the field when `value` holds a NUL character. */
export function rejectNul(value: unknown, field = ''): void {
  const at = nulPath(value, field);
  if (at !== undefined) throw new LLMError({ code: 'invalid_request', message: `${at || 'the body'} must not contain a NUL character`, param: at || 'body' });
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
