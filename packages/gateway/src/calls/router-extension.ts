import { LLMError } from '@llmrr/core';
import type { Principal } from '../auth/principal.js';
import type { HeaderSource } from '../http/incoming.js';
import type { LlmrrExtension } from '../schemas/llmrr-extension.js';
import type { GatewayRouter } from '../types.js';

/**
 * The router extension of one request: body field `llmrr` wins over the headers
 * `x-llmrr-strategy` and `x-llmrr-explain: true`.
 */
export function routerExtension(headers: HeaderSource, body: LlmrrExtension | undefined): LlmrrExtension {
  const ext: LlmrrExtension = {};
  const strategy = headers.get('x-llmrr-strategy');
  if (strategy !== null && strategy.trim() !== '') ext.strategy = strategy.trim();
  const explain = headers.get('x-llmrr-explain');
  if (explain !== null) {
    const v = explain.trim().toLowerCase();
    if (v === 'true' || v === '1') ext.explain = true;
    else if (v === 'false' || v === '0' || v === '') ext.explain = false;
    else throw new LLMError({ code: 'invalid_request', message: `x-llmrr-explain must be "true" or "false", got "${explain}"`, param: 'x-llmrr-explain' });
  }
  return { ...ext, ...body };
}

/**
 * The extension's strategy must be one the router has (when the router lists its strategies) and one the operator
 * lets clients choose (the tenant's `preferences.clientStrategies`, else `routing.clientStrategies` of the router's
 * config: `false` none, a list those), or the one the call gets anyway (the tenant's `preferences.strategy`, else the
 * router's default: naming it chooses nothing): else a 400 naming
 * where it came from, `llmrr.strategy` in the body (which wins) or the `x-llmrr-strategy` header, or `param` for an
 * endpoint whose strategy is a field of its own (`strategy` of `/api/chat`). Checked before the call is admitted,
 * so a typo leaves no ledger record and takes no place under the rate limits.
 */
export function checkStrategy(
  ext: LlmrrExtension,
  body: LlmrrExtension | undefined,
  router: Pick<GatewayRouter, 'strategyNames' | 'routerConfig' | 'strategy'>,
  principal: Principal,
  param?: string,
): void {
  const name = ext.strategy;
  if (name === undefined) return;
  const own: unknown = principal.tenant?.preferences.clientStrategies;
  if (own !== undefined && typeof own !== 'boolean' && !Array.isArray(own)) {
    // Stored before the admin API checked it: the server's data, not the client's fault (as an unknown preferred strategy).
    throw new LLMError({
      code: 'config_invalid',
      message: `Invalid stored tenant ${JSON.stringify(principal.tenantId)}:\n  preferences.clientStrategies: must be true, false or a list of strategy names`,
      param: 'preferences.clientStrategies',
    });
  }
  const allowed = (own as boolean | readonly string[] | undefined) ?? router.routerConfig?.routing.clientStrategies;
  const setting = own !== undefined ? 'preferences.clientStrategies of the tenant' : 'routing.clientStrategies';
  const known = router.strategyNames?.();
  if ((known === undefined || known.includes(name)) && (allowed === undefined || allowed === true || (allowed !== false && allowed.includes(name)))) return;
  // The strategy the call gets without the field: naming it chooses nothing.
  if ((known === undefined || known.includes(name)) && name === (principal.tenant?.preferences.strategy ?? router.strategy)) return;
  param ??= body?.strategy !== undefined ? 'llmrr.strategy' : 'x-llmrr-strategy';
  const shown = name.length > 100 ? `${JSON.stringify(name.slice(0, 100))}...` : JSON.stringify(name);
  const message =
    known !== undefined && !known.includes(name)
      ? `${param}: unknown strategy ${shown} (known: ${known.join(', ')})`
      : allowed === false || (allowed as readonly string[]).length === 0
        ? `${param}: clients may not choose the routing strategy (${setting}: ${JSON.stringify(allowed)}); leave it out to use the server's`
        : `${param}: strategy ${shown} is not one a client may choose (${setting}: ${(allowed as readonly string[]).join(', ')})`;
  throw new LLMError({ code: 'invalid_request', message, param });
}

/**
 * The tenant's preferred strategy (`preferences.strategy`), for a call that names none. One the router does not
 * have (stored through a process with other strategies, or before a config change) is the server's config error
 * (`config_invalid`, a logged 500), as for a tenant of the router's config, never a 400 blaming the client.
 */
export function tenantStrategy(principal: Principal, router: Pick<GatewayRouter, 'strategyNames'>): string | undefined {
  const name = principal.tenant?.preferences.strategy;
  if (name === undefined || !router.strategyNames) return name;
  const known = router.strategyNames();
  if (known.includes(name)) return name;
  throw new LLMError({
    code: 'config_invalid',
    message: `Invalid stored tenant ${JSON.stringify(principal.tenantId)}:\n  preferences.strategy: unknown strategy ${JSON.stringify(name.slice(0, 100))} (known: ${known.join(', ')})`,
    param: 'preferences.strategy',
  });
}

/** A header-safe compact form of a value: JSON with non-ASCII escaped. */
export function headerJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
