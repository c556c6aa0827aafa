import { LLMError, toLLMError, USAGE_STATUSES, type ApiKey, type AuditQuery, type Tenant, type UsageGroupBy, type UsageQuery, type UsageStatus } from '@llmrr/core';
import type { Hono } from 'hono';
import { auditAuthFailure } from '../auth/authenticate.js';
import { secretsEqual } from '../auth/constant-time.js';
import { extractApiKey } from '../auth/extract-key.js';
import { clientIp, type AppContext, type AppEnv, type GatewayDeps } from '../calls/context.js';
import { jsonResponse } from '../calls/model-call.js';
import { errorResponse, mayHaveBeenWritten } from '../http/error-body.js';
import { incomingFromRequest } from '../http/incoming.js';
import { readJsonBody } from '../http/read-json-body.js';
import { validateBody } from '../http/validate.js';
import {
  AdminBudgetPutSchema,
  AdminKeyCreateSchema,
  AdminKeyPatchSchema,
  AdminLimitsPutSchema,
  AdminTenantCreateSchema,
  AdminTenantPatchSchema,
} from '../schemas/admin.js';
import type { GatewayStores } from '../types.js';
import { settled } from '../tenancy/settled.js';
import { configTenantIds, type TenantModelSync } from '../tenants/tenant-model-sync.js';
import { rejectNul } from './admin-input.js';
import { publicTenant as shownTenant, rejectRedacted, routerFactories } from './admin-secrets.js';
import { parseRange, periodRange } from './admin-time.js';
import { isoDateTimeMs } from '../schemas/iso-date-time.js';
import { budgetPeriodToCarry, carryAfterUpdate, carryBudgetSpend } from './budget-period-change.js';
import { checkTenantModels } from './check-tenant-models.js';
import { beforeCursor, checkSummaryStatus, usagePage } from './usage-listing.js';
import { auditValue, keyChanges, tenantChanges } from './audit-changes.js';

/** A key as the admin API shows it: never the hash (nor, after creation, the secret). */
function publicKey(key: ApiKey): Omit<ApiKey, 'hash'> {
  const { hash: _hash, ...rest } = key;
  return rest;
}

function notFound(what: string, id: string): LLMError {
  return new LLMError({ code: 'not_found', message: `${what} "${id}" not found` });
}

type Audit = (action: string, target?: string, details?: Record<string, unknown>) => Promise<void>;
type AdminHandler = (c: AppContext, stores: GatewayStores, audit: Audit) => Promise<Response>;

/**
 * `change`'s result. A failure saying the change may have been written (the store could not confirm it; core's
 * `details.mayHaveBeenWritten`: the 503 says to check before retrying) is audited first, as `action` on `target` (a
 * creation's: the id the store says it would have had, `details.id`, when it says one) with `details` and
 * `confirmed: false` (a key change's with the key's tenant the store names, `details.tenantId`, when `details` has
 * none: the routes do not read the key first): a change that was in fact made has its entry in the log all the same.
 * When that entry is not written either, `audit` has logged it (as a change that may have been written) and the
 * guard's 503 carries `x-llmrr-audit: failed`. Then `unconfirmed` runs, if given (what must follow the change even
 * when it is not known to have been made), before the failure goes on.
 */
async function auditedIfUnconfirmed<T>(
  change: Promise<T>,
  audit: Audit,
  action: string,
  target: string | undefined,
  details: Record<string, unknown> = {},
  unconfirmed?: () => Promise<void>,
): Promise<T> {
  try {
    return await change;
  } catch (e) {
    if (LLMError.isInstance(e) && e.code === 'store_unavailable' && mayHaveBeenWritten(e)) {
      const named = e.details as { id?: unknown; tenantId?: unknown } | undefined;
      const tenant = details.tenantId === undefined && typeof named?.tenantId === 'string' ? { tenantId: named.tenantId } : {};
      await audit(action, target ?? (typeof named?.id === 'string' ? named.id : undefined), { ...tenant, ...details, confirmed: false });
      await unconfirmed?.();
    }
    throw e;
  }
}

/**
 * Admin API under `/admin`, guarded by the admin key (`Authorization: Bearer` or `X-API-Key`).
 * Every change is written to the audit log (never with secrets); a wrong key is a 401 and an audit entry.
 * The entry is written after the change: when that write fails the change is in force all the same, so it is
 * answered as done (a created or rotated key's secret exists only in that answer), with `x-llmrr-audit: failed`
 * and the error logged. The tenant store and the audit log are separate store interfaces, so a change and its
 * entry share no transaction. A change the store could not confirm (a 503 saying it may have been written, which it
 * may have been) is audited before that answer, its entry's details saying `confirmed: false`; that 503 too has
 * `x-llmrr-audit: failed` when the entry could not be written.
 */
