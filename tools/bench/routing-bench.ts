/**
 * Learned routing benchmark: how long the `intelligent` and `adaptive` decisions take on real prompts,
 * excluding the embedding, and (separately) how long the embedding of a prompt takes.
 *
 *   pnpm --filter @llmrr/tools-bench bench:routing
 *   ... -- --iterations 20000 --json
 *
 * It trains router models on the shared data (RouterBench train split, 11 models; RouteLLM GSM8K, two
 * models) with the cheap features (analysis + hashed TF-IDF; no embedding): logistic regression, and
 * on RouterBench also the stack behind the out-of-distribution guard (`--no-stack` skips it, it takes a
 * minute or two to train), then measures with
 * process.hrtime.bigint() around each call, after a warm-up, over real held-out prompts:
 *   - predict: features + quality predictor only;
 *   - rank:    the strategy's whole rank(ctx) (features, prediction, cost, score, sort);
 *   - route(): the full router decision (candidates, ranking, fallbacks), explain off and on.
 * Needs the shared data (LLMRR_SHARED_DIR or ../shared/data/routing): exits with a message without it.
 */
import {
  AdaptiveStrategy,
  createIntelligentStrategy,
  LLMRouter,
  loadDataset,
  loadUseLiteEmbedder,
  RouterModel,
  sharedRoutingDir,
  trainRouterModel,
  type RoutingDataset,
} from '@llmrr/core';
import { flag, option, summarize, type Summary as TimeSummary } from './bench-args.js';

interface Summary extends TimeSummary {
  /** The same over process CPU time (user + system): what the decision costs without waiting for a core. */
  cpu?: { p50: number; p99: number };
}

const ITERATIONS = option('iterations', 10_000);
const WARMUP = option('warmup', 1_000);
const TARGET_P99_US = 1000;

async function measure(prompts: string[], fn: (prompt: string) => unknown): Promise<Summary> {
  for (let i = 0; i < WARMUP; i++) await fn(prompts[i % prompts.length]!);
  const samples = new Float64Array(ITERATIONS);
  const cpu = new Float64Array(ITERATIONS);
  for (let i = 0; i < ITERATIONS; i++) {
    const p = prompts[i % prompts.length]!;
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await fn(p);
    samples[i] = Number(process.hrtime.bigint() - t0);
    const c = process.cpuUsage(c0);
    cpu[i] = (c.user + c.system) * 1000;
  }
  const s = summarize(samples);
  const c = summarize(cpu);
  return { ...s, cpu: { p50: c.p50, p99: c.p99 } };
}

interface Row {
  setup: string;
  what: string;
  summary: Summary;
}

type TrainOptions = Parameters<typeof trainRouterModel>[1];

async function benchSetup(label: string, data: RoutingDataset, prices: (i: number) => { input: number; output: number }, train: TrainOptions = { kinds: ['logistic'], select: 'logistic' }): Promise<Row[]> {
  const t0 = Date.now();
  const artifact = trainRouterModel(data, train);
  const model = new RouterModel(artifact);
  const trainS = (Date.now() - t0) / 1000;
  const test = data.examples.filter((e) => e.split === 'test' || e.split === undefined).map((e) => e.prompt).slice(0, 2000);
  const models = data.models.map((name, i) => ({ name: name.replace(/[^\w.-]+/g, '_'), model: name, engine: 'mock', price: prices(i) }));
  const intelligent = createIntelligentStrategy({ model });
  const adaptive = new AdaptiveStrategy({ model });
  const router = new LLMRouter({ models, routing: { strategy: 'intelligent', retries: { max: 0 } } }, { strategies: { intelligent, adaptive } });
  console.error(`${label}: trained ${artifact.training.chosen} on ${artifact.training.examples} prompts in ${trainS.toFixed(1)} s; ${test.length} benchmark prompts, ${models.length} deployments`);
  const rows: Row[] = [];
  rows.push({ setup: label, what: 'predict (features + model)', summary: await measure(test, (p) => model.predict(p)) });
  rows.push({ setup: label, what: 'intelligent route()', summary: await measure(test, (p) => router.route(p)) });
  rows.push({ setup: label, what: 'intelligent route() explain', summary: await measure(test, (p) => router.route(p, { explain: true })) });
  rows.push({ setup: label, what: 'intelligent route() strongShare', summary: await measure(test, (p) => router.route(p, { strategyOptions: { strongShare: 0.3 } })) });
  rows.push({ setup: label, what: 'adaptive route()', summary: await measure(test, (p) => router.route(p, { strategy: 'adaptive' })) });
  await router.close();
  return rows;
}

