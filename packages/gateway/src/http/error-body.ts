import { clampRetryAfterMs, isUnservableOwnModel, LLMError, toLLMError, type DeploymentInfo } from '@llmrr/core';
import { redactUpstreamMessage, requestTooLarge, sharedRateLimitMessage, upstreamWaitMs } from './redact-upstream.js';
import { replyToResponse, type Reply } from './reply.js';

/**
 * The wire shape of every gateway error. Anthropic-style routes add `type: "error"` and `request_id` at the top, as
 * Anthropic's API does (its SDKs' `ErrorResponse`), and keep `error.request_id`, where every gateway error has it.
 */
export interface ErrorBody {
  type?: 'error';
  error: { type: string; code: string; message: string; param: string | null; request_id: string | null };
  request_id?: string;
}

export type ErrorStyle = 'openai' | 'anthropic';

/** Anthropic's status for `overloaded_error` (its API is overloaded; not a standard HTTP status). */
const ANTHROPIC_OVERLOADED_STATUS = 529;

/** What a client sees when the upstream provider refused the gateway's own credentials. */
export const UPSTREAM_CREDENTIALS_MESSAGE = "The upstream provider rejected the gateway's credentials; see the server log for this request id";

/** What a client sees when the upstream provider refused the gateway's account for billing (credit, quota). */
export const UPSTREAM_BILLING_MESSAGE = "The upstream provider refused the gateway's account (billing or quota); see the server log for this request id";

/** What a client sees when the gateway's shared state (Redis, PostgreSQL) fails or does not answer in time. */
export const STORE_UNAVAILABLE_MESSAGE = "The gateway's shared state store is unavailable; retry later (see the server log for this request id)";

/**
 * What a client sees when the store did not confirm a change it was sent (its answer lost, and reading back whether it
 * was applied could not tell either: core's `details.mayHaveBeenWritten`): a retry could make a second key, while a
 * key's secret is shown only once. (A tenant created without an id cannot be fetched by it: the tenants are listed.)
 * The reply also says it in headers a program reads (`errorReply`): `x-should-retry: false`,
 * `MAY_HAVE_BEEN_WRITTEN_HEADER: true`.
 */
export const STORE_MAY_HAVE_BEEN_WRITTEN_MESSAGE =
  "The gateway's shared state store did not confirm the change, which may have been written: check before retrying (list the tenants, or the tenant's keys) (see the server log for this request id)";

/**
 * The header (`true`) of a 503 `store_unavailable` whose change may have been written (`STORE_MAY_HAVE_BEEN_WRITTEN_MESSAGE`),
 * telling it from a plain one, which nothing was written by, without parsing the message.
 */
export const MAY_HAVE_BEEN_WRITTEN_HEADER = 'x-llmrr-may-have-been-written';

/** Whether a store error (or one it wraps) is a change that may have been written (core's `details.mayHaveBeenWritten`). */
export function mayHaveBeenWritten(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; LLMError.isInstance(e) && depth < 3; e = e.cause, depth++) {
    if ((e.details as { mayHaveBeenWritten?: unknown } | undefined)?.mayHaveBeenWritten === true) return true;
  }
  return false;
}

/** Said of an `afterResponse` error whose own message is hidden (core's messages say it in their own words). */
const LOST_ANSWER = 'after the provider accepted the request: the answer is lost and was not requested again, as it may be billed';

/** Upstream errors `toPublicError` has reworded (made from an upstream error, so still upstream errors themselves). */
const worded = new WeakSet<LLMError>();

/** The error came from a provider (not from the gateway's own checks). */
export function isUpstreamError(err: LLMError): boolean {
  return err.provider !== undefined || err.upstreamStatus !== undefined;
}

/** A provider's rate-limit or quota refusal (`rate_limited`, or its HTTP 429 under another code). */
export function isUpstreamRateLimit(err: LLMError): boolean {
  // (Not the router's own deployment limit, `deploymentLimitError`: it carries the provider, but no request was sent.)
  return isUpstreamError(err) && (err.code === 'rate_limited' || err.upstreamStatus === 429) && !isDeploymentLimit(err);
}

