import { LLMError } from '@llmrr/core';

/** How long a client refused by a full `BodyBudget` is told to wait (`Retry-After`, seconds rounded up). */
const BUSY_RETRY_AFTER_MS = 1_000;

/**
 * The bytes of request bodies being read at once (`limits.maxBodyBytesInFlight`): a body reserves its declared
 * `Content-Length` (a chunked one, whose length is unknown, the body limit) before it is read and gives it back once it
 * is parsed. A body that does not fit is refused at once, before it is read, with a 503 `overloaded` and `Retry-After`
 * (the SDKs retry it). One body is always taken when none is being read, so a budget below the body limit still serves.
 */
export class BodyBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Reserves `bytes`; false (nothing reserved) when they do not fit beside the bodies being read. */
  take(bytes: number): boolean {
    if (this.used > 0 && this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }

  /** Bytes reserved now. */
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
