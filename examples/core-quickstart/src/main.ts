/**
 * A tour of @llmrr/core that runs offline: an LLMRouter over two mock deployments (and the real
 * stories260K GGUF model when it is found), showing route explanations, generate, stream, a fallback
 * when a deployment fails, and what it all cost. `pnpm start` runs it; the tests call these functions.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LLMRouter, type RouteDecision, type RouterResult } from '@llmrr/core';
import { flakyDeployment, quickstartConfig } from './config.js';
import { findLocalModel, sharedDir } from './local-model.js';
import { formatUsd, sumUsd } from './money.js';

/** Where the tour writes: stdout under `pnpm start`, a buffer in the tests. */
export interface Output {
  write(text: string): void;
}

function println(out: Output, text = ''): void {
  out.write(`${text}\n`);
}

function usageLine(result: RouterResult): string {
  const u = result.usage;
  return `${u.inputTokens} in + ${u.outputTokens} out tokens${u.estimated ? ' (estimated)' : ''}, ${formatUsd(result.cost.totalUsd)}`;
}

export function createQuickstartRouter(localModel: string | undefined): LLMRouter {
  return new LLMRouter(quickstartConfig(localModel));
}

/** One line per deployment: engine, price (USD per 1M tokens), quality. */
export function showModels(router: LLMRouter, out: Output): void {
  for (const m of router.models()) {
    const price = m.price ? `$${m.price.input} / $${m.price.output} per 1M tokens in / out` : 'price unknown';
    println(out, `  ${m.name.padEnd(12)} ${m.engine.padEnd(5)} ${price}, quality ${m.config.quality ?? '-'}`);
  }
}

/** The decision two strategies make for one prompt, and why; nothing is called. */
export async function explainRoutes(router: LLMRouter, out: Output): Promise<RouteDecision[]> {
  const decisions: RouteDecision[] = [];
  for (const strategy of ['quality-first', 'cost-optimized']) {
    const decision = await router.route('Summarize this contract in three sentences.', { strategy });
    println(out, `  ${strategy}: ${decision.order.join(' > ')}`);
    println(out, `    ${decision.reason}`);
    decisions.push(decision);
  }
  return decisions;
}

/** One answer from the deployments behind the alias `mock`, chosen by `strategy`. */
export async function generateAnswer(router: LLMRouter, out: Output, strategy: string): Promise<RouterResult> {
  const result = await router.generate('What is a CRDT?', { model: 'mock', strategy });
  println(out, `  ${strategy} -> ${result.deployment}: ${result.text}`);
  println(out, `    ${usageLine(result)}`);
  return result;
}

/** Streams an answer from `model` part by part: which deployment answers, then the text as it comes. */
export async function streamAnswer(router: LLMRouter, out: Output, model: string): Promise<RouterResult> {
  const stream = router.stream('Once upon a time', { model, maxTokens: 48 });
  for await (const part of stream) {
    if (part.type === 'route') out.write(`  [${part.deployment}] `);
    else if (part.type === 'text-delta') out.write(part.delta);
    else if (part.type === 'error') println(out, `\n  the stream ended with an error: ${part.error.code}: ${part.error.message}`);
  }
  const result = await stream.result; // rejects when the stream ended with an error part
  println(out);
  println(out, `    ${usageLine(result)}, finish: ${result.finishReason}, first token after ${Math.round(result.timeToFirstTokenMs ?? 0)} ms`);
  return result;
}

/**
 * Adds `mock-flaky` (fails twice with provider_unavailable, then would answer) and asks for it with
 * `mock-fast` as fallback: one retry, the circuit opens after the second failure, the fallback answers.
 */
export async function fallbackDemo(router: LLMRouter, out: Output): Promise<RouterResult> {
  router.load(flakyDeployment);
  const listeners = [
    router.on('attempt:error', (e) => println(out, `  attempt ${e.attempt} on ${e.deployment} failed: ${e.error.code} (${e.error.message})`)),
    router.on('retry', (e) => println(out, `  retrying ${e.deployment} (attempt ${e.attempt})`)),
    router.on('circuit', (e) => println(out, `  circuit of ${e.deployment}: ${e.from} -> ${e.to}`)),
    router.on('fallback', (e) => println(out, `  falling back: ${e.from} -> ${e.to} after ${e.error.code}`)),
  ];
  try {
    const result = await router.generate('Are you there?', { model: flakyDeployment.name, fallbacks: ['mock-fast'] });
    const tried = result.attempts.map((a) => `${a.deployment}#${a.attempt} ${a.ok ? 'ok' : a.errorCode}`).join(', ');
    println(out, `  answered by ${result.deployment}: ${result.text}`);
    println(out, `    attempts: ${tried}; ${usageLine(result)}`);
    return result;
  } finally {
    for (const off of listeners) off();
  }
}

export interface TourReport {
  localModel: string | undefined;
  decisions: RouteDecision[];
  results: RouterResult[];
  /** Cost of every call, by deployment, in USD. */
  costByDeployment: Record<string, number>;
  totalUsd: number;
}

/** Runs the whole tour against a fresh router; `localModel` is the stories260K.gguf path, if any. */
export async function runTour(out: Output, localModel: string | undefined): Promise<TourReport> {
  const router = createQuickstartRouter(localModel);
  try {
    println(out, '@llmrr/core quickstart. The mock engine is a deterministic test double, not a model.');
    println(out, localModel ? `Local model: ${localModel}` : `No local model (stories260K.gguf not found under ${sharedDir()}/models): mock only.`);
    println(out, '\nDeployments:');
    showModels(router, out);
    println(out, '\nRoute, explained (nothing is called):');
    const decisions = await explainRoutes(router, out);
    println(out, '\nGenerate, among the deployments of the alias "mock":');
    const results = [await generateAnswer(router, out, 'quality-first'), await generateAnswer(router, out, 'cost-optimized')];
    println(out, '\nStream:');
    results.push(await streamAnswer(router, out, localModel ? 'stories260K' : 'mock-fast'));
    println(out, '\nFallback when a deployment fails:');
    results.push(await fallbackDemo(router, out));

    const costByDeployment: Record<string, number> = {};
    for (const r of results) costByDeployment[r.deployment] = sumUsd([costByDeployment[r.deployment] ?? 0, r.cost.totalUsd]);
    const totalUsd = sumUsd(results.map((r) => r.cost.totalUsd));
    println(out, '\nCost:');
    for (const [name, usd] of Object.entries(costByDeployment)) println(out, `  ${name.padEnd(12)} ${formatUsd(usd)}`);
    println(out, `  ${'total'.padEnd(12)} ${formatUsd(totalUsd)} for ${results.length} calls`);
    return { localModel, decisions, results, costByDeployment, totalUsd };
  } finally {
    await router.close();
  }
}

const entry = process.argv[1];
if (entry !== undefined && resolve(entry) === fileURLToPath(import.meta.url)) {
  runTour({ write: (text) => process.stdout.write(text) }, findLocalModel()).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