/**
 * The router's own deployment limit (`details.limit: 'deployment'`), also once `visibleError` has cut its details (the
 * original is its `cause`).
 */
function isDeploymentLimit(err: LLMError): boolean {
  for (let e: unknown = err, depth = 0; LLMError.isInstance(e) && depth < 3; e = e.cause, depth++) {
    if ((e.details as { limit?: unknown } | undefined)?.limit === 'deployment') return true;
  }
  return false;
}

/**
 * Whether an upstream rate-limit error (`isUpstreamRateLimit`) came from one of the caller's tenant's own models (its
 * own provider account, `DeploymentInfo.tenant`): `models` lists the deployments of the caller's view, asked only
 * for such an error. False when they cannot be listed (the shared wording is the safe one).
 */
export function fromOwnModel(err: LLMError, models: () => readonly DeploymentInfo[]): boolean {
  if (err.deployment === undefined || !isUpstreamRateLimit(err)) return false;
  try {
    return models().some((d) => d.name === err.deployment && d.tenant !== undefined);
  } catch {
    return false;
  }
}

/**
 * Turns any thrown value into the public error: status from `LLMError.statusCode`, never a stack trace.
 * Internal errors (`internal`, `config_invalid`, `engine_unavailable`: a local gguf/onnx model that fails to load
 * included, although it carries a provider) keep their code but hide their message and `param`, as does a
 * `store_unavailable` (503: the message names the store's address; one of a change that may have been written says
 * so, and to check before retrying, `STORE_MAY_HAVE_BEEN_WRITTEN_MESSAGE`). An
 * upstream `authentication` / `permission_denied` (the provider refused the gateway's key, not the
 * client's) is a 502 `provider_error` with a generic message, as is an upstream `budget_exceeded` (the gateway's
 * provider account is out of credit: a 402 would tell the client its own budget is spent). A provider's rate-limit or
 * quota error (`isUpstreamRateLimit`) on a shared deployment is said in the gateway's words (`sharedRateLimitMessage`:
 * the limit's kind and figure and the wait, never the account's ids nor its use, which is every tenant's traffic), its
 * wait (the provider's `retry-after`, else its message's "try again in") kept as `retryAfterMs`; `ownModel`: the call's
 * tenant's own model (its own account), whose provider text is kept. Other upstream messages have anything that
 * looks like a credential redacted. The original stays in `cause`, for the server log.
 */
