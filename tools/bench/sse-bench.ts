/**
 * SSE parsing benchmark: CPU per streamed response for `sseEvents` (reader + streaming TextDecoder +
 * eventsource-parser's `createParser`) against the web-streams pipeline it replaced
 * (`pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream())`).
 *
 *   pnpm --filter @llmrr/tools-bench bench:sse
 *   ... -- --iterations 20000 --json
 *
 * Each iteration consumes one in-memory response of 19 OpenAI-style chat.completion.chunk events
 * (role, 16 content deltas, finish, [DONE]), one network-sized chunk per event. CPU is process.cpuUsage()
 * (user + system) over all iterations, after a warm-up; the variants alternate in rounds so load
 * on a shared machine affects all alike.
 *
 * A second table measures the OpenAI engine's whole decoding path, body to stream parts
 * (`OpenAIStreamDecoder` included): `SsePartStream` (one iterator, queued parts handed out as resolved
 * promises) against the two async generators it replaced (`sseEvents`, then a generator yielding each
 * event's parts), both with the call's abort signal.
 *
 * A third table does the same for the Anthropic and Gemini engines (`AnthropicStreamDecoder`,
 * `GeminiStreamDecoder`): a realistic Anthropic stream (message_start, content_block_start, ping, 16
 * text_delta events, content_block_stop, message_delta, message_stop: 22 events) and a Gemini stream (16
 * GenerateContentResponse chunks with usageMetadata, the last with finishReason, CRLF-framed), one chunk per
 * event, through `SsePartStream` against the async generators the engines used before (`sseEvents`, then
 * `decodeAnthropicStream` / `decodeGeminiStream`, which now run the same decoder). It reports the median of
 * the rounds' CPU per stream.
 */
import { EventSourceParserStream, type EventSourceMessage } from 'eventsource-parser/stream';
import { LLMError } from '../../packages/core/src/errors/llm-error.js';
import { AnthropicStreamDecoder } from '../../packages/core/src/engines/anthropic/anthropic-stream-decoder.js';
import { decodeAnthropicStream } from '../../packages/core/src/engines/anthropic/decode-anthropic-stream.js';
import { decodeGeminiStream } from '../../packages/core/src/engines/gemini/decode-gemini-stream.js';
import { GeminiStreamDecoder } from '../../packages/core/src/engines/gemini/gemini-stream-decoder.js';
import { OpenAIStreamDecoder } from '../../packages/core/src/engines/openai-compatible/openai-stream-decoder.js';
import type { StreamPart } from '../../packages/core/src/spec/stream-parts.js';
import { sseEvents } from '../../packages/core/src/util/http.js';
import { SsePartStream } from '../../packages/core/src/util/sse-part-stream.js';
import { flag, option } from './bench-args.js';

const iterations = option('iterations', 10_000);
const rounds = option('rounds', 5);

const encoder = new TextEncoder();
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1764115200, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const words = 'The quick brown fox jumps over the lazy dog while the café owner naïvely counts 42 ünïcödé tokens'.split(' ');
const frames = [
  chunk({ role: 'assistant', content: '' }),
  ...words.slice(0, 16).map((w) => chunk({ content: `${w} ` })),
  chunk({}, 'stop'),
  'data: [DONE]\n\n',
].map((f) => encoder.encode(f));

function response(list: readonly Uint8Array[] = frames): Response {
  let i = 0;
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(controller) {
        const f = list[i++];
        if (f) controller.enqueue(f);
        else controller.close();
      },
    }),
  );
}

/** The previous implementation, kept here for comparison. */
async function* pipelineEvents(res: Response): AsyncGenerator<EventSourceMessage> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

type Variant = (res: Response) => AsyncGenerator<EventSourceMessage>;
const variants: Record<string, Variant> = {
  pipeline: pipelineEvents,
  sseEvents: (res) => sseEvents(res),
  // As the engines call it: with the call's signal (one abort listener per stream).
  'sseEvents+signal': (res) => sseEvents(res, new AbortController().signal),
};

