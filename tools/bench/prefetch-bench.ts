/**
 * Predictive caching (`cache.predictive`) through a real LLMRouter on a replayed trace built from real
 * conversations: MT-Bench's 80 two-turn questions (turn 1 -> turn 2 is a real request sequence) with the
 * real gpt-4-1106-preview answers recorded in RouteLLM's MT-Bench judgement file. No model runs: the
 * deployment is the MOCK engine replaying those recorded answers (token counts estimated at ~4 chars per
 * token, priced at gpt-4-1106-preview's $10/$30 per 1M tokens from ../shared/data/pricing). Who asks what,
 * and when, is simulated (seeded): users of two tenants pick questions by Zipf popularity, follow up with
 * turn 2 with probability 0.7 after 20-120 s, and come back for another session after 10-40 min.
 *
 * Part A replays the trace sequentially on a simulated clock (each prefetch finishes before the next
 * request; hits are also checked against the answer's generation time at 40 tokens/s) and compares hit
 * rate and cost with and without prefetching, by cache TTL and prefetch budget.
 * Part B runs real concurrency (mock delay 20 ms, maxConcurrency 4): with the router saturated no
 * prefetch may start; with light traffic they do.
 *
 *   pnpm --filter @llmrr/tools-bench bench:prefetch [-- --users 12 --sessions 6 --json]
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  defaultLocalEmbedder,
  estimateTokens,
  LLMRouter,
  messageText,
  MockEngine,
  PREFETCH_METADATA_KEY,
  withPrefetch,
  type CallOptions,
  type ChatMessage,
  type GenerateRequest,
  type GenerateResult,
  type PredictiveCacheConfigInput,
  type PrefetchStats,
  type RouterConfigInput,
} from '@llmrr/core';

const { values } = parseArgs({ options: { users: { type: 'string' }, sessions: { type: 'string' }, json: { type: 'boolean' }, only: { type: 'string' } } });
const USERS = Number(values.users ?? 12);
const SESSIONS = Number(values.sessions ?? 6);
const log = (...a: unknown[]) => {
  if (!values.json) console.log(...a);
};

const DATA = process.env['LLMRR_DATA_DIR'] ?? new URL('../../../shared/data/', import.meta.url).pathname;
const MT = `${DATA}/routing/routellm/mt_bench`;
if (!existsSync(`${MT}/question.jsonl`) || !existsSync(`${MT}/judgements.jsonl`)) {
  console.error(`prefetch-bench: MT-Bench data not found under ${MT} (set LLMRR_DATA_DIR to the shared data directory)`);
  process.exit(1);
}

// ---- data: questions, and gpt-4-1106-preview's recorded answers to both turns -------------------
interface Conversation {
  id: number;
  turns: [string, string];
  answers: [string, string];
}
const questions = new Map<number, [string, string]>();
for (const line of readFileSync(`${MT}/question.jsonl`, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const q = JSON.parse(line) as { question_id: number; turns: [string, string] };
  questions.set(q.question_id, q.turns);
}
const conversations: Conversation[] = [];
for (const line of readFileSync(`${MT}/judgements.jsonl`, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const j = JSON.parse(line) as { question_id: number; model: string; judge: [string, string]; user_prompt: string };
  if (j.model !== 'gpt-4-1106-preview' || !j.judge[1].endsWith('multi-turn')) continue;
  const turns = questions.get(j.question_id);
  const body = j.user_prompt.split("<|The Start of Assistant A's Conversation with User|>")[1]?.split("<|The End of Assistant A's Conversation with User|>")[0];
  const parts = body?.split(/\n### (?:User|Assistant A):\n/).map((s) => s.trim()).filter((s) => s !== '');
  if (!turns || !parts || parts.length !== 4) continue;
  conversations.push({ id: j.question_id, turns, answers: [parts[1]!, parts[3]!] });
}
conversations.sort((a, b) => a.id - b.id);
const byQuestion = new Map(conversations.map((c) => [c.turns[0], c]));

/** The MOCK engine, answering with the recorded gpt-4-1106-preview answer of the conversation (turn 1 or 2). */
class RecordedAnswerEngine extends MockEngine {
  modelCalls = 0;
  constructor(private readonly delayMs = 0) {
    super({ modelId: 'gpt-4-1106-preview (recorded answers, mock engine)' });
  }
  override async generate(request: GenerateRequest, options: CallOptions = {}): Promise<GenerateResult> {
    this.modelCalls++;
    if (this.delayMs) await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, this.delayMs);
      options.signal?.addEventListener('abort', () => (clearTimeout(timer), reject(options.signal!.reason)), { once: true });
    });
    const users = request.messages.filter((m) => m.role === 'user').map((m) => messageText(m));
    const c = byQuestion.get(users[0] ?? '');
    const text = c ? (users.length >= 2 ? c.answers[1] : c.answers[0]) : `(no recorded answer)`;
    const input = request.messages.reduce((n, m) => n + estimateTokens(messageText(m)), 0);
    const output = estimateTokens(text);
    return { text, toolCalls: [], finishReason: 'stop', usage: { inputTokens: input, outputTokens: output, totalTokens: input + output }, id: `rec-${this.modelCalls}` };
  }
}

