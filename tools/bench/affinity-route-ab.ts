/**
 * Prompt-cache affinity micro-benchmark: what `routing.promptCacheAffinity` costs route() (the decision alone,
 * explain on) for requests WITHOUT cache marks (the hot path: it must not move), and what it costs a marked
 * conversation turn (SHA-256 of its marked prefixes and lookback message ends, one store lookup).
 *
 *   cd tools/bench && nice -n 19 npx tsx --conditions=@llmrr/source affinity-route-ab.ts
 *   ... -- --iterations 5000 --rounds 10 --json
 *
 * Two routers built alike (10 mock deployments, balanced): affinity on (the default) and off. Unmarked
 * requests are measured in alternating rounds (on, off, off, on, ...) so both see the same machine load;
 * the figure to read is the median over rounds of each round's p50 and mean, and their difference.
 *
 * Long conversation (the review's shape): 200 messages, ~300 KB, the system prompt and the last user turn
 * marked, routed with 10 deployments of the model and with 1 (where affinity cannot change anything and
 * should cost nothing), affinity on and off, in alternating rounds of `--long-iterations` calls (default 300).
 */
import { LLMRouter, type ChatMessage, type GenerateRequest } from '@llmrr/core';
import { MockEngine } from '@llmrr/core/test';
import { flag, option, timeCalls, type Summary } from './bench-args.js';

const ITERATIONS = option('iterations', 5_000);
const WARMUP = option('warmup', 1_000);
const ROUNDS = option('rounds', 10);
const DEPLOYMENTS = 10;

const LONG_ITERATIONS = option('long-iterations', 300);

