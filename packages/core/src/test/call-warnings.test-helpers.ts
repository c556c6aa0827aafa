/**
 * Checks of the warnings contract (spec/warnings.ts) shared by the engines' tests: one request generated and
 * streamed, the stream's warnings part read and checked (test-only: `*.test-helpers.ts` is left out of the build).
 */
import { expect } from 'vitest';
import type { CallWarning, GenerateRequest, GenerateResult, LanguageEngineV1, StreamPart } from '../spec/index.js';
import { isContentPart } from '../spec/index.js';
import { collect } from './async.test-helpers.js';

type Engine = Pick<LanguageEngineV1, 'generate' | 'stream'>;

/** The warnings of a stream, checking the contract: at most one warnings part, before the first content part or the finish. */
export function streamedWarnings(parts: readonly StreamPart[]): CallWarning[] | undefined {
  const at = parts.flatMap((p, i) => (p.type === 'warnings' ? [i] : []));
  expect(at.length).toBeLessThanOrEqual(1);
  if (at.length === 0) return undefined;
  expect(at[0]).toBeLessThan(parts.findIndex((p) => isContentPart(p) || p.type === 'finish'));
  return (parts[at[0]!] as Extract<StreamPart, { type: 'warnings' }>).warnings;
}

export interface GeneratedAndStreamed {
  result: GenerateResult;
  /** The stream's parts; the last is `finish`. */
  parts: StreamPart[];
  /** `result.warnings`. */
  generated: CallWarning[] | undefined;
  /** The stream's warnings (`streamedWarnings`). */
  streamed: CallWarning[] | undefined;
  /** The stream's text deltas, joined. */
  text: string;
  /** With `lastBody`: the body it read after the generate call, then after the stream. */
  bodies: Record<string, unknown>[];
}

/**
 * generate, then stream, the same request on one engine; the stream must end in `finish`. `lastBody` reads the body
 * a wire server last received (read after each call).
 */
export async function generateAndStream(engine: Engine, request: GenerateRequest, lastBody?: () => Record<string, unknown>): Promise<GeneratedAndStreamed> {
  const result = await engine.generate(request);
  const bodies = lastBody ? [lastBody()] : [];
  const parts = await collect(engine.stream(request));
  if (lastBody) bodies.push(lastBody());
  expect(parts.at(-1)?.type).toBe('finish');
  const text = parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('');
  return { result, parts, generated: result.warnings, streamed: streamedWarnings(parts), text, bodies };
}

/**
 * A request the engine answers but cannot send all of: generate gives one `setting_not_sent` warning per field, in
 * this order, and the stream (ending in `finish`) gives the same list as its first part, the only warnings part,
 * before any content. Returns the generate result.
 */
export async function expectNotSentInGenerateAndStream(engine: Engine, request: GenerateRequest, fields: readonly string[]): Promise<GenerateResult> {
  const { result, parts } = await generateAndStream(engine, request);
  expect(result.warnings?.map((w) => [w.code, w.field])).toEqual(fields.map((field) => ['setting_not_sent', field]));
  expect(parts[0]).toEqual({ type: 'warnings', warnings: result.warnings });
  expect(parts.filter((p) => p.type === 'warnings')).toHaveLength(1);
  expect(parts.findIndex((p) => isContentPart(p))).toBeGreaterThan(0);
  return result;
}

/** A request the engine does as asked: no `warnings` field on the generate result, no warnings part in the stream (which ends in `finish`). */
export async function expectNoWarnings(engine: Engine, request: GenerateRequest): Promise<void> {
  const { result, parts } = await generateAndStream(engine, request);
  expect(result).not.toHaveProperty('warnings');
  expect(parts.some((p) => p.type === 'warnings')).toBe(false);
}