// ---- the trace ------------------------------------------------------------------------------------
interface Event {
  at: number;
  tenant: string;
  user: string;
  conversation: Conversation;
  turn: 1 | 2;
}
function buildTrace(o: { tenants: string[]; users: number; sessions: number; follow: number; seed: number }): Event[] {
  let s = o.seed >>> 0;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const order = conversations.map((c) => ({ c, k: rand() })).sort((a, b) => a.k - b.k).map((x) => x.c);
  const weights = order.map((_, i) => 1 / (i + 1)); // Zipf, s = 1
  const total = weights.reduce((a, b) => a + b, 0);
  const pick = () => {
    let r = rand() * total;
    for (let i = 0; i < order.length; i++) if ((r -= weights[i]!) <= 0) return order[i]!;
    return order.at(-1)!;
  };
  const events: Event[] = [];
  for (const tenant of o.tenants) {
    for (let u = 0; u < o.users; u++) {
      let t = Math.round(rand() * 2 * 3_600_000);
      for (let k = 0; k < o.sessions; k++) {
        const c = pick();
        events.push({ at: t, tenant, user: `${tenant}-u${u}`, conversation: c, turn: 1 });
        if (rand() < o.follow) events.push({ at: t + 20_000 + Math.round(rand() * 100_000), tenant, user: `${tenant}-u${u}`, conversation: c, turn: 2 });
        t += 10 * 60_000 + Math.round(rand() * 30 * 60_000);
      }
    }
  }
  return events.sort((a, b) => a.at - b.at);
}

const PRICE = { input: 10, output: 30 }; // gpt-4-1106-preview, USD per 1M tokens (../shared/data/pricing/model_prices.json)
const sharedEmbedder = defaultLocalEmbedder(); // the prefetcher's (USE lite); the router's semantic cache builds its own

interface Row {
  ttlMin: number;
  budget: string;
  requests: number;
  hits: number;
  wrongHits: number;
  hitRate: number;
  turn2HitRate: number;
  liveCalls: number;
  liveUsd: number;
  prefetch: PrefetchStats | undefined;
  prefetchHitsReadyAt40tps: number;
  modelCalls: number;
  totalUsd: number;
  unusedAtEnd: number;
}

async function replay(trace: Event[], ttlMs: number, budget: PredictiveCacheConfigInput['budget'] | undefined, label: string): Promise<Row> {
  let now = trace[0]!.at;
  const engine = new RecordedAnswerEngine();
  const config: RouterConfigInput = {
    models: [{ name: 'gpt4', engine: 'mock', price: PRICE }],
    routing: { strategy: 'priority', retries: { max: 0 } },
    cache: {
      exact: { enabled: true, ttlMs, maxEntries: 100_000 },
      semantic: { enabled: true, ttlMs, maxEntries: 100_000 },
      ...(budget ? { predictive: { enabled: true, budget } } : {}),
    },
  };
  const router = new LLMRouter(config, { engines: { gpt4: engine }, now: () => now, unknownTenant: 'shared' });
  const p = withPrefetch(router, { embedder: sharedEmbedder, now: () => now });
  const received = new Map<string, string>(); // user -> the turn-1 answer they got
  const lastAt = new Map<string, number>();
  let hits = 0;
  let turn2 = 0;
  let turn2Hits = 0;
  let liveCalls = 0;
  let liveUsd = 0;
  let ready = 0;
  let wrongHits = 0; // a cached answer recorded for another question
  for (const e of trace) {
    now = e.at;
    const [q1, q2] = e.conversation.turns;
    const messages: ChatMessage[] =
      e.turn === 1 ? [{ role: 'user', content: q1 }] : [{ role: 'user', content: q1 }, { role: 'assistant', content: received.get(e.user) ?? '' }, { role: 'user', content: q2 }];
    const before = p.prefetch?.stats().hits ?? 0;
    const r = await p.generate({ messages, user: e.user }, { tenant: e.tenant });
    if (e.turn === 1) received.set(e.user, r.text);
    if (e.turn === 2) turn2++;
    if (r.cached !== false) {
      hits++;
      if (r.text !== e.conversation.answers[e.turn - 1]) wrongHits++;
      if (e.turn === 2) turn2Hits++;
    } else {
      liveCalls++;
      liveUsd += r.cost.totalUsd;
    }
    if ((p.prefetch?.stats().hits ?? 0) > before) {
      // Would the prefetch have been ready? It started when the user's previous request was answered.
      const gapMs = e.at - (lastAt.get(e.user) ?? e.at);
      if (gapMs >= 1_000 + (r.usage.outputTokens / 40) * 1_000) ready++;
    }
    lastAt.set(e.user, e.at);
    await p.prefetch?.settled();
  }
  now += 2 * ttlMs + 1; // end of tracking: prefetched entries never used are reported
  p.prefetch?.sweep();
  const prefetch = p.prefetch?.stats();
  await p.close();
  await router.close();
  const row: Row = {
    ttlMin: ttlMs / 60_000,
    budget: label,
    requests: trace.length,
    hits,
    wrongHits,
    hitRate: hits / trace.length,
    turn2HitRate: turn2 ? turn2Hits / turn2 : 0,
    liveCalls,
    liveUsd,
    prefetch,
    prefetchHitsReadyAt40tps: ready,
    modelCalls: engine.modelCalls,
    totalUsd: liveUsd + (prefetch?.costUsd ?? 0),
    unusedAtEnd: prefetch?.unused ?? 0,
  };
  return row;
}