function buildRouter(affinity: boolean, deployments = DEPLOYMENTS): LLMRouter {
  const engine = new MockEngine({ reply: 'The quick brown fox jumps over the lazy dog.' });
  const engines: Record<string, MockEngine> = {};
  const models = Array.from({ length: deployments }, (_, i) => {
    engines[`deployment-${i}`] = engine;
    return { name: `deployment-${i}`, engine: 'mock', model: 'same-model', weight: 1 + (i % 3), price: { input: 0.1, output: 0.3 }, contextWindow: 200_000 };
  });
  let seed = 7;
  const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return new LLMRouter({ models, routing: { strategy: 'balanced', retries: { max: 0 }, promptCacheAffinity: { enabled: affinity } } }, { engines, random });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Turn `n` of a conversation: a ~2 KB marked system prompt, n user turns and n-1 answers, the last user turn marked. */
function markedTurn(n: number): GenerateRequest {
  const mark = { type: 'ephemeral' } as const;
  const messages: ChatMessage[] = [{ role: 'system', content: 'You are a careful assistant who answers briefly. '.repeat(40), cacheControl: mark }];
  for (let i = 1; i <= n; i++) {
    messages.push({ role: 'user', content: `Question ${i}: what does the lighthouse keeper do on day ${i}?`, ...(i === n ? { cacheControl: mark } : {}) });
    if (i < n) messages.push({ role: 'assistant', content: `On day ${i} the keeper trims the wick and logs the ships that pass. `.repeat(4) });
  }
  return { messages };
}

/** 200 messages (~300 KB): a marked ~2 KB system prompt, 199 user/assistant turns of ~1.5 KB, the last user turn marked. */
function longConversation(): GenerateRequest {
  const mark = { type: 'ephemeral' } as const;
  const messages: ChatMessage[] = [{ role: 'system', content: 'You are a careful assistant who answers briefly. '.repeat(40), cacheControl: mark }];
  for (let i = 1; i < 200; i++) {
    const last = i === 199;
    const text = `${i}: ${'the keeper trims the wick and logs the ships that pass the rocks at night. '.repeat(20)}`;
    messages.push(i % 2 === 1 ? { role: 'user', content: text, ...(last ? { cacheControl: mark } : {}) } : { role: 'assistant', content: text });
  }
  return { messages };
}

/** route() of `request` on affinity on and off routers of `deployments` deployments, alternating rounds. */
async function abRounds(request: GenerateRequest, deployments: number): Promise<{ on: ReturnType<typeof sumRounds>; off: ReturnType<typeof sumRounds> }> {
  const on = buildRouter(true, deployments);
  const off = buildRouter(false, deployments);
  const rounds: { on: Summary[]; off: Summary[] } = { on: [], off: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order: Array<['on' | 'off', LLMRouter]> = r % 2 === 0 ? [['on', on], ['off', off]] : [['off', off], ['on', on]];
    for (const [name, router] of order) rounds[name].push(await timeCalls(() => router.route(request), Math.ceil(LONG_ITERATIONS / 5), LONG_ITERATIONS));
  }
  await Promise.all([on.close(), off.close()]);
  return { on: sumRounds(rounds.on), off: sumRounds(rounds.off) };
}

function sumRounds(xs: Summary[]): { p50: number; p99: number; mean: number } {
  return { p50: median(xs.map((s) => s.p50)), p99: median(xs.map((s) => s.p99)), mean: median(xs.map((s) => s.mean)) };
}

async function main(): Promise<void> {
  const on = buildRouter(true);
  const off = buildRouter(false);
  const unmarked: GenerateRequest = { messages: [{ role: 'user', content: 'Summarize the plot of a short story about a lighthouse keeper in two sentences.' }] };
  const rounds: { on: Summary[]; off: Summary[] } = { on: [], off: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order: Array<['on' | 'off', LLMRouter]> = r % 2 === 0 ? [['on', on], ['off', off]] : [['off', off], ['on', on]];
    for (const [name, router] of order) rounds[name].push(await timeCalls(() => router.route(unmarked), WARMUP, ITERATIONS));
  }
  const sum = (xs: Summary[]) => ({ p50: median(xs.map((s) => s.p50)), p99: median(xs.map((s) => s.p99)), mean: median(xs.map((s) => s.mean)) });
  const unmarkedOn = sum(rounds.on);
  const unmarkedOff = sum(rounds.off);

  // A marked conversation: 10 turns (19 messages). First with nothing remembered, then after its first turn was served.
  const turn10 = markedTurn(10);
  const markedOff = await timeCalls(() => off.route(turn10), WARMUP, ITERATIONS);
  const markedMiss = await timeCalls(() => on.route(turn10), WARMUP, ITERATIONS);
  await on.generate(markedTurn(9));
  const markedHit = await timeCalls(() => on.route(turn10), WARMUP, ITERATIONS);

  const long = longConversation();
  const longBytes = JSON.stringify(long).length;
  const long10 = await abRounds(long, DEPLOYMENTS);
  const long1 = await abRounds(long, 1);

  const result = {
    node: process.version,
    iterations: ITERATIONS,
    rounds: ROUNDS,
    deployments: DEPLOYMENTS,
    unmarked: { on: unmarkedOn, off: unmarkedOff },
    marked10Turns: { off: markedOff, onMiss: markedMiss, onHit: markedHit },
    long200Messages: { bytes: longBytes, iterations: LONG_ITERATIONS, deployments10: long10, deployments1: long1 },
  };
  if (flag('json')) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    const f = (n: number) => n.toFixed(2).padStart(8);
    console.log(`route() µs, ${DEPLOYMENTS} mock deployments of one model, balanced; ${ROUNDS} alternating rounds x ${ITERATIONS} calls; Node ${process.version}`);
    console.log('                                   p50      p99     mean');
    console.log(`unmarked, affinity on       ${f(unmarkedOn.p50)} ${f(unmarkedOn.p99)} ${f(unmarkedOn.mean)}   (median of rounds)`);
    console.log(`unmarked, affinity off      ${f(unmarkedOff.p50)} ${f(unmarkedOff.p99)} ${f(unmarkedOff.mean)}   (median of rounds)`);
    console.log(`marked 10-turn, affinity off${f(markedOff.p50)} ${f(markedOff.p99)} ${f(markedOff.mean)}`);
    console.log(`marked 10-turn, on, no hit  ${f(markedMiss.p50)} ${f(markedMiss.p99)} ${f(markedMiss.mean)}`);
    console.log(`marked 10-turn, on, hit     ${f(markedHit.p50)} ${f(markedHit.p99)} ${f(markedHit.mean)}`);
    console.log(`long 200-message (${Math.round(longBytes / 1024)} KB), ${ROUNDS} alternating rounds x ${LONG_ITERATIONS} calls (median of rounds):`);
    console.log(`  10 deployments, on        ${f(long10.on.p50)} ${f(long10.on.p99)} ${f(long10.on.mean)}`);
    console.log(`  10 deployments, off       ${f(long10.off.p50)} ${f(long10.off.p99)} ${f(long10.off.mean)}`);
    console.log(`  1 deployment, on          ${f(long1.on.p50)} ${f(long1.on.p99)} ${f(long1.on.mean)}`);
    console.log(`  1 deployment, off         ${f(long1.off.p50)} ${f(long1.off.p99)} ${f(long1.off.mean)}`);
  }
  await Promise.all([on.close(), off.close()]);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
