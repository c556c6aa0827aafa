/**
 * Where the work before a stream's first byte goes: a CPU profile of the in-process burst (gateway-bench-inproc-run.ts,
 * no sockets: bursts of `--concurrency` streams started at once, as gateway-bench-inproc.ts --bursts runs them), with
 * only the samples from each burst's start until half of its calls had their reply (the window `--bursts` measures;
 * `BURST_MARKS` makes the run print it), after each process's first `--skip` bursts (still warming up).
 *
 *   pnpm --filter @llmrr/tools-bench exec tsx --conditions=@llmrr/source gateway-bench-inproc-profile.ts \
 *     [--bursts 24] [--skip 4] [--concurrency 512] [--chunk-delay 5] [--state memory|off] [--mode stream|json]
 *     [--top 45] [--callers NAME ...] [--whole] [--chunks 16]
 *
 * Prints the functions by self time in those windows (the garbage collector, `(program)` and `runMicrotasks` among
 * them), the same time by source file (frames of the bundle are named by their source file, line numbers are the
 * bundle's), and for each `--callers NAME` the stacks (four frames) that time in a function of that name was spent
 * under, inclusive. `--whole` takes every sample instead (the chunk work after the first byte too; with `--chunks 272`
 * mostly chunk work: content chunks per answer, see gateway-bench-inproc.ts). The profiler's
 * sampling (every 50 us) costs some CPU of its own, about the same for every function.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleForNode } from './gateway-bench-bundle.js';

const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
const opt = (name: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
const BURSTS = Math.min(Math.max(Number(opt('bursts') ?? 24) || 24, 1), 100);
const SKIP = Math.min(Math.max(Number(opt('skip') ?? 4) || 0, 0), BURSTS - 1);
const TOP = Math.min(Number(opt('top') ?? 45) || 45, 500);
const WHOLE = args.includes('--whole');
const CALLERS = args.flatMap((a, i) => (a === '--callers' && args[i + 1] !== undefined ? [args[i + 1]!] : []));

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

async function main(): Promise<void> {
  const bundle = await bundleForNode('gateway-bench-inproc-run.ts', { name: `gateway-bench-inproc-profile-${process.pid}.mjs` });
  const dir = mkdtempSync(join(tmpdir(), 'llmrr-inproc-prof-'));
  try {
    const env = {
      ...process.env,
      NODE_OPTIONS: '',
      MODE: opt('mode') === 'json' ? 'json' : 'stream',
      CALLS: '2048',
      ROUNDS: '0',
      BURSTS: String(BURSTS),
      BURST_MARKS: '1',
      CONCURRENCY: String(Math.min(Number(opt('concurrency') ?? 512) || 512, 4096)),
      CHUNK_DELAY_MS: String(Math.min(Number(opt('chunk-delay') ?? 5) || 0, 100)),
      CHUNKS: String(Math.min(Math.max(Number(opt('chunks') ?? 16) || 16, 1), 4096)),
      UPSTREAM: 'push',
      ENDPOINT: 'chat',
      ITEMS: '1',
      TOOLS: '0',
      BODY: 'plain',
      ...(opt('state') === 'off' ? {} : { STATE: 'memory' }),
    };
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '50', bundle], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`the in-process run exited with ${code}`))));
    });
    const windows = out
      .split('\n')
      .filter((l) => l.startsWith('MARK '))
      .map((l) => l.split(' ').slice(1).map(Number) as [number, number])
      .slice(SKIP);
    const bursts = [...out.matchAll(/^RESULT \w+ ([\d.]+)$/gm)].map((m) => Number(m[1])).slice(SKIP);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no profile written');
    report(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile, bundle, WHOLE ? undefined : windows, bursts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(bundle, { force: true });
  }
}

function report(profile: Profile, bundle: string, windows: [number, number][] | undefined, bursts: number[]): void {
  const lines = readFileSync(bundle, 'utf8').split('\n');
  const modules: { line: number; file: string }[] = [];
  lines.forEach((l, i) => {
    const m = /^\/\/ (\S+\.[cm]?[jt]sx?)$/.exec(l);
    if (m) modules.push({ line: i, file: m[1]!.replace(/^(\.\.\/)+/, '') });
  });
  const bundleName = bundle.split('/').pop()!;
  const place = (url: string, line: number) => (url.endsWith(bundleName) ? (modules.findLast((m) => m.line <= line)?.file ?? 'bundle') : url.replace(/^.*node_modules\//, '').replace(/^node:/, ''));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  const callers = new Map<string, Map<string, number>>(CALLERS.map((c) => [c, new Map()]));
  const inclusive = new Map<string, number>(CALLERS.map((c) => [c, 0]));
  const frameName = (f: ProfileNode['callFrame']) => `${f.functionName || '(anonymous)'}  ${place(f.url, f.lineNumber)}`;
  let total = 0;
  let t = profile.startTime;
  let w = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!;
    if (windows) {
      while (w < windows.length && t > windows[w]![1]) w++;
      if (w >= windows.length || t < windows[w]![0]) continue;
    }
    const node = byId.get(profile.samples[i]!)!;
    const f = node.callFrame;
    if (f.functionName === '(idle)') continue;
    total++;
    const key = `${frameName(f)}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + 1);
    const p = place(f.url, f.lineNumber) || f.functionName;
    files.set(p, (files.get(p) ?? 0) + 1);
    if (CALLERS.length === 0) continue;
    const stack: ProfileNode['callFrame'][] = [];
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) stack.push(byId.get(id)!.callFrame);
    for (const name of CALLERS) {
      const at = stack.findIndex((s) => s.functionName === name);
      if (at < 0) continue;
      inclusive.set(name, inclusive.get(name)! + 1);
      const k = stack
        .slice(at, at + 4)
        .map((s) => `${s.functionName || '(anonymous)'}@${place(s.url, s.lineNumber).split('/').pop()}`)
        .join(' < ');
      const m = callers.get(name)!;
      m.set(k, (m.get(k) ?? 0) + 1);
    }
  }
  const pct = (v: number) => `${((100 * v) / total).toFixed(1).padStart(5)}%`;
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `  ${pct(v)}  ${k}`)
      .join('\n');
  const median = bursts.length ? [...bursts].sort((a, b) => a - b)[Math.floor(bursts.length / 2)]! : NaN;
  console.log(
    `${total} samples (50 us) ${windows ? `in ${windows.length} bursts' windows (start -> half of the calls replied; the first ${SKIP} bursts left out)` : 'in the whole run'}; CPU-ms per call until half replied, median of those bursts: ${median.toFixed(4)} (with the profiler on)`,
  );
  console.log(`\nby function (self):\n${top(self, TOP)}`);
  console.log(`\nby file (self):\n${top(files, 30)}`);
  for (const name of CALLERS) console.log(`\n${name}, inclusive ${pct(inclusive.get(name)!)}, under:\n${top(callers.get(name)!, 12)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