// ---- part B: idle-only under load -----------------------------------------------------------------
async function saturation(trace: Event[]): Promise<Record<string, unknown>> {
  const engine = new RecordedAnswerEngine(20);
  const router = new LLMRouter(
    {
      models: [{ name: 'gpt4', engine: 'mock', price: PRICE, limits: { maxConcurrency: 8 } }],
      routing: { strategy: 'priority', retries: { max: 0 } },
      cache: { exact: { enabled: true }, predictive: { enabled: true, idle: { fraction: 0.5, maxLiveInFlight: 2 }, budget: { maxCalls: 10_000 } } },
    },
    { engines: { gpt4: engine }, unknownTenant: 'shared' },
  );
  const p = withPrefetch(router, { embedder: sharedEmbedder });
  const prefetch = p.prefetch!;
  const starts: Array<{ phase: string; steady: boolean; ended: boolean; live: number; inFlight: number }> = [];
  let phase = 'warm-up';
  let active = 0;
  let clientsOfPhase = 0;
  router.on('request:start', (e) => {
    if (e.metadata[PREFETCH_METADATA_KEY] === true && e.kind === 'generate') {
      starts.push({ phase, steady: active === clientsOfPhase, ended: active === 0, live: prefetch.liveInFlight, inFlight: router.stats()['gpt4']!.inFlight });
    }
  });
  // Each user's conversation opens with its own system line, so every follow-up needs its own prefetch.
  let rejected = 0;
  /** A live call; a saturated deployment rejects it (429 with retry-after), so the client waits and retries. */
  const call = async (request: GenerateRequest) => {
    for (;;) {
      try {
        return await p.generate(request);
      } catch (e) {
        if ((e as { code?: string }).code !== 'rate_limited') throw e;
        rejected++;
        await new Promise((r) => setTimeout(r, Math.max(1, (e as { retryAfterMs?: number }).retryAfterMs ?? 5)));
      }
    }
  };
  const converse = async (user: string, c: Conversation, follow: boolean) => {
    const messages: ChatMessage[] = [{ role: 'system', content: `Session of ${user}` }, { role: 'user', content: c.turns[0] }];
    const r = await call({ messages, user });
    if (follow) await call({ messages: [...messages, { role: 'assistant', content: r.text }, { role: 'user', content: c.turns[1] }], user });
  };
  // Warm-up (idle between requests): the sequence model learns turn 1 -> turn 2 of the trace's conversations.
  for (const e of trace.filter((x) => x.turn === 1).slice(0, 120)) {
    await converse(`${e.user}-warm`, e.conversation, true);
    await prefetch.settled();
  }
  const phaseStats = async (name: string, clients: number, perClient: number, pauseMs: number) => {
    phase = name;
    const s0 = prefetch.stats();
    const calls0 = engine.modelCalls;
    const rejected0 = rejected;
    const cpu0 = process.cpuUsage();
    const items = trace.filter((x) => x.turn === 1);
    let next = 0;
    let maxLive = 0;
    const probe = setInterval(() => (maxLive = Math.max(maxLive, prefetch.liveInFlight)), 2);
    clientsOfPhase = clients;
    active = clients;
    await Promise.all(
      Array.from({ length: clients }, async (_, k) => {
        for (let i = 0; i < perClient; i++) {
          const e = items[next++ % items.length]!;
          await converse(`${name}-${k}-${i}`, e.conversation, true);
          if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
        }
        active--;
      }),
    );
    clearInterval(probe);
    await prefetch.settled();
    const during = starts.filter((x) => x.phase === name);
    const s1 = prefetch.stats();
    const cpu = process.cpuUsage(cpu0);
    return {
      phase: name,
      clients,
      liveRequests: clients * perClient * 2,
      maxLiveInFlightSeen: maxLive,
      prefetchStartsWhileAllClientsActive: during.filter((x) => x.steady).length,
      prefetchStartsWhileSomeClientsDone: during.filter((x) => !x.steady && !x.ended).length,
      prefetchStartsAfterTheLoadEnded: during.filter((x) => x.ended).length,
      maxLiveAtAPrefetchStart: Math.max(0, ...during.map((x) => x.live)),
      maxDeploymentInFlightAtAPrefetchStart: Math.max(0, ...during.map((x) => x.inFlight)),
      superseded: s1.superseded - s0.superseded,
      alreadyCached: s1.alreadyCached - s0.alreadyCached,
      prefetchCalls: s1.calls - s0.calls,
      cancelled: s1.cancelled - s0.cancelled,
      modelCalls: engine.modelCalls - calls0,
      liveRejectedAsSaturated: rejected - rejected0,
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    };
  };
  const saturated = await phaseStats('saturated (6 closed-loop clients, no think time)', 6, 15, 0);
  const light = await phaseStats('light (1 client, 150 ms pauses)', 1, 15, 150);
  await p.close();
  await router.close();
  return { saturated, light };
}

