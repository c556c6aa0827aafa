/**
 * Helpers for the tests of an `SsePartDecoder` and of the streams built on it (test-only: `*.test-helpers.ts`
 * is left out of the build): SSE transcripts split into payloads or into reads of any size, and a body that
 * records its cancellation.
 */
import { createParser } from 'eventsource-parser';
import { expect, vi } from 'vitest';
import type { LLMError } from '../errors/llm-error.js';
import { abortError } from '../errors/to-llm-error.js';
import type { StreamPart } from '../spec/stream-parts.js';
import { RELEASE_LINGER_MS } from '../util/direct-body.js';
import { SsePartStream, type SsePartDecoder } from '../util/sse-part-stream.js';

/** The parts' types, errors as `error:<code>`. */
export const kinds = (parts: StreamPart[]) => parts.map((p) => (p.type === 'error' ? `error:${p.error.code}` : p.type));

/** The text of the parts' `text-delta`s. */
export const textOf = (parts: StreamPart[]) => parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('');

/** The error of a stream's final part; throws when the stream did not end with an error part. */
export function lastError(parts: StreamPart[]): LLMError {
  const last = parts.at(-1);
  if (last?.type !== 'error') throw new Error(`expected a final error part, got ${JSON.stringify(last)}`);
  return last.error;
}

/** The `data:` payloads of an SSE transcript, in order. */
export function dataOf(text: string): string[] {
  const data: string[] = [];
  createParser({ onEvent: (e) => data.push(e.data) }).feed(text);
  return data;
}

/** Every payload of `text` decoded one by one, then `end()`: the reference the streamed paths must match. */
export function eventByEvent(decoder: SsePartDecoder, text: string): StreamPart[] {
  const parts = dataOf(text).flatMap((data) => decoder.decode(data));
  return [...parts, ...decoder.end()];
}

/** A body handing out `reads` one per read (then hanging when `hang`), recording whether it was cancelled. */
export function body(reads: Uint8Array[], hang = false) {
  const state = { cancelled: false };
  let i = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const read = reads[i++];
        if (read) return controller.enqueue(read);
        if (!hang) return controller.close();
        return new Promise<void>(() => {});
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

/** Splits `text` into reads of 1..maxSize bytes (a fixed sequence of sizes per seed). */
export function slices(text: string, seed: number, maxSize: number): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  const out: Uint8Array[] = [];
  let s = seed;
  for (let at = 0; at < bytes.length; ) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const size = 1 + (s % maxSize);
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}

/** `text` read byte by byte, in reads of up to 7, 64 and 512 bytes, and whole. */
export function readSplits(text: string): Uint8Array[][] {
  return [slices(text, 1, 1), slices(text, 2, 7), slices(text, 3, 64), slices(text, 4, 512), [new TextEncoder().encode(text)]];
}

/** The parts of `b` decoded by `decoder` through `SsePartStream` (no signal). */
export function partStream(b: { stream: ReadableStream<Uint8Array> }, decoder: SsePartDecoder): SsePartStream {
  return new SsePartStream({
    open: async () => ({ response: new Response(b.stream), decoder }),
    abortPart: (s) => ({ type: 'error', error: abortError(s) }),
  });
}

/**
 * Runs `stream` to its end on fake timers and checks that its body, which stays open after the terminal
 * event, is released: not cancelled at once (it may still end by itself and keep its connection), cancelled
 * `RELEASE_LINGER_MS` later. Returns the parts.
 */
export async function releasedThenCancelled(b: { state: { cancelled: boolean } }, stream: () => AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  try {
    const parts: StreamPart[] = [];
    for await (const part of stream()) parts.push(part);
    expect(b.state.cancelled).toBe(false);
    vi.advanceTimersByTime(RELEASE_LINGER_MS);
    expect(b.state.cancelled).toBe(true);
    return parts;
  } finally {
    vi.useRealTimers();
  }
}
