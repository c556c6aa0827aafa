import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findLocalModel, sharedDir } from './local-model.js';
import { runTour, type Output } from './main.js';
import { formatUsd, sumUsd } from './money.js';

function buffer(): Output & { text: () => string } {
  let text = '';
  return { write: (t) => void (text += t), text: () => text };
}

const exampleDir = fileURLToPath(new URL('..', import.meta.url));
const localModel = findLocalModel();

describe('money helpers', () => {
  it('sums exactly and prints without float noise', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(sumUsd([0.1, 0.2])).toBe(0.3);
    expect(formatUsd(0)).toBe('$0');
    expect(formatUsd(0.000117)).toBe('$0.000117');
    expect(formatUsd(0.00000405)).toBe('$0.00000405');
    expect(formatUsd(12)).toBe('$12');
  });
});

describe('the tour on the mock engine only', () => {
  it('explains routes, generates, streams, falls back, and prices every call', async () => {
    const out = buffer();
    const report = await runTour(out, undefined);
    const text = out.text();

    // Route explanations: two strategies, two different first choices, with their reasons.
    expect(report.decisions.map((d) => [d.strategy, d.order])).toEqual([
      ['quality-first', ['mock-smart', 'mock-fast']],
      ['cost-optimized', ['mock-fast', 'mock-smart']],
    ]);
    expect(text).toContain('"mock-smart" ranked first by quality-first (quality=0.9, priority=1)');
    expect(text).toMatch(/"mock-fast" ranked first by cost-optimized \(expectedCostUsd=[\d.e-]+, inputPrice=0\.15, outputPrice=0\.6\)/);

    // generate x2, stream, fallback: who answered, with what.
    const [smart, fast, streamed, fallback] = report.results;
    expect(report.results.map((r) => r.deployment)).toEqual(['mock-smart', 'mock-fast', 'mock-fast', 'mock-fast']);
    expect(smart?.text).toBe('Mock answer to: What is a CRDT?');
    expect(text).toContain('quality-first -> mock-smart: Mock answer to: What is a CRDT?\n    4 in + 7 out tokens, $0.000117\n');
    expect(text).toContain('cost-optimized -> mock-fast: Mock answer to: What is a CRDT?\n    4 in + 7 out tokens, $0.0000048\n');
    expect(text).toContain('  [mock-fast] Mock answer to: Once upon a time\n');
    expect(streamed?.finishReason).toBe('stop');
    expect(streamed?.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);

    // Fallback: two failed attempts on mock-flaky (one retry), its circuit opens, mock-fast answers.
    expect(fallback?.attempts.map((a) => [a.deployment, a.attempt, a.ok, a.errorCode])).toEqual([
      ['mock-flaky', 1, false, 'provider_unavailable'],
      ['mock-flaky', 2, false, 'provider_unavailable'],
      ['mock-fast', 1, true, undefined],
    ]);
    const fallbackPart = text.slice(text.indexOf('Fallback when a deployment fails:'));
    const order = [
      'attempt 1 on mock-flaky failed: provider_unavailable (upstream said 503)',
      'retrying mock-flaky (attempt 2)',
      'circuit of mock-flaky: closed -> open',
      'falling back: mock-flaky -> mock-fast after provider_unavailable',
      'answered by mock-fast: Mock answer to: Are you there?',
    ].map((line) => fallbackPart.indexOf(line));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);

    // Cost: from the configured prices (USD per 1M tokens) and the mock's word counts, exact.
    expect(smart?.cost).toEqual({ inputUsd: 0.000012, outputUsd: 0.000105, totalUsd: 0.000117, estimated: false });
    expect(fast?.cost.totalUsd).toBe(0.0000048);
    expect(fallback?.cost.totalUsd).toBe(0.00000405); // 3 words in x 0.15 + 6 words out x 0.6
    expect(report.costByDeployment).toEqual({ 'mock-smart': 0.000117, 'mock-fast': 0.00001365 });
    expect(report.totalUsd).toBe(0.00013065);
    expect(text).toMatch(/ {2}total {8}\$0\.00013065 for 4 calls\n$/);
  });
});

describe.skipIf(!localModel)(
  localModel ? 'the tour with the real stories260K model' : `the tour with stories260K (SKIPPED: not found under ${sharedDir()}/models; set LLMRR_SHARED_DIR)`,
  () => {
    it('routes cost-optimized to the free local model and streams a real story from it', async () => {
      const out = buffer();
      const report = await runTour(out, localModel);
      expect(report.decisions[1]?.order[0]).toBe('stories260K');
      const streamed = report.results[2]!;
      expect(streamed.deployment).toBe('stories260K');
      expect(streamed.provider).toBe('gguf');
      expect(streamed.text.trim().length).toBeGreaterThan(20);
      expect(streamed.text).not.toContain('Mock answer');
      expect(streamed.usage.outputTokens).toBeGreaterThan(0);
      expect(streamed.usage.outputTokens).toBeLessThanOrEqual(48);
      expect(streamed.usage.estimated).toBeUndefined(); // counted by the model's own tokenizer
      expect(streamed.cost.totalUsd).toBe(0);
      expect(out.text()).toContain(`  [stories260K] ${streamed.text}\n`);
      expect(report.costByDeployment['stories260K']).toBe(0);
    });
  },
);

describe('pnpm start', () => {
  it('runs src/main.ts as a program (mock only) and exits 0', async () => {
    const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
    const env = { ...process.env, LLMRR_SHARED_DIR: `${exampleDir}/no-such-dir` };
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(tsx, ['--conditions=@llmrr/source', 'src/main.ts'], { cwd: exampleDir, env, timeout: 60_000 }, (error, stdout, stderr) =>
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('No local model (stories260K.gguf not found under');
    expect(run.stdout).toContain('total        $0.00013065 for 4 calls');
  });
});