export function toPublicError(e: unknown, ownModel = false): LLMError {
  const err = toLLMError(e);
  // engine_unavailable is always the gateway's own state (an optional package or a native binary missing, a store it
  // cannot reach), never the client's: its message names server paths and addresses.
  if (err.code === 'internal' || err.code === 'config_invalid' || err.code === 'engine_unavailable') {
    if (err.afterResponse) return new LLMError({ code: err.code, message: `Internal gateway error ${LOST_ANSWER}; see the server log for this request id`, afterResponse: true, cause: err });
    return new LLMError({ code: err.code, message: 'Internal gateway error; see the server log for this request id', cause: err });
  }
  if (err.code === 'store_unavailable') {
    if (mayHaveBeenWritten(err)) return new LLMError({ code: err.code, message: STORE_MAY_HAVE_BEEN_WRITTEN_MESSAGE, details: { mayHaveBeenWritten: true }, cause: err });
    return new LLMError({ code: err.code, message: STORE_UNAVAILABLE_MESSAGE, cause: err });
  }
  // `no_deployment` is the router's own word, never a provider's (it may carry the deployment's provider): a tenant's
  // model that cannot be served as set names the fields to set (`apiKey`), which the credential redaction would eat.
  if (!isUpstreamError(err) || err.code === 'no_deployment') return err;
  if (err.code === 'authentication' || err.code === 'permission_denied') {
    return new LLMError({ code: 'provider_error', message: UPSTREAM_CREDENTIALS_MESSAGE, ...(err.provider ? { provider: err.provider } : {}), cause: err });
  }
  // The provider's account of the gateway is out of credit: the operator's problem, not the client's budget (402).
  if (err.code === 'budget_exceeded') {
    return new LLMError({ code: 'provider_error', message: UPSTREAM_BILLING_MESSAGE, ...(err.provider ? { provider: err.provider } : {}), cause: err });
  }
  // Public already (the routes pass a public error to `errorReply`, which makes it public): not worded twice.
  if (worded.has(err)) return err;
  if (!ownModel && isUpstreamRateLimit(err)) {
    // A request too large for the limit gets no wait (none helps) and `x-should-retry: false` (`permanent`); another's
    // wait is the provider's, at most a day (`MAX_RETRY_AFTER_MS`), as every provider wait the gateway passes on.
    const tooLarge = requestTooLarge(err.message);
    const retryAfterMs = tooLarge ? undefined : clampRetryAfterMs(err.retryAfterMs ?? upstreamWaitMs(err.message));
    const pub = err.with({ message: sharedRateLimitMessage(err.message, retryAfterMs), retryAfterMs, details: undefined, param: undefined, cause: err });
    worded.add(pub);
    if (tooLarge) cannotFit.add(pub);
    return pub;
  }
  const message = redactUpstreamMessage(err.message);
  // The client named a model the gateway has; the deployment's upstream model id is what the provider does not know.
  if (err.code === 'provider_model_not_found') {
    const deployment = err.deployment !== undefined ? `Deployment "${err.deployment}"` : 'The deployment';
    const pub = err.with({ message: `${deployment} is misconfigured: its upstream provider does not know its model (${message})`, details: undefined, param: undefined, cause: err });
    worded.add(pub);
    return pub;
  }
  const pub = message === err.message ? err : err.with({ message, details: undefined, cause: err });
  // A rate limit of the tenant's own model, public as it is: `errorReply`'s own `toPublicError` (which does not know
  // the owner) must not reword it.
  if (ownModel && isUpstreamRateLimit(err)) worded.add(pub);
  return pub;
}

/** Upstream credential errors are the operator's problem: log them even though they are not the client's fault. */
export function needsServerLog(err: LLMError): boolean {
  return (
    err.code === 'internal' ||
    err.statusCode >= 500 ||
    (isUpstreamError(err) && (err.code === 'authentication' || err.code === 'permission_denied' || err.code === 'budget_exceeded'))
  );
}

/**
 * Anthropic's documented `error.type` where it differs from the code's own wire type (https://docs.claude.com/en/api/errors):
 * 413 `request_too_large`, 402 `billing_error` (here a tenant's budget spent), 409 `conflict_error`. The others match
 * already: 400 `invalid_request_error` (also for the 4xx Anthropic lists no type for), 401 `authentication_error`,
 * 403 `permission_error`, 404 `not_found_error`, 429 `rate_limit_error`, 5xx `api_error`, 504 `timeout_error`,
 * `overloaded_error` (529, `errorStatus`).
 */
const ANTHROPIC_TYPES: Partial<Record<LLMError['code'], string>> = {
  payload_too_large: 'request_too_large',
  budget_exceeded: 'billing_error',
  conflict: 'conflict_error',
  tenant_id_in_use: 'conflict_error',
};

/** The error body in `style`'s shape (Anthropic's: `type: "error"` and `request_id` at the top, Anthropic's `error.type`). */
export function errorBody(err: LLMError, requestId: string, style: ErrorStyle = 'openai'): ErrorBody {
  const body: ErrorBody = err.toWire(requestId);
  if (style !== 'anthropic') return body;
  const type = ANTHROPIC_TYPES[err.code];
  if (type !== undefined) body.error.type = type;
  return { type: 'error', error: body.error, request_id: requestId };
}

/**
 * Status to answer with: the error's own, clamped to a valid HTTP status (aborted 499 stays). On Anthropic-style routes
 * an `overloaded` error is Anthropic's own 529 (`overloaded_error`, the Anthropic clients' `OverloadedError`, which they
 * retry); OpenAI-style routes keep 503, which the OpenAI clients know.
 */