async function consume(v: Variant): Promise<number> {
  let n = 0;
  for await (const e of v(response())) n += e.data.length > 0 ? 1 : 0;
  return n;
}

async function run(v: Variant, n: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    if ((await consume(v)) !== frames.length) throw new Error(`expected ${frames.length} events`);
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** The engine's stream before `SsePartStream`: a generator over `sseEvents`, as `OpenAICompatibleEngine.stream` was. */
async function* generatorParts(res: Response, signal: AbortSignal): AsyncGenerator<StreamPart> {
  const decoder = newDecoder();
  for await (const event of sseEvents(res, signal)) {
    for (const part of decoder.decode(event.data)) yield part;
    if (decoder.done) return;
  }
  for (const part of decoder.end()) yield part;
}

const newDecoder = () => new OpenAIStreamDecoder({ provider: 'bench', estimateInputTokens: () => 10 });
type PartVariant = (res: Response, signal: AbortSignal) => AsyncIterable<StreamPart>;
const partVariants: Record<string, PartVariant> = {
  generators: generatorParts,
  SsePartStream: (res, signal) =>
    new SsePartStream({ signal, open: async () => ({ response: res, decoder: newDecoder() }), abortPart: () => ({ type: 'error', error: new LLMError({ code: 'aborted', message: 'aborted' }) }) }),
};
// metadata, 16 text deltas, finish
const PARTS = 18;

async function runParts(v: PartVariant, n: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    let parts = 0;
    for await (const part of v(response(), new AbortController().signal)) if (part.type !== 'error') parts++;
    if (parts !== PARTS) throw new Error(`expected ${PARTS} parts, got ${parts}`);
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

const anthropicEvent = (data: { type: string } & Record<string, unknown>) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
const anthropicFrames = [
  anthropicEvent({ type: 'message_start', message: { id: 'msg_01XFDUDYJgAACzvnptvVoYEL', type: 'message', role: 'assistant', content: [], model: 'claude-sonnet-4-5', stop_reason: null, stop_sequence: null, usage: { input_tokens: 25, output_tokens: 1 } } }),
  anthropicEvent({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  anthropicEvent({ type: 'ping' }),
  ...words.slice(0, 16).map((w) => anthropicEvent({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `${w} ` } })),
  anthropicEvent({ type: 'content_block_stop', index: 0 }),
  anthropicEvent({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 16 } }),
  anthropicEvent({ type: 'message_stop' }),
].map((f) => encoder.encode(f));
const geminiFrames = words.slice(0, 16).map((w, i) => {
  const last = i === 15;
  const candidate = { content: { parts: [{ text: `${w} ` }], role: 'model' }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) };
  const usageMetadata = last ? { promptTokenCount: 8, candidatesTokenCount: 16, totalTokenCount: 24 } : { promptTokenCount: 8, totalTokenCount: 8 };
  return encoder.encode(`data: ${JSON.stringify({ candidates: [candidate], usageMetadata, modelVersion: 'gemini-2.5-flash', responseId: 'jAbWaPv9BcqbqtsPk5iqiQ0' })}\r\n\r\n`);
});
const abortPart = (): StreamPart => ({ type: 'error', error: new LLMError({ code: 'aborted', message: 'aborted' }) });
interface EngineVariant {
  frames: readonly Uint8Array[];
  parts: (res: Response, signal: AbortSignal) => AsyncIterable<StreamPart>;
}
const engineVariants: Record<string, EngineVariant> = {
  'anthropic generators': { frames: anthropicFrames, parts: (res, signal) => decodeAnthropicStream(sseEvents(res, signal), { provider: 'bench', signal }) },
  'anthropic SsePartStream': {
    frames: anthropicFrames,
    parts: (res, signal) => new SsePartStream({ signal, open: async () => ({ response: res, decoder: new AnthropicStreamDecoder({ provider: 'bench', signal }) }), abortPart }),
  },
  'gemini generators': { frames: geminiFrames, parts: (res, signal) => decodeGeminiStream(sseEvents(res, signal), { provider: 'bench', signal }) },
  'gemini SsePartStream': {
    frames: geminiFrames,
    parts: (res, signal) => new SsePartStream({ signal, open: async () => ({ response: res, decoder: new GeminiStreamDecoder({ provider: 'bench', signal }) }), abortPart }),
  },
};

/** CPU ms per stream over `n` streams of one engine variant (checks: metadata, 16 text deltas, finish). */
async function runEngine(v: EngineVariant, n: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    let parts = 0;
    let finished = false;
    for await (const part of v.parts(response(v.frames), new AbortController().signal)) {
      if (part.type === 'text-delta' || part.type === 'response-metadata') parts++;
      else if (part.type === 'finish') finished = true;
    }
    if (parts !== 17 || !finished) throw new Error(`expected metadata, 16 text deltas and finish; got ${parts} and finish ${finished}`);
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / n;
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

for (const v of Object.values(variants)) await run(v, 1000);
for (const v of Object.values(partVariants)) await runParts(v, 1000);
for (const v of Object.values(engineVariants)) await runEngine(v, 1000);
const engineRounds: Record<string, number[]> = Object.fromEntries(Object.keys(engineVariants).map((name) => [name, []]));
const totals: Record<string, number> = Object.fromEntries(Object.keys(variants).map((name) => [name, 0]));
const perRound = Math.max(1, Math.floor(iterations / rounds));
const partTotals: Record<string, number> = Object.fromEntries(Object.keys(partVariants).map((name) => [name, 0]));
for (let r = 0; r < rounds; r++) {
  for (const [name, v] of Object.entries(variants)) totals[name]! += await run(v, perRound);
  for (const [name, v] of Object.entries(partVariants)) partTotals[name]! += await runParts(v, perRound);
  for (const [name, v] of Object.entries(engineVariants)) engineRounds[name]!.push(await runEngine(v, perRound));
}
const n = perRound * rounds;
const perStream = (t: Record<string, number>) => Object.fromEntries(Object.entries(t).map(([name, ms]) => [name, { cpuMsPerStream: +(ms / n).toFixed(4) }]));
const result = perStream(totals);
const partResult = perStream(partTotals);
const engineResult = Object.fromEntries(
  Object.entries(engineRounds).map(([name, xs]) => [name, { medianCpuMsPerStream: +median(xs).toFixed(4), roundsCpuMsPerStream: xs.map((x) => +x.toFixed(4)) }]),
);
if (flag('json')) console.log(JSON.stringify({ events: frames.length, streams: n, ...result, parts: partResult, engines: engineResult }));
else {
  console.log(`${frames.length} events per stream, ${n} streams per variant, CPU ms per stream (user + system):`);
  for (const [name, r] of Object.entries(result)) console.log(`  ${name.padEnd(17)} ${r.cpuMsPerStream.toFixed(4)}`);
  console.log(`  pipeline / sseEvents ${(totals.pipeline! / totals.sseEvents!).toFixed(1)}x`);
  console.log(`body to stream parts (OpenAIStreamDecoder included), CPU ms per stream:`);
  for (const [name, r] of Object.entries(partResult)) console.log(`  ${name.padEnd(17)} ${r.cpuMsPerStream.toFixed(4)}`);
  console.log(`  generators / SsePartStream ${(partTotals.generators! / partTotals.SsePartStream!).toFixed(2)}x`);
  console.log(
    `Anthropic (${anthropicFrames.length} events) and Gemini (${geminiFrames.length} events), body to stream parts, median of ${rounds} rounds of ${perRound} streams, CPU ms per stream:`,
  );
  for (const [name, r] of Object.entries(engineResult)) console.log(`  ${name.padEnd(24)} ${r.medianCpuMsPerStream.toFixed(4)}`);
  for (const engine of ['anthropic', 'gemini']) {
    const ratio = median(engineRounds[`${engine} generators`]!) / median(engineRounds[`${engine} SsePartStream`]!);
    console.log(`  ${engine} generators / SsePartStream ${ratio.toFixed(2)}x`);
  }
}
