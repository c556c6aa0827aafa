/**
 * What the gateway's upstream HTTP client costs, per request, in the gateway's own process: the router's
 * `openai-compatible` engine calling the benchmark's mock upstream through different `fetch` seams
 * (`RouterOptions.fetch`, which becomes `EngineContext.fetch`).
 *
 *   pnpm --filter @llmrr/tools-bench exec tsx --conditions=@llmrr/source gateway-bench-fetch.ts [--requests 3000] [--concurrency 64]
 *
 * The upstream runs in a child process (its CPU is not counted); this process measures its own CPU time
 * (`process.cpuUsage`) per request for `router.generate` (JSON) and `router.stream` (SSE, 16 chunks)
 * at concurrency 1 and at `--concurrency`. Loopback only, bounded by `--requests`.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LLMRouter } from '@llmrr/core';
import { createUpstreamFetch } from '@llmrr/gateway/node';
import { Readable } from 'node:stream';
import { Agent, fetch as undiciFetch } from 'undici';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const num = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const REQUESTS = Math.min(num('requests', 3000), 50_000);
const CONCURRENCY = Math.min(num('concurrency', 64), 512);

type FetchFn = typeof globalThis.fetch;

function startUpstream(): Promise<{ url: string; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const cond = '--conditions=@llmrr/source';
    const execArgv = process.execArgv.includes(cond) ? process.execArgv : [...process.execArgv, cond];
    const child = spawn(process.execPath, [...execArgv, join(here, 'gateway-bench-upstream.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve({ url: `http://127.0.0.1:${m[1]}`, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => reject(new Error(`upstream exited with ${code}`)));
  });
}

/** undici's `request` API (a Node stream body), bridged to a web Response: the middle way, for comparison. */
function requestFetch(agent: Agent): FetchFn {
  return (async (input: string, init: RequestInit = {}) => {
    const url = new URL(input);
    const headers: string[] = [];
    for (const [k, v] of new Headers(init.headers)) headers.push(k, v);
    const res = await agent.request({ origin: url.origin, path: url.pathname, method: (init.method ?? 'GET') as 'POST', headers, body: init.body as string, signal: init.signal ?? null });
    const h = new Headers();
    for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.append(k, v);
    const type = h.get('content-type') ?? '';
    const body = type.includes('json') ? await res.body.arrayBuffer() : (Readable.toWeb(res.body) as ReadableStream<Uint8Array>);
    return new Response(body, { status: res.statusCode, headers: h });
  }) as unknown as FetchFn;
}

async function run(concurrency: number, total: number, once: () => Promise<void>): Promise<{ cpuMs: number; p50: number; wallS: number }> {
  const lat: number[] = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) {
        const s = performance.now();
        await once();
        lat.push(performance.now() - s);
      }
    }),
  );
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  lat.sort((a, b) => a - b);
  return { cpuMs: (cpu.user + cpu.system) / 1000 / total, p50: lat[Math.floor(lat.length / 2)]!, wallS };
}

async function main(): Promise<void> {
  const upstream = await startUpstream();
  const undiciAgent = new Agent({ keepAliveTimeout: 30_000, connections: 256 });
  const variants: Array<[string, FetchFn]> = [
    ['global fetch (Node bundled undici)', (...a) => globalThis.fetch(...a)],
    ['undici 7 fetch + Agent', ((input: string, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher: undiciAgent })) as unknown as FetchFn],
    ['undici 7 request + Agent, bridged to Response', requestFetch(undiciAgent)],
    ['createUpstreamFetch (undici dispatch + Agent)', createUpstreamFetch()],
  ];
  const prompt = { messages: [{ role: 'user' as const, content: 'Say sixteen words.' }], maxTokens: 32 };
  const rows: string[] = [];
  try {
    for (const [name, fetch] of variants) {
      const router = new LLMRouter(
        { models: [{ name: 'bench', engine: 'openai-compatible', baseURL: `${upstream.url}/v1`, apiKey: 'sk-bench', model: 'bench-model', price: { input: 0.15, output: 0.6 } }], routing: { strategy: 'priority' } },
        { fetch },
      );
      const generate = async () => {
        const r = await router.generate(prompt);
        if (!r.text.startsWith('word0')) throw new Error(`unexpected answer ${r.text}`);
      };
      const stream = async () => {
        const s = router.stream(prompt);
        let text = '';
        for await (const p of s) if (p.type === 'text-delta') text += p.delta;
        await s.result;
        if (!text.startsWith('word0')) throw new Error(`unexpected stream ${text}`);
      };
      await run(8, 200, generate); // warm-up
      await run(8, 100, stream);
      const g1 = await run(1, Math.min(REQUESTS, 300), generate);
      const gc = await run(CONCURRENCY, REQUESTS, generate);
      const s1 = await run(1, Math.min(REQUESTS, 100), stream);
      const sc = await run(CONCURRENCY, Math.ceil(REQUESTS / 4), stream);
      const row = `| ${name} | ${g1.cpuMs.toFixed(3)} | ${gc.cpuMs.toFixed(3)} | ${(REQUESTS / gc.wallS).toFixed(0)} | ${s1.cpuMs.toFixed(3)} | ${sc.cpuMs.toFixed(3)} |`;
      console.log(row);
      rows.push(row);
      await router.close();
    }
  } finally {
    upstream.stop();
    await undiciAgent.close();
  }
  console.log(
    `\nCPU-ms per call in the calling process (router + engine + HTTP client), c=${CONCURRENCY}, ${REQUESTS} calls:\n\n` +
      `| fetch seam | generate CPU-ms (c=1) | generate CPU-ms (c=${CONCURRENCY}) | generate calls/s (c=${CONCURRENCY}) | stream CPU-ms (c=1) | stream CPU-ms (c=${CONCURRENCY}) |\n| --- | --- | --- | --- | --- | --- |\n${rows.join('\n')}`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
