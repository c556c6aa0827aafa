/**
 * The `/v1/responses` fast request check alone against zod's `safeParse` of the same schema, on the 8-tool body
 * of `gateway-bench-inproc.ts --endpoint responses --tools 8` (one user message, eight function tools with a
 * four-parameter JSON Schema each; `--tools N` changes the count). Each call gets one of 64 bodies parsed from
 * the JSON beforehand, in turn, so neither side sees the same object twice in a row. Prints the median and the best
 * of `--rounds` rounds of `--calls` calls each (the sides' rounds interleaved), in microseconds per call.
 *
 *   cd tools/bench
 *   nice -n 19 pnpm exec tsx --conditions=@llmrr/source responses-check-micro.ts
 *
 * `--base DIR` measures the fast check of the gateway sources in DIR too, in the same process, its rounds
 * interleaved with the others (a before/after that a loaded machine's noise hits alike); DIR is the `src` of a
 * `git archive` of another commit whose `packages/gateway/node_modules` links to this checkout's:
 *
 *   mkdir -p /tmp/responses-check-base && git -C ../.. archive a33dd2b packages/gateway/src | tar -x -C /tmp/responses-check-base
 *   ln -s "$PWD/../../packages/gateway/node_modules" /tmp/responses-check-base/packages/gateway/node_modules
 *   nice -n 19 pnpm exec tsx --conditions=@llmrr/source responses-check-micro.ts --base /tmp/responses-check-base/packages/gateway/src
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const TOOLS = Number(option('tools', '8'));
const CALLS = Number(option('calls', '20000'));
const ROUNDS = Number(option('rounds', '7'));
const SRC = resolve(import.meta.dirname, '../../packages/gateway/src');
const BASE = option('base', '');

type Check = (body: unknown) => boolean;
type Schema = { safeParse(body: unknown): { success: boolean } };
const fastCheckIn = async (src: string) =>
  ((await import(pathToFileURL(`${resolve(src)}/schemas/check-openai-responses.ts`).href)) as { isWellFormedResponsesRequest: Check }).isWellFormedResponsesRequest;
const isWellFormedResponsesRequest = await fastCheckIn(SRC);
const baseCheck = BASE ? await fastCheckIn(BASE) : undefined;
const { OpenAIResponsesRequestSchema } = (await import(pathToFileURL(`${SRC}/schemas/openai-responses.ts`).href)) as { OpenAIResponsesRequestSchema: Schema };

/** The tools of gateway-bench-inproc-run.ts (`toolDefinitions`, Responses form). */
function toolDefinitions(n: number): unknown[] {
  return Array.from({ length: n }, (_, i) => ({
    type: 'function',
    name: i === 0 ? 'get_weather' : `tool_${i}`,
    description: `Tool ${i}: reads a file of the workspace and returns the requested lines as text.`,
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'Path of the file, relative to the workspace root.' },
        start: { type: 'integer', minimum: 1, description: 'First line.' },
        end: { type: 'integer', minimum: 1, description: 'Last line.' },
        mode: { type: 'string', enum: ['text', 'hex'] },
      },
      required: ['path'],
      additionalProperties: false,
    },
    strict: false,
  }));
}

const json = JSON.stringify({
  model: 'bench',
  input: [{ role: 'user', content: [{ type: 'input_text', text: 'Say sixteen words.' }] }],
  max_output_tokens: 32,
  tools: toolDefinitions(TOOLS),
});
const bodies: unknown[] = Array.from({ length: 64 }, () => JSON.parse(json) as unknown);
if (!isWellFormedResponsesRequest(bodies[0]) || !OpenAIResponsesRequestSchema.safeParse(bodies[0]).success || (baseCheck && !baseCheck(bodies[0]))) {
  throw new Error('the benchmark body must pass both the fast check and the schema');
}

let sink = 0;
/** Microseconds per call of one round. */
function round(call: (body: unknown) => boolean): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) if (call(bodies[i & 63])) sink++;
  return Number(process.hrtime.bigint() - start) / 1000 / CALLS;
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const check: number[] = [];
const zod: number[] = [];
const base: number[] = [];
const safeParse = (b: unknown) => OpenAIResponsesRequestSchema.safeParse(b).success;
const sides = 2 + (baseCheck ? 1 : 0);
for (let r = 0; r <= ROUNDS; r++) {
  // Round 0 warms every side up and is not counted.
  const [c, z, b] = [round(isWellFormedResponsesRequest), round(safeParse), baseCheck ? round(baseCheck) : 0];
  if (r === 0) continue;
  check.push(c);
  zod.push(z);
  base.push(b);
}
if (sink !== (ROUNDS + 1) * sides * CALLS) throw new Error('a call failed');
console.log(`${TOOLS}-tool body (${json.length} bytes), ${ROUNDS} rounds of ${CALLS} calls`);
const line = (name: string, xs: number[]) => `${name} ${median(xs).toFixed(2)} us per call (best round ${Math.min(...xs).toFixed(2)}; rounds ${xs.map((x) => x.toFixed(2)).join(' ')})`;
console.log(line('fast check:   ', check));
console.log(line('zod safeParse:', zod));
if (baseCheck) console.log(line(`fast check of ${BASE}:`, base));
