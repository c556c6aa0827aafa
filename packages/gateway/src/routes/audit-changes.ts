import { canonicalJson, type ApiKey, type Tenant } from '@llmrr/core';
import { createHash } from 'node:crypto';

/**
 * The most characters of a value's canonical JSON an audit entry records as is: a longer one is recorded as
 * `{ sha256, length }` of that JSON. Audit rows are append-only and never removed: an admin body (up to the body
 * limit) must not be copied into one whole, once per request.
 */
export const MAX_AUDIT_VALUE_CHARS = 4096;

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** `value` as an audit entry records it: as is, or past `MAX_AUDIT_VALUE_CHARS` its canonical JSON's SHA-256 and length. */
export function auditValue(value: unknown): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return value;
  const json = canonicalJson(value);
  return json.length <= MAX_AUDIT_VALUE_CHARS ? value : { sha256: sha256(json), length: json.length };
}

/**
 * The new values of a tenant's changed `fields` as its `tenant.update` audit entry records them (`details.changes`),
 * read from `tenant` as the store returned it (what is in force: a name trimmed by core, not the text sent), `null`
 * for a field cleared. A tenant's own models by `name` and `engine` only (their `apiKey` and `headers` values are
 * secrets); `preferences` (a loose object) by its key names and the SHA-256 of its canonical JSON (hex: compare it
 * with the tenant read back); any value longer than `MAX_AUDIT_VALUE_CHARS` as JSON by its SHA-256 and length.
 * Shared by the admin API and the config file's seeding (`tenantAuditChanges`).
 */
export function tenantChanges(tenant: Tenant, fields: readonly string[]): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const field of fields) {
    if (field === 'models') {
      changes.models = auditValue(tenant.models?.map((m) => ({ name: m.name, engine: m.engine })) ?? null);
    } else if (field === 'preferences') {
      const prefs = tenant.preferences ?? {};
      changes.preferences = { keys: auditValue(Object.keys(prefs).sort()), sha256: sha256(canonicalJson(prefs)) };
    } else {
      changes[field] = auditValue((tenant as unknown as Record<string, unknown>)[field] ?? null);
    }
  }
  return changes;
}

/** The fields of a key `PATCH /admin/keys/:id` changes (never its `hash`). */
const KEY_FIELDS = ['name', 'limits', 'expiresAt'] as const;

/** The new values of a key's changed `fields` (`key.update`'s `details.changes`), read from `key` as stored; `null` for one cleared. */
export function keyChanges(key: ApiKey, fields: readonly string[]): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const field of KEY_FIELDS) if (fields.includes(field)) changes[field] = auditValue(key[field] ?? null);
  return changes;
}
