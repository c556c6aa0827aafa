import { LLMError } from '@llmrr/core';

/** How long a client refused by a full `BodyBudget` is told to wait (`Retry-After`, seconds rounded up). */
const BUSY_RETRY_AFTER_MS = 1_000;

/**
 * The bytes of request bodies held at once (`limits.maxBodyBytesInFlight`), counted as they are received: each chunk
 * is charged as the body reader takes it (`Incoming.bytes`) and the bytes are given back once the body is parsed, or
 * at once when the read fails (the client left, a 413, a timeout). A connection that declared a body and sends nothing
 * holds nothing. A chunk that does not fit beside the bytes of the other bodies refuses its body (503 `overloaded`
 * with `Retry-After`, which the SDKs retry); so does a declared `Content-Length` that does not fit, before the body is
 * read. A body always fits while no other body holds bytes, so a bound below the body limit still serves one at a time.
 * Integer bytes only.
 */
export class BodyBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** A body of `declared` bytes (its Content-Length) fits beside the bytes held now (nothing is charged). */
  fits(declared: number): boolean {
    return this.used === 0 || this.used + declared <= this.limit;
  }

  /**
   * Charges `bytes` more of a body that holds `own` bytes already; false (nothing charged) when they do not fit beside
   * the bytes of the other bodies.
   */
  charge(own: number, bytes: number): boolean {
    if (this.used > own && this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }

  /** Bytes held now. */
  get inFlight(): number {
    return this.used;
  }

  busy(): LLMError {
    return new LLMError({
      code: 'overloaded',
      message: `The gateway is reading ${this.limit} bytes of request bodies at most at once and is at that limit; retry shortly`,
      param: 'body',
      retryAfterMs: BUSY_RETRY_AFTER_MS,
    });
  }
}