async function embeddingTimes(prompts: string[]): Promise<Summary | undefined> {
  try {
    const embed = await loadUseLiteEmbedder();
    const n = Math.min(prompts.length, 100);
    for (let i = 0; i < 5; i++) await embed([prompts[i]!]);
    const samples = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      await embed([prompts[i]!]);
      samples[i] = Number(process.hrtime.bigint() - t0);
    }
    return summarize(samples);
  } catch (e) {
    console.error(`embedding timing skipped: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

async function main(): Promise<void> {
  const dir = sharedRoutingDir(process.env, process.cwd());
  if (!dir) {
    console.error('routing-bench: the shared routing data was not found (set LLMRR_SHARED_DIR, or put it in ../shared/data/routing next to the repository)');
    process.exitCode = 2;
    return;
  }
  const rb = await loadDataset(`${dir}/routerbench`);
  const gsm = await loadDataset(`${dir}/routellm/gsm8k`);
  const rows = [
    // Prices per 1M tokens, made up but ordered like the real ones (the decision time does not depend on them).
    ...(await benchSetup('RouterBench, 11 models', rb, (i) => ({ input: 0.1 * (i + 1), output: 0.3 * (i + 1) }))),
    ...(await benchSetup('RouteLLM GSM8K, 2 models', gsm, (i) => (i === 0 ? { input: 0.6, output: 0.6 } : { input: 10, output: 30 }))),
    // The stack (logistic + MLP + task prior, stacked) behind the out-of-distribution guard: the
    // slowest shipped predictor (three members, the guard's centroid lookup).
    ...(flag('no-stack')
      ? []
      : await benchSetup('RouterBench, stack + guard', rb, (i) => ({ input: 0.1 * (i + 1), output: 0.3 * (i + 1) }), { kinds: ['logistic', 'mlp', 'task', 'stack'], select: 'stack', guard: true })),
  ];
  const embedding = flag('no-embedding') ? undefined : await embeddingTimes(gsm.examples.map((e) => e.prompt));
  if (flag('json')) {
    console.log(JSON.stringify({ node: process.version, iterations: ITERATIONS, warmup: WARMUP, rows, embedding }, null, 2));
    return;
  }
  const f = (n: number) => n.toFixed(1).padStart(8);
  console.log(`Learned routing decision time, ${ITERATIONS} iterations after ${WARMUP} warm-up, Node ${process.version} (µs, embedding excluded)\n`);
  console.log('                            |                                   |       wall clock           |   CPU time');
  console.log('setup                       | measured                          |      p50      p99     mean |      p50      p99');
  console.log('----------------------------+-----------------------------------+----------------------------+------------------');
  let worst = 0;
  for (const r of rows) {
    if (r.what.includes('route()')) worst = Math.max(worst, r.summary.p99);
    console.log(`${r.setup.padEnd(27)} | ${r.what.padEnd(33)} | ${f(r.summary.p50)} ${f(r.summary.p99)} ${f(r.summary.mean)} | ${f(r.summary.cpu?.p50 ?? NaN)} ${f(r.summary.cpu?.p99 ?? NaN)}`);
  }
  if (embedding) console.log(`\nUniversal Sentence Encoder lite, one GSM8K prompt (not included above): p50 ${(embedding.p50 / 1000).toFixed(1)} ms, p99 ${(embedding.p99 / 1000).toFixed(1)} ms`);
  let worstCpu = 0;
  for (const r of rows) if (r.what.includes('route()')) worstCpu = Math.max(worstCpu, r.summary.cpu?.p99 ?? 0);
  const load = (await import('node:os')).loadavg()[0]!;
  console.log(`\nWorst route() p99: wall clock ${worst.toFixed(1)} µs, CPU time ${worstCpu.toFixed(1)} µs (target < ${TARGET_P99_US} µs): ${worst < TARGET_P99_US ? 'met' : 'NOT met'} (wall), ${worstCpu < TARGET_P99_US ? 'met' : 'NOT met'} (CPU); load average ${load.toFixed(1)} on ${(await import('node:os')).cpus().length} cores`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
