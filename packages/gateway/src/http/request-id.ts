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

/** `req_` + 32 hex characters (a random UUID without dashes; `randomUUID` draws from a cached entropy pool, so it is cheap). */
export function defaultRequestId(): string {
  return `req_${crypto.randomUUID().replaceAll('-', '')}`;
}
