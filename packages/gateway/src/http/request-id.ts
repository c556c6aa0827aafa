const VALID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's `x-request-id` when it is a sane token (letters, digits, `._:-`, at most 128), else a new one. */
export function requestIdFrom(request: Request, generate: () => string): string {
  const incoming = request.headers.get('x-request-id');
  return incoming !== null && VALID.test(incoming) ? incoming : generate();
}

/** `req_` + 24 hex characters of randomness. */
export function defaultRequestId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return `req_${hex}`;
}
