import { LLMError, type Tenant } from '@llmrr/core';

/**
 * What the admin API shows in place of a tenant model's `apiKey` and of its `headers` values (which carry
 * credentials as often: `Authorization`, `api-key`, ...): they are write-only, like an API key's secret.
 */
export const REDACTED_SECRET = '[redacted]';

interface ModelSecrets {
  apiKey?: string | undefined;
  headers?: Record<string, string> | undefined;
}

/** A model without its secrets: `apiKey` and each `headers` value as `REDACTED_SECRET` (names and the rest kept). */
function redactModel<M extends ModelSecrets>(model: M): M {
  if (model.apiKey === undefined && model.headers === undefined) return model;
  return {
    ...model,
    ...(model.apiKey !== undefined ? { apiKey: REDACTED_SECRET } : {}),
    ...(model.headers !== undefined ? { headers: Object.fromEntries(Object.keys(model.headers).map((name) => [name, REDACTED_SECRET])) } : {}),
  };
}

/**
 * Tenant models without their secrets (`apiKey`, `headers` values as `REDACTED_SECRET`): as the admin API shows
 * them, and as a server stores a v3 config's tenants' models (the router serves those from the config itself, so
 * the stored copy only shows them; a key given as `${VAR}` stays out of the tenant store).
 */
export function redactModelSecrets<M extends ModelSecrets>(models: readonly M[]): M[] {
  return models.map(redactModel);
}

/** A tenant as the admin API shows it: its own models without their secrets. */
export function publicTenant(tenant: Tenant): Tenant {
  return tenant.models ? { ...tenant, models: redactModelSecrets(tenant.models) } : tenant;
}

/**
 * Whether a secret is `REDACTED_SECRET`, ignoring spaces and line ends around it (as fetch ignores them around a
 * header value: `" [redacted]"` and `"[redacted]\n"` would go upstream as the placeholder).
 */
export function isRedacted(value: string | undefined): boolean {
  return value !== undefined && value.trim() === REDACTED_SECRET;
}

/** Where a model holds `REDACTED_SECRET` (`isRedacted`): `models.<i>.apiKey`, `models.<i>.headers.<name>`, in that order. */
export function redactedFields(model: ModelSecrets, i: number): string[] {
  const fields = isRedacted(model.apiKey) ? [`models.${i}.apiKey`] : [];
  for (const [name, value] of Object.entries(model.headers ?? {})) if (isRedacted(value)) fields.push(`models.${i}.headers.${name}`);
  return fields;
}

/**
 * Refuses a model whose `apiKey` or a `headers` value is `REDACTED_SECRET` (`isRedacted`; a 400 naming it): a tenant
 * read back from the admin API and sent again would otherwise be stored with that text as its key, and every call of
 * the model would fail upstream.
 */
export function rejectRedacted(models: ReadonlyArray<ModelSecrets> | null | undefined): void {
  models?.forEach((m, i) => {
    const at = redactedFields(m, i)[0];
    if (at === undefined) return;
    throw new LLMError({
      code: 'invalid_request',
      message: `${at}: "${REDACTED_SECRET}" is how the admin API shows a stored secret, not one; send the value itself (or the key's variable as apiKeyEnv)`,
      param: at,
    });
  });
}