export function registerAdminRoutes(app: Hono<AppEnv>, deps: GatewayDeps, tenantModels?: TenantModelSync): void {
  // The tenants the router's v3 config defines, as the gateway is built (the router adds admin tenants it serves later).
  const configTenants = configTenantIds(deps.router);
  /** Where an engine's declared secret options are read: the router's own factories (over the registered ones). */
  const factories = routerFactories(deps.router);
  /** A tenant as answered: without its models' secrets; a removed config tenant's placeholders as not set. */
  const publicTenant = (tenant: Tenant) => shownTenant(tenant, configTenants.has(tenant.id), factories);
  /** Loads a created or changed tenant's own models at once (other processes do it on its next request). */
  const syncModels = (tenant: Tenant, since: number | undefined) => {
    tenantModels?.sync(tenant, since);
  };
  /** A tenant's own model may not take a cascade's name (the cascade would answer for it). */
  const checkCascadeNames = (models: ReadonlyArray<{ name: string; alias?: string | undefined }> | null | undefined) => {
    if (!models) return;
    // From the config: a cascade is not listed by models() while one of its steps is disabled or missing.
    const cascades = new Set([
      ...(deps.router.routerConfig?.routing.cascades ?? []).map((c) => c.name),
      ...deps.router.models().filter((d) => d.cascade !== undefined).map((d) => d.name),
    ]);
    if (cascades.size === 0) return;
    models.forEach((m, i) => {
      for (const field of ['name', 'alias'] as const) {
        const value = m[field];
        if (value !== undefined && cascades.has(value)) {
          throw new LLMError({ code: 'invalid_request', message: `models.${i}.${field}: "${value}" is the name of a cascade (routing.cascades)`, param: `models.${i}.${field}` });
        }
      }
    });
  };
  /** A tenant's preferred strategy must be one the router has: else every request of the tenant would be refused. */
  const checkStrategy = (strategy: string | undefined) => {
    if (strategy === undefined || !deps.router.strategyNames) return;
    const known = deps.router.strategyNames();
    if (!known.includes(strategy)) {
      throw new LLMError({ code: 'invalid_request', message: `preferences.strategy: unknown strategy "${strategy.slice(0, 100)}" (known: ${known.join(', ')})`, param: 'preferences.strategy' });
    }
  };
  /** A tenant's `preferences.clientStrategies` may name only strategies the router has (a typo would refuse its clients). */
  const checkClientStrategies = (names: boolean | readonly string[] | undefined) => {
    if (typeof names === 'boolean' || names === undefined || !deps.router.strategyNames) return;
    const known = deps.router.strategyNames();
    names.forEach((name, i) => {
      if (known.includes(name)) return;
      const param = `preferences.clientStrategies.${i}`;
      throw new LLMError({ code: 'invalid_request', message: `${param}: unknown strategy "${name.slice(0, 100)}" (known: ${known.join(', ')})`, param });
    });
  };
  /** `query`: the query parameters the route takes (any other is a 400 naming it: `checkQuery`). */
  const guard =
    (handler: AdminHandler, query: readonly string[] = []) =>
    async (c: AppContext): Promise<Response> => {
      const requestId = c.get('requestId');
      const stores = deps.stores;
      const ip = clientIp(c);
      let auditFailed = false;
      try {
        if (!deps.auth.adminKey || !stores) {
          throw new LLMError({ code: 'not_found', message: 'The admin API is disabled (set an admin key, e.g. LLMRR_ADMIN_KEY, and configure stores)' });
        }
        const presented = extractApiKey(c.req.raw.headers);
        if (presented === undefined || !(await secretsEqual(presented, deps.auth.adminKey))) {
          await auditAuthFailure(stores.audit, { reason: presented === undefined ? 'missing_key' : 'wrong_admin_key', requestId, ...(ip ? { ip } : {}), extra: { scope: 'admin', path: c.req.path } }, (m, e) => deps.log(m, requestId, e));
          throw new LLMError({ code: 'authentication', message: 'Invalid or missing admin key' });
        }
        const audit = async (action: string, target?: string, details?: Record<string, unknown>) => {
          try {
            await stores.audit.append({ actor: 'admin', action, ...(target ? { target } : {}), details: { requestId, ...details }, ...(ip ? { ip } : {}) });
          } catch (e) {
            auditFailed = true;
            // An unconfirmed change's entry (`auditedIfUnconfirmed`): the change is not known to have been applied.
            const what = details?.confirmed === false ? 'admin change may have been written; its audit entry was not written' : 'admin change applied but its audit entry was not written';
            deps.log(`${what}: ${action}${target ? ` ${target}` : ''}`, requestId, e);
          }
        };
        // Path and query parameters: a NUL is a 400 naming the parameter (PostgreSQL text cannot hold one); the query
        // string has the route's own parameters only (`checkQuery`).
        for (const [name, value] of Object.entries(c.req.param() as Record<string, string>)) rejectNul(value, name);
        checkQuery(c, query);
        const res = await handler(c, stores, audit);
        if (auditFailed) res.headers.set('x-llmrr-audit', 'failed');
        return res;
      } catch (e) {
        const err = toLLMError(e);
        // A 501 `unsupported` (a ledger of the caller's own that does not filter by status: `usage-listing.ts`) is what
        // this server cannot do, said to the admin who asked, as a 4xx is: no server fault to log.
        if (err.statusCode >= 500 && err.code !== 'unsupported') deps.log(`admin request failed: ${err.code}`, requestId, e);
        // An unconfirmed change's 503 whose `confirmed: false` entry was not written either says so, as a done one does.
        return errorResponse(err, requestId, 'openai', auditFailed ? { 'x-llmrr-audit': 'failed' } : {});
      }
    };

  const body = async (c: AppContext) => {
    const json = await readJsonBody(incomingFromRequest(c.req.raw, clientIp(c)), deps.bodyRead);
    rejectNul(json);
    return json;
  };
  const ok = (c: AppContext, value: unknown, status = 200) => jsonResponse(value, c.get('requestId'), {}, status);

  // Tenants
  app.get(
    '/admin/tenants',
    guard(async (c, s) => {
      const limit = limitParam(c);
      const offset = intParam(c, 'offset', 0);
      // Listed by id: `after` (a page's last tenant id) is a cursor a tenant deleted between two pages does not move,
      // where `offset` would skip the tenant after it.
      const after = c.req.query('after');
      return ok(c, { data: (await s.tenants.listTenants({ limit, offset, ...(after !== undefined ? { after } : {}) })).map(publicTenant) });
    }, [...PAGE, 'after']),
  );
  app.post(
    '/admin/tenants',
    guard(async (c, s, audit) => {
      const input = validateBody(AdminTenantCreateSchema, await body(c));
      rejectRedacted(input.models, factories);
      checkTenantModels(input.models, deps.router);
      checkCascadeNames(input.models);
      checkStrategy(input.preferences?.strategy);
      checkClientStrategies(input.preferences?.clientStrategies);
      if (input.id !== undefined) await checkIdUnused(s, input.id);
      const since = tenantModels?.begin();
      const tenant = await auditedIfUnconfirmed(s.tenants.createTenant(input), audit, 'tenant.create', input.id, { name: auditValue(input.name), ...(input.tier !== undefined ? { tier: input.tier } : {}) });
      syncModels(tenant, since);
      // Its models by name (past MAX_AUDIT_VALUE_CHARS as JSON, by SHA-256 and length, as tenant.update's).
      await audit('tenant.create', tenant.id, { name: auditValue(tenant.name), tier: tenant.tier, ...(tenant.models ? { models: auditValue(tenant.models.map((m) => m.name)) } : {}) });
      return ok(c, publicTenant(tenant), 201);
    }),
  );
  app.get(
    '/admin/tenants/:id',
    guard(async (c, s) => {
      const id = c.req.param('id')!;
      const tenant = await s.tenants.getTenant(id);
      if (!tenant) throw notFound('Tenant', id);
      return ok(c, publicTenant(tenant));
    }),
  );
  app.patch(
    '/admin/tenants/:id',
    guard(async (c, s, audit) => {
      const id = c.req.param('id')!;
      const patch = validateBody(AdminTenantPatchSchema, await body(c));
      rejectRedacted(patch.models, factories);
      checkTenantModels(patch.models ?? undefined, deps.router);
      checkCascadeNames(patch.models);
      checkStrategy(patch.preferences?.strategy);
      checkClientStrategies(patch.preferences?.clientStrategies);
      // A deletion heard while the update is on its way (another process's) keeps the tenant out of the router.
      const since = tenantModels?.begin();
      const carry = patch.budget ? budgetPeriodToCarry((await s.tenants.getTenant(id))?.budget ?? null, patch.budget) : undefined;
      const at = deps.now();
      if (carry) await carryBudgetSpend(s, id, carry, at);
      const tenant = await auditedIfUnconfirmed(s.tenants.updateTenant(id, patch), audit, 'tenant.update', id, { fields: Object.keys(patch) });
      // Again, up to the update: the rows of calls that ended since the first carry (core's budget stores already count
      // them in the new period too, and `raiseSpent` never lowers; a custom store may count them only in the old one).
      if (carry) await carryAfterUpdate(s, id, carry, at, deps.now(), (e) => deps.log(`tenant "${id}" updated, but its budget spend could not be carried again`, c.get('requestId'), e));
      syncModels(tenant, since);
      await audit('tenant.update', id, { fields: Object.keys(patch), changes: tenantChanges(tenant, Object.keys(patch)) });
      return ok(c, publicTenant(tenant));
    }),
  );
  /**
   * What follows a tenant's deletion (`done`: how the log names it), each step idempotent: its own models and its
   * learning go (feedback layers, pending decisions), whether or not it had own models; then its cached answers (exact
   * and semantic; a shared store's for every process): a failure is logged, the deletion stands (the entries then
   * expire with their TTL).
   */
  const forgetTenant = async (c: AppContext, id: string, done: string) => {
    // A custom router's forgetTenant may throw or reject (plain JS, or async): logged, and its caches are still erased,
    // the deletion told (never an unhandled rejection). Not waited for: one that never settles holds back nothing.
    const forget = tenantModels ? (t: string) => tenantModels.deleted(t) : deps.router.forgetTenant?.bind(deps.router);
    if (forget) void settled(() => Promise.resolve(forget(id))).catch((e: unknown) => deps.log(`tenant "${id}" ${done}, but its models and learning could not be forgotten here`, c.get('requestId'), e));
    const erase = deps.router.eraseTenantCaches?.bind(deps.router);
    if (erase) await settled(() => Promise.resolve(erase(id))).catch((e: unknown) => deps.log(`tenant "${id}" ${done}, but its cached answers could not be erased`, c.get('requestId'), e));
  };
  /** Every other process sharing the stores forgets it too (shared mode); a notice lost is logged, the deletion stands. */
  const tellDeleted = async (c: AppContext, s: GatewayStores, id: string, done: string) => {
    const events = s.tenantEvents;
    if (events) await settled(() => events.deleted(id)).catch((e: unknown) => deps.log(`tenant "${id}" ${done}, but other processes were not told`, c.get('requestId'), e));
  };
  app.delete(
    '/admin/tenants/:id',
    guard(async (c, s, audit) => {
      const id = c.req.param('id')!;
      // A deletion the store cannot confirm (it may have been made: its 503) is followed as a done one is, before that
      // 503: a retry would find no tenant (a 404) and follow nothing, leaving its models, learning and cached answers
      // here, and its key lookups in other processes' auth caches. A tenant that was not deleted loses only what its
      // next requests make again (its models are set again, its answers cached again).
      const unconfirmed = async () => {
        await forgetTenant(c, id, 'may have been deleted');
        await tellDeleted(c, s, id, 'may have been deleted');
      };
      const deleted = await auditedIfUnconfirmed(s.tenants.deleteTenant(id), audit, 'tenant.delete', id, {}, unconfirmed);
      if (!deleted) throw notFound('Tenant', id);
      // Before the answer.
      await forgetTenant(c, id, 'deleted');
      await audit('tenant.delete', id);
      await tellDeleted(c, s, id, 'deleted');
      return ok(c, { id, deleted: true });
    }),
  );

  // Limits and budgets
  app.get(
    '/admin/tenants/:id/limits',
    guard(async (c, s) => {
      const id = c.req.param('id')!;
      const tenant = await s.tenants.getTenant(id);
      if (!tenant) throw notFound('Tenant', id);
      const current = tenant.limits ? await s.rateLimiter.peek([{ kind: 'tenant', id, limits: tenant.limits }]) : {};
      return ok(c, { limits: tenant.limits ?? null, current });
    }),
  );
  app.put(
    '/admin/tenants/:id/limits',
    guard(async (c, s, audit) => {
      const id = c.req.param('id')!;
      const limits = validateBody(AdminLimitsPutSchema, await body(c));
      const tenant = await auditedIfUnconfirmed(s.tenants.updateTenant(id, { limits }), audit, 'limits.update', id, { limits });
      await audit('limits.update', id, { limits });
      return ok(c, publicTenant(tenant));
    }),
  );
  app.get(
    '/admin/tenants/:id/budget',
    guard(async (c, s) => {
      const id = c.req.param('id')!;
      const tenant = await s.tenants.getTenant(id);
      if (!tenant) throw notFound('Tenant', id);
      if (!tenant.budget) return ok(c, { budget: null });
      const state = await s.budgets.spent(id, tenant.budget.period);
      return ok(c, { budget: tenant.budget, ...state, periodEnd: Number.isFinite(state.periodEnd) ? state.periodEnd : null, remainingUsd: Math.max(0, tenant.budget.amountUsd - state.spentUsd - state.reservedUsd) });
    }),
  );
  app.put(
    '/admin/tenants/:id/budget',
    guard(async (c, s, audit) => {
      const id = c.req.param('id')!;
      const budget = validateBody(AdminBudgetPutSchema, await body(c));
      const carry = budget ? budgetPeriodToCarry((await s.tenants.getTenant(id))?.budget ?? null, budget) : undefined;
      const at = deps.now();
      if (carry) await carryBudgetSpend(s, id, carry, at);
      const tenant = await auditedIfUnconfirmed(s.tenants.updateTenant(id, { budget }), audit, 'budget.update', id, { budget });
      // Again, up to the update: the rows of calls that ended since the first carry (core's budget stores already count
      // them in the new period too, and `raiseSpent` never lowers; a custom store may count them only in the old one).
      if (carry) await carryAfterUpdate(s, id, carry, at, deps.now(), (e) => deps.log(`tenant "${id}" budget set, but its spend could not be carried again`, c.get('requestId'), e));
      await audit('budget.update', id, { budget });
      return ok(c, publicTenant(tenant));
    }),
  );

  // Keys
  app.get(
    '/admin/tenants/:id/keys',
    guard(async (c, s) => {
      const id = c.req.param('id')!;
      if (!(await s.tenants.getTenant(id))) throw notFound('Tenant', id);
      return ok(c, { data: (await s.tenants.listKeys(id)).map(publicKey) });
    }),
  );
  app.post(
    '/admin/tenants/:id/keys',
    guard(async (c, s, audit) => {
      const id = c.req.param('id')!;
      const input = validateBody(AdminKeyCreateSchema, await body(c));
      const expiresAt = input.expiresAt === undefined ? undefined : toEpochMs(input.expiresAt);
      const created = await auditedIfUnconfirmed(
        s.tenants.createKey(id, { name: input.name, ...(input.limits ? { limits: input.limits } : {}), ...(expiresAt !== undefined ? { expiresAt } : {}) }),
        audit,
        'key.create',
        undefined,
        { tenantId: id, name: auditValue(input.name) },
      );
      await audit('key.create', created.key.id, { tenantId: id, name: auditValue(created.key.name), prefix: created.key.prefix });
      return ok(c, { key: publicKey(created.key), secret: created.secret, note: 'The secret is shown only once; store it now.' }, 201);
    }),
  );
  app.get(
    '/admin/keys/:keyId',
    guard(async (c, s) => {
      const keyId = c.req.param('keyId')!;
      const key = await s.tenants.getKey(keyId);
      if (!key) throw notFound('Key', keyId);
      return ok(c, publicKey(key));
    }),
  );
  app.patch(
    '/admin/keys/:keyId',
    guard(async (c, s, audit) => {
      const keyId = c.req.param('keyId')!;
      const input = validateBody(AdminKeyPatchSchema, await body(c));
      const key = await auditedIfUnconfirmed(
        s.tenants.updateKey(keyId, {
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.limits !== undefined ? { limits: input.limits } : {}),
          ...(input.expiresAt !== undefined ? { expiresAt: input.expiresAt === null ? null : toEpochMs(input.expiresAt) } : {}),
        }),
        audit,
        'key.update',
        keyId,
        { fields: Object.keys(input) },
      );
      // A key carries no secret but its hash (never recorded): the entry holds every new value, as stored.
      await audit('key.update', keyId, { tenantId: key.tenantId, fields: Object.keys(input), changes: keyChanges(key, Object.keys(input)) });
      return ok(c, publicKey(key));
    }),
  );
  app.get(
    '/admin/keys/:keyId/limits',
    guard(async (c, s) => {
      const keyId = c.req.param('keyId')!;
      const key = await s.tenants.getKey(keyId);
      if (!key) throw notFound('Key', keyId);
      const current = key.limits ? await s.rateLimiter.peek([{ kind: 'key', id: keyId, limits: key.limits }]) : {};
      return ok(c, { limits: key.limits ?? null, current });
    }),
  );
  app.put(
    '/admin/keys/:keyId/limits',
    guard(async (c, s, audit) => {
      const keyId = c.req.param('keyId')!;
      const limits = validateBody(AdminLimitsPutSchema, await body(c));
      const key = await auditedIfUnconfirmed(s.tenants.updateKey(keyId, { limits }), audit, 'key.limits.update', keyId, { limits });
      await audit('key.limits.update', keyId, { tenantId: key.tenantId, limits });
      return ok(c, publicKey(key));
    }),
  );
  app.post(
    '/admin/keys/:keyId/rotate',
    guard(async (c, s, audit) => {
      const keyId = c.req.param('keyId')!;
      // A compare-and-set on the hash read: of two rotations at once (here or in another process) one wins, the other
      // is a 409 `conflict` instead of a secret the winner's rotation has made dead already.
      const read = await s.tenants.getKey(keyId);
      if (!read) throw notFound('Key', keyId);
      const created = await auditedIfUnconfirmed(s.tenants.rotateKey(keyId, { expectedHash: read.hash }), audit, 'key.rotate', keyId, { tenantId: read.tenantId });
      await audit('key.rotate', keyId, { tenantId: created.key.tenantId, prefix: created.key.prefix });
      return ok(c, { key: publicKey(created.key), secret: created.secret, note: 'The secret is shown only once; the old one no longer works.' });
    }),
  );
  // Idempotent: a key revoked already is answered as it is, without a second audit entry. The store's write decides
  // which call revoked it (`changed`), so concurrent revocations, in any number of processes, write one entry.
  const revoke = guard(async (c, s, audit) => {
    const keyId = c.req.param('keyId')!;
    const { key, changed } = await auditedIfUnconfirmed(s.tenants.revokeKey(keyId), audit, 'key.revoke', keyId);
    if (changed) await audit('key.revoke', keyId, { tenantId: key.tenantId });
    return ok(c, publicKey(key));
  });
  app.post('/admin/keys/:keyId/revoke', revoke);
  app.delete('/admin/keys/:keyId', revoke);

  // Usage, invoices, audit
  app.get(
    '/admin/usage',
    guard(async (c, s) => {
      const q = usageQuery(c);
      const groupBy = c.req.query('groupBy');
      if (groupBy !== undefined && !['model', 'tenant', 'key', 'day', 'status'].includes(groupBy)) {
        throw new LLMError({ code: 'invalid_request', message: 'groupBy must be one of model, tenant, key, day, status', param: 'groupBy' });
      }
      const summary = await s.ledger.summary({ ...q, ...(groupBy ? { groupBy: groupBy as UsageGroupBy } : {}) });
      checkSummaryStatus(summary, q.status);
      return ok(c, summary);
    }, [...USAGE_FILTERS, 'groupBy']),
  );
  app.get(
    '/admin/usage/entries',
    guard(async (c, s) => {
      const q: UsageQuery = { ...usageQuery(c), limit: limitParam(c), offset: intParam(c, 'offset', 0) };
      // The next page after the row `beforeId` (a page's last): a cursor rows written meanwhile do not move, where
      // `offset` would list a row again for each call answered between two pages. Resolved here to `before` (which
      // every ledger takes; one of the caller's own may not know `beforeId`), from a row the listing holds only.
      const beforeId = c.req.query('beforeId');
      if (beforeId !== undefined) q.before = await beforeCursor(s.ledger, beforeId, q);
      // With `status`, a page past offset 0 of a ledger that does not say it filters by status is counted here.
      const rows = await usagePage(s.ledger, q, MAX_LIMIT);
      return ok(c, { data: rows });
    }, [...USAGE_FILTERS, ...PAGE, 'beforeId']),
  );
  app.get(
    '/admin/usage/:requestId',
    guard(async (c, s) => {
      const requestId = c.req.param('requestId')!;
      const entry = await s.ledger.get(requestId);
      if (!entry) throw notFound('Usage record', requestId);
      return ok(c, entry);
    }),
  );
  app.get(
    '/admin/tenants/:id/invoice',
    guard(async (c, s) => {
      const id = c.req.param('id')!;
      const period = c.req.query('period');
      // Both would be a guess at which range was meant (an invoice for another range than the one asked for).
      const also = period !== undefined ? (['from', 'to'] as const).find((p) => c.req.query(p) !== undefined) : undefined;
      if (also) throw new LLMError({ code: 'invalid_request', message: `${also} cannot be given with period (give period, or from and to)`, param: also });
      const range = period !== undefined ? periodRange(period) : invoiceRange(parseRange(c.req.query('from'), c.req.query('to')), deps.now());
      // A deleted tenant's invoice stays readable (its usage records are kept under its id); an id that never was a
      // tenant is a 404, as on /budget, /limits and /keys.
      if (!(await s.tenants.getTenant(id)) && (await formerTenant(s, id)) === undefined) throw notFound('Tenant', id);
      return ok(c, await s.ledger.invoice(id, range.start, range.end));
    }, ['period', 'from', 'to']),
  );
  app.get(
    '/admin/audit',
    guard(async (c, s) => {
      const order = c.req.query('order');
      if (order !== undefined && order !== 'asc' && order !== 'desc') throw new LLMError({ code: 'invalid_request', message: 'order must be asc or desc', param: 'order' });
      const { from, to } = parseRange(c.req.query('from'), c.req.query('to'));
      const afterSeq = c.req.query('afterSeq') === undefined ? undefined : intParam(c, 'afterSeq', 0);
      const beforeSeq = c.req.query('beforeSeq') === undefined ? undefined : intParam(c, 'beforeSeq', 0);
      // As a `to` before `from`: a range of seqs that holds nothing is a mistake, not an empty page (seq starts at 1).
      // `beforeSeq` one above `afterSeq` (or 1) stays an empty page: where paging by the last seq of a page ends.
      if (beforeSeq !== undefined && beforeSeq < 1) throw new LLMError({ code: 'invalid_request', message: `beforeSeq must be at least 1 (seq starts at 1), got ${beforeSeq}`, param: 'beforeSeq' });
      if (beforeSeq !== undefined && afterSeq !== undefined && afterSeq >= beforeSeq) {
        throw new LLMError({ code: 'invalid_request', message: `beforeSeq must be greater than afterSeq (the range holds nothing), got afterSeq=${afterSeq}, beforeSeq=${beforeSeq}`, param: 'beforeSeq' });
      }
      const q: AuditQuery = {
        limit: limitParam(c),
        ...(order ? { order } : {}),
        ...(c.req.query('actor') ? { actor: c.req.query('actor')! } : {}),
        ...(c.req.query('action') ? { action: c.req.query('action')! } : {}),
        ...(c.req.query('target') ? { target: c.req.query('target')! } : {}),
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
        ...(afterSeq !== undefined ? { afterSeq } : {}),
        ...(beforeSeq !== undefined ? { beforeSeq } : {}),
      };
      return ok(c, { data: await s.audit.list(q) });
    }, ['actor', 'action', 'target', 'from', 'to', 'afterSeq', 'beforeSeq', 'limit', 'order']),
  );
  app.get(
    '/admin/audit/verify',
    guard(async (c, s) => ok(c, await s.audit.verify())),
  );
}

