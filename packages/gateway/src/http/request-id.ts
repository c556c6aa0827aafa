import type { HeaderSource } from './incoming.js';

const VALID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's `x-request-id` when it is a sane token (letters, digits, `._:-`, at most 128), else a new one. */
export function requestIdFrom(headers: HeaderSource, generate: () => string): string {
  const incoming = headers.get('x-request-id');
  return incoming !== null && VALID.test(incoming) ? incoming : generate();
}

/** `req_` + 32 hex characters (a random UUID without dashes; `randomUUID` draws from a cached entropy pool, so it is cheap). */
export function defaultRequestId(): string {
  return `req_${crypto.randomUUID().replaceAll('-', '')}`;
}
