/**
 * Helpers shared by the core's tests (test-only: `*.test-helpers.ts` is left out of the build).
 */
import { expect, vi } from 'vitest';
import { LLMError } from '../errors/llm-error.js';

/** Every item of a stream (engine parts, router parts), in order. */
export async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

/** The `LLMError` a promise rejects with; fails the test when it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<LLMError> {
  try {
    await promise;
  } catch (e) {
    expect(LLMError.isInstance(e)).toBe(true);
    return e as LLMError;
  }
  throw new Error('expected a rejection');
}

/** The `LLMError` a call throws; fails the test when it returns or throws anything else. */
export function thrown(fn: () => unknown): LLMError {
  try {
    fn();
  } catch (e) {
    expect(LLMError.isInstance(e)).toBe(true);
    return e as LLMError;
  }
  throw new Error('expected a throw');
}

/** Resolves once `pending` has settled, within a hang guard of several seconds (fails the test otherwise). */
export async function endsSoon(pending: Promise<unknown>): Promise<void> {
  let done = false;
  void pending.then(
    () => (done = true),
    () => (done = true),
  );
  await vi.waitFor(() => expect(done).toBe(true), { timeout: 5_000 });
}

/**
 * What `p` did within `ms`: `resolved`, `rejected`, or `pending` (still unsettled then). For a test that a call does
 * not hang, with a bound generous enough not to be a timing assertion.
 */
export async function settledWithin(p: Promise<unknown>, ms: number): Promise<'resolved' | 'rejected' | 'pending'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'pending'>((r) => (timer = setTimeout(() => r('pending'), ms)));
  try {
    return await Promise.race([
      p.then(
        () => 'resolved' as const,
        () => 'rejected' as const,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every 25 ms until it holds; throws `timed out waiting for <label>` after about 10 s. */
export async function until(check: () => boolean, label: string): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!check()) throw new Error(`timed out waiting for ${label}`);
}