/**
 * A deleted tenant's id is never given to a new tenant: its usage records are never rewritten, and a call of
 * the deleted tenant still in flight (here or in another gateway process) records its usage and budget spend
 * under the id after the deletion. Known from the ledger (rows of the id) or the audit log (its deletion).
 * Throws `tenant_id_in_use` for such an id; an existing tenant's id is left to `createTenant` (a `conflict`).
 * Exported (as `checkTenantIdUnused`) for servers that create tenants from a config file.
 */
export async function checkIdUnused(s: Pick<GatewayStores, 'tenants' | 'ledger' | 'audit'>, id: string): Promise<void> {
  if (await s.tenants.getTenant(id)) return;
  const trace = await formerTenant(s, id);
  if (trace === undefined) return;
  throw new LLMError({
    code: 'tenant_id_in_use',
    message: `Tenant id "${id}" belonged to a deleted tenant${trace === 'usage' ? ' and has its usage records' : ''}; choose another id (usage records are never rewritten, and calls of the deleted tenant still in flight record theirs under its id)`,
    param: 'id',
  });
}

/** What an id that is no tenant (now) left behind: usage records, else its deletion in the audit log, else nothing. */
async function formerTenant(s: Pick<GatewayStores, 'ledger' | 'audit'>, id: string): Promise<'usage' | 'deletion' | undefined> {
  const [row] = await s.ledger.query({ tenantId: id, limit: 1 });
  if (row !== undefined) return 'usage';
  const [deletion] = await s.audit.list({ action: 'tenant.delete', target: id, limit: 1 });
  return deletion !== undefined ? 'deletion' : undefined;
}