// ---- run ----------------------------------------------------------------------------------------
const trace = buildTrace({ tenants: ['acme', 'globex'], users: USERS, sessions: SESSIONS, follow: 0.7, seed: 11 });
const turn2 = trace.filter((e) => e.turn === 2).length;
log(`MT-Bench replay: ${conversations.length} real two-turn conversations; trace of ${trace.length} requests (${trace.length - turn2} turn 1, ${turn2} turn 2), 2 tenants x ${USERS} users x ${SESSIONS} sessions`);
log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const cpuStart = process.cpuUsage();
const rows: Row[] = [];
if (values.only !== 'saturation') {
  for (const ttlMs of [10 * 60_000, 60 * 60_000]) {
    rows.push(await replay(trace, ttlMs, undefined, 'none (no prefetch)'));
    rows.push(await replay(trace, ttlMs, { maxCalls: 2, periodMs: 3_600_000 }, '2 calls/h'));
    rows.push(await replay(trace, ttlMs, { maxUsd: 0.02, periodMs: 3_600_000 }, '$0.02/h'));
    rows.push(await replay(trace, ttlMs, { maxCalls: 10_000, periodMs: 3_600_000 }, 'unbounded (10k/h)'));
  }
  log('\n| TTL | prefetch budget (per tenant) | hit rate | turn-2 hit rate | live model calls | prefetch calls (stored / used / unused / over budget) | prefetch tokens in+out | USD live + prefetch = total | prefetch hits ready at 40 tok/s |');
  log('| ---: | --- | ---: | ---: | ---: | --- | ---: | --- | ---: |');
  for (const r of rows) {
    const f = r.prefetch;
    log(
      `| ${r.ttlMin} min | ${r.budget} | ${(100 * r.hitRate).toFixed(1)}% (${r.wrongHits} wrong) | ${(100 * r.turn2HitRate).toFixed(1)}% | ${r.liveCalls} | ${f ? `${f.calls} (${f.stored} / ${f.used} / ${f.unused} / ${f.overBudget})` : '0'} | ${f ? `${f.inputTokens} + ${f.outputTokens}` : '0'} | ${r.liveUsd.toFixed(2)} + ${(f?.costUsd ?? 0).toFixed(2)} = ${r.totalUsd.toFixed(2)} | ${f ? `${r.prefetchHitsReadyAt40tps} of ${f.hits}` : '-'} |`,
    );
  }
}
let sat: Record<string, unknown> | undefined;
if (values.only !== 'replay') {
  sat = await saturation(trace);
  log('\nidle-only under load (mock delay 20 ms, maxConcurrency 8, idle fraction 0.5, maxLiveInFlight 2):');
  log(JSON.stringify(sat, null, 2));
}
const cpu = process.cpuUsage(cpuStart);
log(`\nCPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s; load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
if (values.json) console.log(JSON.stringify({ trace: { requests: trace.length, turn2, users: USERS, sessions: SESSIONS }, rows, saturation: sat }, null, 2));
await sharedEmbedder.close?.();
