import type { HeaderSource } from './incoming.js';

const VALID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The header a client's own `x-request-id` is echoed back under (never used as a key). */
export const CLIENT_REQUEST_ID_HEADER = 'x-client-request-id';

/**
 * The client's `x-request-id` when it is a sane token (letters, digits, `._:-`, at most 128), else undefined.
 * It is only echoed back (as `x-client-request-id`) and logged: the gateway's own request id is the key of
 * the ledger, the budget reservation, feedback and the router, because a client-chosen id can repeat or
 * collide with another tenant's (the ledger is idempotent by request id, so it would drop records).
 */
export function clientRequestIdFrom(headers: HeaderSource): string | undefined {
  const incoming = headers.get('x-request-id');
  return incoming !== null && VALID.test(incoming) ? incoming : undefined;
}

/**
 * `req_` + 32 hex characters: the time in ms (12 hex digits) then 20 random hex digits (80 random bits from
 * `randomUUID`, which draws from a cached entropy pool, so it is cheap). Time first keeps the ledger's
 * primary-key index appending at its end instead of writing all over it: on a SQLite ledger of 300k rows an
 * insert cost 11.6 CPU-µs with such ids against 22.9 with fully random ones.
 */
export function defaultRequestId(): string {
  const random = crypto.randomUUID();
  // Skip the UUID's fixed version digit (index 14 with dashes) and its variant digit (index 19): 8 + 4 + 3 + 3 + 2.
  return `req_${Date.now().toString(16).padStart(12, '0')}${random.slice(0, 8)}${random.slice(9, 13)}${random.slice(15, 18)}${random.slice(20, 23)}${random.slice(24, 26)}`;
}

/**
 * The request ids an answer id can stand for, the id itself first: `POST /v1/feedback` takes the `x-request-id` or
 * the id an SDK hands back - a chat completion's `chatcmpl-<request id>` (openai/chat-response.ts), a completion's
 * `cmpl-<request id>`, an Anthropic message's `msg_<request id>` (anthropic/message-response.ts), a Responses API
 * response's `resp_<hex>` or its message's `msg_<hex>` (the request id without `req_`, responses/response-object.ts).
 */
export function requestIdsOfAnswerId(id: string): string[] {
  const out = [id];
  const add = (rest: string, bare: boolean) => {
    if (rest === '') return;
    // `resp_<hex>` / `msg_<hex>` drop the default id's `req_`: put it back first (a `generateId` id keeps its own).
    if (bare && !rest.startsWith('req_')) out.push(`req_${rest}`);
    out.push(rest);
  };
  if (id.startsWith('chatcmpl-')) add(id.slice(9), false);
  else if (id.startsWith('cmpl-')) add(id.slice(5), false);
  else if (id.startsWith('msg_')) add(id.slice(4), true);
  else if (id.startsWith('resp_')) add(id.slice(5), true);
  return out;
}

/** What `POST /v1/feedback`'s 404 says `request_id` takes. */
export const FEEDBACK_ID_HINT =
  "request_id takes the answer's x-request-id header or the id the SDK returns: a chat completion's chatcmpl-..., a completion's cmpl-..., an Anthropic message's msg_..., a Responses API response's resp_...";