/** Epoch ms from a validated `expiresAt` (epoch ms or an RFC 3339 date-time with offset). */
function toEpochMs(v: number | string): number {
  return typeof v === 'number' ? v : isoDateTimeMs(v)!;
}

/** A list's paging parameters. */
const PAGE = ['limit', 'offset'] as const;

/** The ledger filters of `/admin/usage` and `/admin/usage/entries` (`usageQuery`). */
const USAGE_FILTERS = ['tenant', 'key', 'model', 'status', 'from', 'to'] as const;

/**
 * An admin route's query string: only the parameters the route takes (`known`; none when empty), each once, none
 * empty and none with a NUL (PostgreSQL text cannot hold one); else a 400 `invalid_request` naming the parameter.
 * Dropped silently, a misspelt filter (`?tenant_id=acme`, `?month=2026-10`), a repeated one or an empty one
 * (`?tenant=`) would be answered as if absent: every tenant's usage, or the all-time invoice, with a 200. Read from
 * the URL itself: Hono's `c.req.queries()` drops a parameter with an empty name (`?=acme`), which is refused too
 * (param `""`).
 */
function checkQuery(c: AppContext, known: readonly string[]): void {
  const url = c.req.url;
  if (!url.includes('?')) return;
  const params = new URL(url).searchParams;
  const seen = new Set<string>();
  for (const [name, value] of params) {
    const shown = name === '' ? '""' : name.slice(0, 100);
    if (name === '' || !known.includes(name)) {
      const what = name === '' ? 'a query parameter with an empty name (as in ?=value)' : `unknown query parameter "${shown}"`;
      throw new LLMError({ code: 'invalid_request', message: `${what} (${known.length > 0 ? `known: ${known.join(', ')}` : 'this route takes none'})`, param: shown });
    }
    if (seen.has(name)) throw new LLMError({ code: 'invalid_request', message: `query parameter ${name} must be given once, got ${params.getAll(name).length}`, param: name });
    seen.add(name);
    if (value === '') throw new LLMError({ code: 'invalid_request', message: `query parameter ${name} must not be empty (leave it out instead)`, param: name });
    rejectNul(value, name);
  }
}