export function errorStatus(err: LLMError, style: ErrorStyle = 'openai'): number {
  if (style === 'anthropic' && err.code === 'overloaded') return ANTHROPIC_OVERLOADED_STATUS;
  const s = err.statusCode;
  return Number.isInteger(s) && s >= 400 && s <= 599 ? s : 500;
}

/**
 * An error a retry cannot cure: a hidden internal one of the gateway's own configuration (`config_invalid`: a local
 * model file missing or no model file of its kind, too) or a component it cannot load (`engine_unavailable`: an
 * optional package, a native binary), or a deployment's misconfiguration its provider reported (a 502
 * `provider_model_not_found`, a wrong upstream model id; a `provider_error` core marked not retryable: a 404 for a
 * wrong base URL or endpoint, a redirect to another origin), which the router has already fallen over from; or a
 * tenant's own model that cannot be served as it is set (core's `isUnservableOwnModel`: a 503 `no_deployment` naming
 * its secrets to set or its deleted model file's field), or a 501 (the gateway's own: what the request asks this
 * server cannot do, e.g. a usage ledger that does not filter by status). A plain `internal` (unexpected: a local model file that would
 * not load for another reason, which the next call tries again) stays retryable, as does every other 503
 * (`shutting_down`: a router or engine closed as its instance shuts down, which another instance answers; the router's
 * other `no_deployment`) and every retryable `provider_error` (a 5xx).
 */
/** Public rate-limit errors of a request too large for the provider's limit (`toPublicError`): no retry cures them. */
const cannotFit = new WeakSet<LLMError>();

function permanent(err: LLMError): boolean {
  return (
    err.code === 'config_invalid' ||
    err.statusCode === 501 ||
    cannotFit.has(err) ||
    isUnservableOwnModel(err) ||
    err.code === 'engine_unavailable' ||
    err.code === 'provider_model_not_found' ||
    (err.code === 'provider_error' && !err.isRetryable && isUpstreamError(err))
  );
}

/**
 * The error reply: status from the error, the request id as `jsonReply` sends it (`x-request-id` and `request-id`, from
 * which the Anthropic SDKs read `APIError.requestID`), `retry-after` when it has one (whole seconds, at least 1: the
 * error's own wait, never shortened - a provider's is at most a day already, `MAX_RETRY_AFTER_MS`, and the gateway's
 * own limits tell when they admit again, however long that is), `x-should-retry: false` for an
 * answer lost after the provider accepted it (`afterResponse`: it may be billed; the official OpenAI and Anthropic
 * clients retry a 5xx twice unless the server says so) and for an error a retry cannot cure (`permanent`: a gateway or
 * deployment misconfiguration), and for a change the store may have written (`mayHaveBeenWritten`: check before
 * retrying; with `MAY_HAVE_BEEN_WRITTEN_HEADER: true`); `headers` (lower-case names) are kept: they become the reply's
 * (added to, not copied, as in `jsonReply`).
 */
export function errorReply(e: unknown, requestId: string, style: ErrorStyle = 'openai', headers: Record<string, string> = {}): Reply {
  const err = toPublicError(e);
  const h = headers;
  h['content-type'] = 'application/json';
  h['x-request-id'] = requestId;
  h['request-id'] = requestId;
  // Whole seconds, at least 1 (a client told 0 comes back at once, into the same limit).
  if (err.retryAfterMs !== undefined) h['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
  // A change the store may have written: a retry (the official clients retry a 503 on their own) could make a second key.
  const unconfirmed = err.code === 'store_unavailable' && mayHaveBeenWritten(err);
  if (err.afterResponse || permanent(err) || unconfirmed) h['x-should-retry'] = 'false';
  if (unconfirmed) h[MAY_HAVE_BEEN_WRITTEN_HEADER] = 'true';
  return { status: errorStatus(err, style), headers: h, body: JSON.stringify(errorBody(err, requestId, style)) };
}

export function errorResponse(e: unknown, requestId: string, style: ErrorStyle = 'openai', headers: Record<string, string> = {}): Response {
  return replyToResponse(errorReply(e, requestId, style, headers));
}
