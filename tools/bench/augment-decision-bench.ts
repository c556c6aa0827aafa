/**
 * Decision time of a router model trained with `--augment` (the difficulty model runs on every
 * decision), excluding the embedding. The shared routing bench (tools/bench routing-bench.ts) does
 * not train augmented models, so this script loads artifacts written by `llmrr router train` and
 * measures them the same way (process.cpuUsage and hrtime around each call, after a warm-up):
 *
 *   pnpm llmrr router train --data routellm/gsm8k --predictor logistic --out .llmrr/models/gsm8k-logistic.json
 *   pnpm llmrr router train --data routellm/gsm8k --predictor logistic --augment open7b --out .llmrr/models/gsm8k-logistic-open7b.json
 *   nice -n 5 pnpm --filter @llmrr/tools-bench exec tsx --conditions=@llmrr/source augment-decision-bench.ts ../../.llmrr/models/gsm8k-logistic.json ../../.llmrr/models/gsm8k-logistic-open7b.json
 */
import { loadavg } from 'node:os';
import { LLMRouter, createIntelligentStrategy, loadDataset, loadRouterModel, sharedRoutingDir } from '@llmrr/core';

const ITERATIONS = 10_000, WARMUP = 1_000;

function pct(a: Float64Array, q: number): number {
  const s = Float64Array.from(a).sort();
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]! / 1000;
}

async function measure(prompts: string[], fn: (p: string) => unknown): Promise<string> {
  for (let i = 0; i < WARMUP; i++) await fn(prompts[i % prompts.length]!);
  const wall = new Float64Array(ITERATIONS), cpu = new Float64Array(ITERATIONS);
  for (let i = 0; i < ITERATIONS; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await fn(prompts[i % prompts.length]!);
    wall[i] = Number(process.hrtime.bigint() - t0);
    const c = process.cpuUsage(c0);
    cpu[i] = (c.user + c.system) * 1000;
  }
  return `CPU p50 ${pct(cpu, 0.5).toFixed(0)} µs, CPU p99 ${pct(cpu, 0.99).toFixed(0)} µs, wall p50 ${pct(wall, 0.5).toFixed(0)} µs, wall p99 ${pct(wall, 0.99).toFixed(0)} µs`;
}

async function main(): Promise<void> {
  const dir = sharedRoutingDir(process.env, process.cwd());
  if (!dir) throw new Error('shared routing data not found');
  const gsm = await loadDataset(`${dir}/routellm/gsm8k`);
  const prompts = gsm.examples.map((e) => e.prompt);
  for (const file of process.argv.slice(2)) {
    const model = await loadRouterModel(file);
    const models = model.models.map((name, i) => ({ name: name.replace(/[^\w.-]+/g, '_'), model: name, engine: 'mock', price: i === 0 ? { input: 0.6, output: 0.6 } : { input: 10, output: 30 } }));
    const router = new LLMRouter({ models, routing: { strategy: 'intelligent', retries: { max: 0 } } }, { strategies: { intelligent: createIntelligentStrategy({ model }) } });
    console.log(`${file} (${model.predictor.kind}${model.artifact.features.augment ? ', augmented' : ''})`);
    console.log(`  predict (features + model): ${await measure(prompts, (p) => model.predict(p))}`);
    console.log(`  intelligent route():        ${await measure(prompts, (p) => router.route(p))}`);
    await router.close();
  }
  console.log(`load average ${loadavg()[0]!.toFixed(1)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
