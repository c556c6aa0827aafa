import { LLMError, type Tenant } from '@llmrr/core';

/**
 * What the admin API shows in place of a tenant model's `apiKey`, of its `headers` values (which carry credentials
 * as often: `Authorization`, `api-key`, ...), of its `baseURL`'s userinfo and query values (`?key=...`) and of its
 * credential-named `options`: they are write-only, like an API key's secret.
 */
export const REDACTED_SECRET = '[redacted]';

interface ModelSecrets {
  apiKey?: string | undefined;
  headers?: Record<string, string> | undefined;
  baseURL?: string | undefined;
  options?: Record<string, unknown> | undefined;
}

/**
 * An option whose name says it holds a credential (`apiKey`, `api_key`, `token`, `accessToken`, `secret`, `password`,
 * `credentials`, `authorization`, `auth`, `signature`, `sig`): its string values are write-only, like `apiKey`. The
 * built-in engines take none (they refuse unknown options); an engine added with core's `registerEngine` may.
 */
const SECRET_OPTION = /(?:key|token|secret|passw(?:or)?d|credentials?|authorization|auth|signature|sig)$/i;

/**
 * `url` with its credentials as `REDACTED_SECRET`: every query parameter's value (`?key=...`, `?api-key=...`,
 * `?code=...`; names kept), as a header's value is, and the userinfo (`https://user:pass@host` ->
 * `https://[redacted]@host`: the model schema refuses one, an older row may hold it). A URL that does not parse is
 * kept (the model schema takes none).
 */
function redactURL(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  if (u.username === '' && u.password === '' && u.search === '') return url;
  const query = u.search === '' ? '' : `?${u.search.slice(1).split('&').map((pair) => `${pair.split('=')[0]}=${REDACTED_SECRET}`).join('&')}`;
  return `${u.protocol}//${u.username !== '' || u.password !== '' ? `${REDACTED_SECRET}@` : ''}${u.host}${u.pathname}${query}${u.hash}`;
}

/** `options` with the string values of `SECRET_OPTION` keys (at any depth) as `REDACTED_SECRET`; `options` itself when none. */
function redactOptions(options: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(options)) {
    let next: unknown = v;
    if (typeof v === 'string' && SECRET_OPTION.test(k)) next = REDACTED_SECRET;
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) next = redactOptions(v as Record<string, unknown>);
    if (next === v) continue;
    (out ??= { ...options })[k] = next;
  }
  return out ?? options;
}

/**
 * A model without its secrets (names and the rest kept): `apiKey`, each `headers` value, `baseURL`'s userinfo and
 * query values (`redactURL`), and the credential-named `options` (`SECRET_OPTION`), each as `REDACTED_SECRET`.
 */
function redactModel<M extends ModelSecrets>(model: M): M {
  const baseURL = model.baseURL === undefined ? undefined : redactURL(model.baseURL);
  const options = model.options === undefined ? undefined : redactOptions(model.options);
  if (model.apiKey === undefined && model.headers === undefined && baseURL === model.baseURL && options === model.options) return model;
  return {
    ...model,
    ...(model.apiKey !== undefined ? { apiKey: REDACTED_SECRET } : {}),
    ...(model.headers !== undefined ? { headers: Object.fromEntries(Object.keys(model.headers).map((name) => [name, REDACTED_SECRET])) } : {}),
    ...(baseURL !== undefined ? { baseURL } : {}),
    ...(options !== undefined ? { options } : {}),
  };
}

/**
 * Tenant models without their secrets (`redactModel`): as a server stores a v3 config's tenants' models (the router
 * serves those from the config itself, so the stored copy only shows them; a key given as `${VAR}` stays out of the
 * tenant store). The admin API shows them so too (`publicTenant`).
 */
export function redactModelSecrets<M extends ModelSecrets>(models: readonly M[]): M[] {
  return models.map(redactModel);
}

/**
 * A model as the admin API shows it: `redactModel`, except that an `apiKey` or a header value the store holds as
 * `REDACTED_SECRET` (a v3 config's tenant, stored so: `redactModelSecrets`, that the config no longer lists) is left
 * out, as not set: it is no key, and each call of the model fails naming it until it is set (`TenantModelSync`).
 */
function shownModel<M extends ModelSecrets>(model: M): M {
  const unset = isRedacted(model.apiKey) || Object.values(model.headers ?? {}).some(isRedacted);
  if (!unset) return redactModel(model);
  const { apiKey, headers, ...rest } = model;
  const kept = Object.entries(headers ?? {}).filter(([, v]) => !isRedacted(v));
  return redactModel({ ...rest, ...(apiKey !== undefined && !isRedacted(apiKey) ? { apiKey } : {}), ...(kept.length > 0 ? { headers: Object.fromEntries(kept) } : {}) } as M);
}

/**
 * A tenant as the admin API shows it: its own models without their secrets (`shownModel`). `fromConfig`: a tenant the
 * router's v3 config defines, whose models the router serves from the config, with their secrets: a placeholder in
 * its stored copy stands for a secret that is set, so it is shown as one (`redactModel`).
 */
export function publicTenant(tenant: Tenant, fromConfig = false): Tenant {
  return tenant.models ? { ...tenant, models: tenant.models.map(fromConfig ? redactModel : shownModel) } : tenant;
}

/**
 * Whether a secret is `REDACTED_SECRET`, ignoring spaces and line ends around it (as fetch ignores them around a
 * header value: `" [redacted]"` and `"[redacted]\n"` would go upstream as the placeholder).
 */
export function isRedacted(value: string | undefined): boolean {
  return value !== undefined && value.trim() === REDACTED_SECRET;
}

/** Whether a `baseURL` holds `REDACTED_SECRET` anywhere (as `redactURL` writes it, or percent-encoded). */
function urlRedacted(url: string | undefined): boolean {
  if (url === undefined) return false;
  const lower = url.toLowerCase();
  return lower.includes(REDACTED_SECRET) || lower.includes('%5bredacted%5d');
}

/** The `SECRET_OPTION` paths of `options` (dotted, from `options.`) whose value is `REDACTED_SECRET`. */
function redactedOptions(options: Record<string, unknown> | undefined, at = 'options'): string[] {
  const found: string[] = [];
  for (const [k, v] of Object.entries(options ?? {})) {
    if (typeof v === 'string' && SECRET_OPTION.test(k) && isRedacted(v)) found.push(`${at}.${k}`);
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) found.push(...redactedOptions(v as Record<string, unknown>, `${at}.${k}`));
  }
  return found;
}

/**
 * Where a model holds `REDACTED_SECRET` (`isRedacted`): `models.<i>.apiKey`, `models.<i>.headers.<name>`,
 * `models.<i>.baseURL`, `models.<i>.options.<path>`, in that order.
 */
export function redactedFields(model: ModelSecrets, i: number): string[] {
  const fields = isRedacted(model.apiKey) ? [`models.${i}.apiKey`] : [];
  for (const [name, value] of Object.entries(model.headers ?? {})) if (isRedacted(value)) fields.push(`models.${i}.headers.${name}`);
  if (urlRedacted(model.baseURL)) fields.push(`models.${i}.baseURL`);
  for (const path of redactedOptions(model.options)) fields.push(`models.${i}.${path}`);
  return fields;
}

/**
 * Refuses a model whose `apiKey`, a `headers` value, `baseURL` or a credential option holds `REDACTED_SECRET`
 * (`redactedFields`; a 400 naming it): a tenant read back from the admin API and sent again would otherwise be stored
 * with that text as its key, and every call of the model would fail upstream. The stored secret stays as it was.
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
