/**
 * The same small piece of synchronous work, timed back to back and after an idle gap, in one process:
 * shows how much slower code runs, and what a bare wake-up costs, when a process idles between requests
 * (the concurrency-1 situation; docs/benchmarks.md "Concurrency 1: where the time goes").
 *
 *   pnpm --filter @llmrr/tools-bench exec tsx gateway-bench-idle-gap.ts [--gap 80] [--work 10] [--spin] [--rounds 300]
 *
 * `--work N` JSON round trips of a small chat answer per round (0: only the wake-up); `--gap MS` the idle
 * time before each round (0: back to back, on setImmediate); `--spin` waits the gap busy instead of asleep.
 * Prints the work's wall time (p50 / p90, microseconds) and the process's CPU per round.
 */
const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isFinite(v) && v >= 0 ? v : fallback;
};
const GAP_MS = Math.min(opt('gap', 80), 1000);
const WORK = Math.min(opt('work', 10), 10_000);
const ROUNDS = Math.min(Math.max(opt('rounds', 300), 10), 10_000);
const SPIN = args.includes('--spin');

const answer = {
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1,
  model: 'bench-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'word0 word1 word2 word3' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 16 },
};
function work(): number {
  let n = 0;
  for (let i = 0; i < WORK; i++) n += (JSON.parse(JSON.stringify(answer)) as typeof answer).usage.prompt_tokens;
  return n;
}
const tick = () => new Promise<void>((r) => setImmediate(r));
async function gap(): Promise<void> {
  if (GAP_MS === 0) return tick();
  if (!SPIN) return new Promise<void>((r) => setTimeout(r, GAP_MS));
  const end = Date.now() + GAP_MS;
  while (Date.now() < end);
  return tick();
}

for (let i = 0; i < 300; i++) work(); // optimized before measuring
const times: number[] = [];
const cpu0 = process.cpuUsage();
for (let i = 0; i < ROUNDS; i++) {
  await gap();
  const t = process.hrtime.bigint();
  work();
  times.push(Number(process.hrtime.bigint() - t) / 1e3);
}
const cpu = process.cpuUsage(cpu0);
times.sort((a, b) => a - b);
const spinCpu = SPIN ? GAP_MS : 0; // a busy gap is CPU too
console.log(
  `gap ${GAP_MS} ms${SPIN ? ' (busy)' : ''}, work ${WORK}: p50 ${times[times.length >> 1]!.toFixed(0)} us, p90 ${times[Math.floor(times.length * 0.9)]!.toFixed(0)} us; ` +
    `process CPU per round ${((cpu.user + cpu.system) / 1000 / ROUNDS - spinCpu).toFixed(3)} ms${SPIN ? ' (without the busy gap)' : ''}`,
);