/** The most rows a list answers at once: core's stores take a larger limit as this one. */
const MAX_LIMIT = 1000;

/**
 * Decimal digits only: `Number()` would also read `0x10`, `1e1`, ` 5` (`%205`) and `5.0`, each as a number the
 * client did not write.
 */
const DIGITS = /^\d+$/;

/**
 * `limit` of a list, 1 to MAX_LIMIT (default 100), in decimal digits. Above it is a 400, not a shorter page: a client
 * paging by `offset += limit` would skip the rows between.
 */
function limitParam(c: AppContext): number {
  const raw = c.req.query('limit');
  if (raw === undefined) return 100;
  const n = Number(raw);
  if (!DIGITS.test(raw) || n < 1 || n > MAX_LIMIT) {
    throw new LLMError({ code: 'invalid_request', message: `limit must be an integer from 1 to ${MAX_LIMIT} in decimal digits, got "${raw.slice(0, 100)}"`, param: 'limit' });
  }
  return n;
}

/** A non-negative integer query parameter (`offset`, `afterSeq`, `beforeSeq`), in decimal digits; `fallback` when absent. */
function intParam(c: AppContext, name: string, fallback: number): number {
  const raw = c.req.query(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!DIGITS.test(raw) || !Number.isSafeInteger(n)) throw new LLMError({ code: 'invalid_request', message: `${name} must be a non-negative integer in decimal digits (at most ${Number.MAX_SAFE_INTEGER}), got "${raw.slice(0, 100)}"`, param: name });
  return n;
}

