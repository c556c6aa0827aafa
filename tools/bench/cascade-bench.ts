/**
 * Cascade benchmark: what a cascade (`routing.cascades`) costs besides its two model calls.
 *
 *   pnpm --filter @llmrr/tools-bench bench:cascade [-- --iterations 5000 --json]
 *
 * 1. The built-in `arithmetic` verifier on the 1 319 real Mixtral answers of RouteLLM GSM8K (needs the shared
 *    data: LLMRR_SHARED_DIR or ../shared/data/routing; skipped with a message without it): time per answer.
 * 2. The router's own overhead per call with mock engines (no network, no model): a plain call to the weak
 *    model, a cascade whose weak answer is accepted (one call + the verifier) and one that escalates (two
 *    calls + the verifier), each minus the same number of direct mock engine calls. process.hrtime.bigint()
 *    around each call, after a warm-up; p50 / p99 / mean in microseconds.
 */
import { arithmeticScore, LLMRouter, loadGsm8kResponses, sharedRoutingDir, type GenerateRequest, type RouterResult } from '@llmrr/core';
import { MockEngine } from '@llmrr/core/test';
import { flag, option, timeCalls, type Summary } from './bench-args.js';

const ITERATIONS = option('iterations', 5_000);
const WARMUP = option('warmup', 1_000);

const QUESTION = 'Janet has 16 eggs. She eats 3 and bakes with 4. She sells the rest at $2 each. How many dollars does she make?';
const RIGHT = 'She has 16 - 3 - 4 = 9 eggs left. She makes 9 * 2 = 18 dollars.\n#### 18';
const WRONG = 'She has 16 - 3 - 4 = 9 eggs left. She makes 9 * 2 = 19 dollars.\n#### 19';
const STRONG = 'Janet sells 16 - 3 - 4 = 9 eggs for 9 * 2 = 18 dollars.\n#### 18';

const measure = (fn: () => unknown): Promise<Summary> => timeCalls(fn, WARMUP, ITERATIONS);

const minus = (a: Summary, b: Summary): Summary => ({ p50: a.p50 - b.p50, p99: a.p99 - b.p99, mean: a.mean - b.mean });

async function verifierTimes(): Promise<{ answers: number; escalated: number; summary: Summary } | undefined> {
  const dir = sharedRoutingDir(process.env, process.cwd());
  if (!dir) {
    console.error('cascade-bench: the shared routing data was not found (LLMRR_SHARED_DIR or ../shared/data/routing): verifier timing on real answers skipped');
    return undefined;
  }
  const examples = await loadGsm8kResponses(`${dir}/routellm/gsm8k/gsm8k_responses.csv`);
  // What the verifier is handed at run time: the request and the weak step's result (only `text` is read).
  const calls = examples.map((e) => ({ request: { messages: [{ role: 'user', content: e.prompt }] } as GenerateRequest, weak: { text: e.weakResponse } as RouterResult }));
  let escalated = 0;
  for (const c of calls) if (arithmeticScore(c.request, c.weak) >= 1) escalated++;
  let i = 0;
  const summary = await measure(() => {
    const c = calls[i++ % calls.length]!;
    return arithmeticScore(c.request, c.weak);
  });
  return { answers: calls.length, escalated, summary };
}

async function routerOverhead(): Promise<Array<{ what: string; total: Summary; overhead: Summary }>> {
  const engines = { right: new MockEngine({ reply: RIGHT }), wrong: new MockEngine({ reply: WRONG }), strong: new MockEngine({ reply: STRONG }) };
  const model = (name: keyof typeof engines) => ({ name, engine: 'mock', model: name, price: { input: 1, output: 2 } });
  const router = new LLMRouter(
    {
      models: [model('right'), model('wrong'), model('strong')],
      routing: {
        strategy: 'priority',
        retries: { max: 0 },
        cascades: [
          { name: 'accepts', weak: 'right', strong: 'strong' },
          { name: 'escalates', weak: 'wrong', strong: 'strong' },
        ],
      },
    },
    { engines },
  );
  const request: GenerateRequest = { messages: [{ role: 'user', content: QUESTION }] };
  const check = await router.generate(request, { model: 'escalates' });
  if (check.cascade?.escalated !== true || check.text !== STRONG) throw new Error('cascade-bench: the escalating cascade did not escalate');
  const direct = await measure(() => engines.right.generate(request));
  const direct2 = await measure(async () => {
    await engines.wrong.generate(request);
    await engines.strong.generate(request);
  });
  const plain = await measure(() => router.generate(request, { model: 'right' }));
  const accepts = await measure(() => router.generate(request, { model: 'accepts' }));
  const escalates = await measure(() => router.generate(request, { model: 'escalates' }));
  await router.close();
  return [
    { what: 'plain call (weak model)', total: plain, overhead: minus(plain, direct) },
    { what: 'cascade, accepted', total: accepts, overhead: minus(accepts, direct) },
    { what: 'cascade, escalated', total: escalates, overhead: minus(escalates, direct2) },
  ];
}

async function main(): Promise<void> {
  const verifier = await verifierTimes();
  const rows = await routerOverhead();
  if (flag('json')) {
    console.log(JSON.stringify({ iterations: ITERATIONS, verifier, router: rows }, null, 2));
    return;
  }
  const f = (v: number) => v.toFixed(1).padStart(8);
  if (verifier) {
    console.log(`arithmetic verifier on ${verifier.answers} real GSM8K answers (Mixtral; ${((100 * verifier.escalated) / verifier.answers).toFixed(1)}% escalated at threshold 1):`);
    console.log(`  per answer, µs: p50 ${f(verifier.summary.p50)}  p99 ${f(verifier.summary.p99)}  mean ${f(verifier.summary.mean)}`);
  }
  console.log(`\nrouter with mock engines, ${ITERATIONS} calls each, µs   |   total p50      p99     mean | overhead p50      p99     mean`);
  for (const r of rows) console.log(`${r.what.padEnd(32)} | ${f(r.total.p50)} ${f(r.total.p99)} ${f(r.total.mean)} | ${f(r.overhead.p50)} ${f(r.overhead.p99)} ${f(r.overhead.mean)}`);
  console.log('(overhead: minus the same mock engine calls made directly: one for a plain or accepted call, two for an escalated one)');
}

await main();
