import { expect } from 'vitest';

/** The refusal of an official client's call that must fail: its status, and the `param` and `message` of its error body. */
export interface SdkRefusal {
  status: number;
  param: string | undefined;
  message: string;
}

/** The 400 of a failed SDK call: status, param and message (from `error.error` on OpenAI routes, `error` otherwise). */
export async function sdkRefusal(call: Promise<unknown>): Promise<SdkRefusal> {
  const e = (await call.then(
    () => undefined,
    (err: unknown) => err,
  )) as { status?: number; error?: { param?: string; message?: string; error?: { param?: string; message?: string } } } | undefined;
  expect(e).toBeDefined();
  const body = e!.error?.error ?? e!.error;
  return { status: e!.status ?? 0, param: body?.param, message: body?.message ?? '' };
}