/**
 * An invoice's `[start, end)` from `from` (default: the start of time) and `to` (default: now). A `from` after now
 * without `to` is the same impossible range as `to` before `from` (`parseRange`): a 400 naming `from`, never an
 * invoice that ends before it starts.
 */
function invoiceRange(r: { from: number | undefined; to: number | undefined }, now: number): { start: number; end: number } {
  const range = { start: r.from ?? 0, end: r.to ?? now + 1 };
  if (range.start > range.end) {
    throw new LLMError({ code: 'invalid_request', message: `from must not be after now when to is absent (an invoice ends now unless to says otherwise), got ${new Date(range.start).toISOString()}`, param: 'from' });
  }
  return range;
}

function usageQuery(c: AppContext): Omit<UsageQuery, 'limit' | 'offset' | 'before' | 'beforeId'> {
  const { from, to } = parseRange(c.req.query('from'), c.req.query('to'));
  const tenantId = c.req.query('tenant');
  const keyId = c.req.query('key');
  const model = c.req.query('model');
  const status = c.req.query('status');
  // Checked here too (core's stores refuse it alike): a ledger of the caller's own may not.
  if (status !== undefined && !USAGE_STATUSES.includes(status as UsageStatus)) {
    throw new LLMError({ code: 'invalid_request', message: `status must be one of ${USAGE_STATUSES.join(', ')}, got "${status.slice(0, 100)}"`, param: 'status' });
  }
  return {
    ...(tenantId ? { tenantId } : {}),
    ...(keyId ? { keyId } : {}),
    ...(model ? { model } : {}),
    ...(status ? { status: status as UsageStatus } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
  };
}
