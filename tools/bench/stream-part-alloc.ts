/**
 * Bytes allocated and CPU per streamed part on the gateway's stream path (engine SSE parsing, the router's live loop,
 * the gateway's frames), in process (see stream-part-alloc-run.ts): each build runs a short and a long answer
 * (`--low` and `--high` content chunks, 16 and 144 by default), and the difference per chunk is one part's own cost, the
 * short answer's the cost per stream. `ready`: an answer's chunks come in one read (the parts of one network chunk);
 * `wait`: one chunk per stream per event-loop turn (each part is waited for). The allocation is exact (the used heap
 * before and after a batch of streams, with a young generation large enough that none is collected in between), the
 * CPU a plain batch's. `--base-core DIR --base-gateway DIR` compare other copies of packages/core/src and
 * packages/gateway/src (under their package's node_modules/.cache, so that their imports resolve); `--current-core DIR
 * --current-gateway DIR` put other copies in place of the working tree's too (a change alone, other work left out).
 *
 * `--same-process` (with a base) measures CPU only, the two builds in one process, their batches taking turns (`--runs`
 * processes of 100 turns each, `--low` chunks): a loaded machine's noise falls on both alike.
 *
 *   pnpm --filter @llmrr/tools-bench exec tsx --conditions=@llmrr/source stream-part-alloc.ts \
 *     [--base-core DIR --base-gateway DIR] [--current-core DIR --current-gateway DIR] [--low 16] [--high 144] [--streams 64] [--runs 3] [--spread ready|wait] [--same-process]
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleForNode } from './gateway-bench-bundle.js';

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
const LOW = Number(opt('low') ?? 16);
const HIGH = Number(opt('high') ?? 144);
const STREAMS = Number(opt('streams') ?? 64);
const RUNS = Number(opt('runs') ?? 3);
const SPREADS = opt('spread') ? [opt('spread')!] : ['ready', 'wait'];
const baseCore = opt('base-core');
const baseGateway = opt('base-gateway');
const currentCore = opt('current-core');
const currentGateway = opt('current-gateway');
const SAME_PROCESS = args.includes('--same-process');

interface Run {
  alloc: number;
  cpu: number;
}

function runOnce(file: string, chunks: number, spread: string): Promise<Run> {
  return new Promise((res, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--max-semi-space-size=256', '--min-semi-space-size=256', file], {
      env: { ...process.env, NODE_OPTIONS: '', CHUNKS: String(chunks), STREAMS: String(STREAMS), SPREAD: spread },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      const alloc = /^ALLOC (\d+)/m.exec(out);
      const cpu = /^CPU ([\d.]+)/m.exec(out);
      if (code !== 0 || !alloc || !cpu) reject(new Error(`run exited with ${code}:\n${out}`));
      else res({ alloc: Number(alloc[1]), cpu: Number(cpu[1]) });
    });
  });
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

/** `--same-process`: CPU-ms per stream of each build's batches, the builds taking turns in one process. */
function sameProcess(files: string[], spread: string): Promise<number[][]> {
  const script = `
    const builds = [];
    for (const f of ${JSON.stringify(files)}) builds.push(await import(f));
    const times = builds.map(() => []);
    for (let t = 0; t < 130; t++) {
      for (let i = 0; i < builds.length; i++) {
        const b = (t % 2 === 0 ? i : builds.length - 1 - i);
        const c0 = process.cpuUsage();
        await builds[b].batch();
        const c = process.cpuUsage(c0);
        if (t >= 30) times[b].push((c.user + c.system) / 1000 / ${STREAMS});
      }
    }
    console.log('TIMES ' + JSON.stringify(times));`;
  return new Promise((res, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, NODE_OPTIONS: '', STREAM_PART_LIB: '1', CHUNKS: String(LOW), STREAMS: String(STREAMS), SPREAD: spread },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      const m = /^TIMES (.*)$/m.exec(out);
      if (code !== 0 || !m) reject(new Error(`run exited with ${code}:\n${out}`));
      else res(JSON.parse(m[1]!) as number[][]);
    });
  });
}

async function main(): Promise<void> {
  const current = currentCore && currentGateway ? { packagesSrc: { core: resolve(currentCore), gateway: resolve(currentGateway) } } : {};
  const builds = [{ name: 'current', file: await bundleForNode('stream-part-alloc-run.ts', { ...current, name: `stream-part-alloc-run-${process.pid}.mjs` }) }];
  if (baseCore && baseGateway) {
    builds.push({ name: 'base', file: await bundleForNode('stream-part-alloc-run.ts', { packagesSrc: { core: resolve(baseCore), gateway: resolve(baseGateway) }, name: `stream-part-alloc-base-${process.pid}.mjs` }) });
  }
  if (SAME_PROCESS) {
    for (const spread of SPREADS) {
      const all = builds.map(() => [] as number[]);
      for (let r = 0; r < RUNS; r++) {
        const times = await sameProcess(builds.map((b) => b.file), spread);
        times.forEach((t, i) => all[i]!.push(...t));
      }
      console.log(`${spread}, ${LOW} chunks, ${STREAMS} streams at once, builds taking turns in ${RUNS} processes: CPU-ms per stream`);
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      builds.forEach((b, i) => console.log(`  ${b.name}: mean ${mean(all[i]!).toFixed(4)}, median ${median(all[i]!).toFixed(4)}, min ${Math.min(...all[i]!).toFixed(4)} (${all[i]!.length} batches)`));
    }
    for (const b of builds) rmSync(b.file, { force: true });
    return;
  }
  for (const spread of SPREADS) {
    const rows = new Map<string, { low: Run[]; high: Run[] }>(builds.map((b) => [b.name, { low: [], high: [] }]));
    for (let r = 0; r < RUNS; r++) {
      for (const b of r % 2 === 0 ? builds : [...builds].reverse()) {
        const row = rows.get(b.name)!;
        row.low.push(await runOnce(b.file, LOW, spread));
        row.high.push(await runOnce(b.file, HIGH, spread));
      }
    }
    console.log(`${spread} (${STREAMS} streams at once; medians of ${RUNS} processes):`);
    for (const [name, { low, high }] of rows) {
      const allocLow = median(low.map((x) => x.alloc));
      const allocHigh = median(high.map((x) => x.alloc));
      const cpuLow = median(low.map((x) => x.cpu));
      const cpuHigh = median(high.map((x) => x.cpu));
      const n = HIGH - LOW;
      console.log(
        `  ${name}: ${(allocLow / 1024).toFixed(1)} KiB allocated per stream of ${LOW} chunks, ${((allocHigh - allocLow) / n).toFixed(0)} B per part; ` +
          `CPU ${cpuLow.toFixed(4)} ms per stream, ${(((cpuHigh - cpuLow) / n) * 1000).toFixed(2)} us per part`,
      );
    }
  }
  for (const b of builds) rmSync(b.file, { force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
