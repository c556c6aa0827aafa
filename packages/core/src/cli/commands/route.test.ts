import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteDecision } from '../../router/types.js';
import { MOCK_CONFIG, runCli, tempDir, type TempDir } from '../__fixtures__/cli-harness.js';

let t: TempDir;
beforeAll(() => {
  t = tempDir(`${MOCK_CONFIG}  fallbacks: [mock-fast]
`.replace('  - name: mock-fast', `  - name: vision-only
    engine: mock
    priority: 1
    contextWindow: 4
  - name: mock-fast`));
});
afterAll(() => t.remove());

describe('llmrr route', () => {
  it('prints the decision: strategy, selected deployment, order and reason', async () => {
    const r = await runCli(['route', 'hello'], { cwd: t.dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      'strategy  priority',
      'selected  mock-smart',
      'order     mock-smart -> mock-fast',
      expect.stringMatching(/^reason {4}"mock-smart" ranked first by priority \(priority=2\) ahead of 1 other candidate; 1 excluded\.$/),
    ]);
  });

  it('--explain adds the candidates with score and factors, and the excluded ones with the reason', async () => {
    const r = await runCli(['route', '--explain', '-s', 'cost-optimized', 'hello'], { cwd: t.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('selected  mock-fast\n');
    const [, candidates = '', excluded = ''] = r.stdout.split(/\n(?:candidates \(best first\)|excluded):\n/);
    const rows = candidates.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^RANK\s+DEPLOYMENT\s+ENGINE\s+MODEL\s+SCORE\s+PRICE \$\/1M IN\/OUT\s+FACTORS$/);
    expect(rows[1]).toMatch(/^1\s+mock-fast\s+mock\s+mock-fast\s+-\d\.\d+e?-?\d*\s+\$0\.15\/\$0\.6\s+expectedCostUsd=[\d.e-]+, inputPrice=0\.15, outputPrice=0\.6$/);
    expect(rows[2]).toMatch(/^2\s+mock-smart\s+mock\s+mock-smart\s+-[\d.e-]+\s+\$3\/\$15\s+expectedCostUsd=/);
    expect(excluded).toMatch(/DEPLOYMENT\s+REASON\nvision-only\s+context window 4 < ~\d+ tokens needed/);
    expect(r.stdout).toMatch(/\ndecided in [\d.]+ µs\n$/);
  });

  it('different strategies choose differently', async () => {
    const quality = await runCli(['route', '-s', 'quality-first', 'hello'], { cwd: t.dir });
    expect(quality.stdout).toContain('selected  mock-smart');
    expect(quality.stdout).toMatch(/quality=0\.9/);
    const cost = await runCli(['route', '-s', 'cost-optimized', 'hello'], { cwd: t.dir });
    expect(cost.stdout).toContain('selected  mock-fast');
  });

  it('--json prints the RouteDecision', async () => {
    const r = await runCli(['route', '--json', '-m', 'mock', 'hello'], { cwd: t.dir });
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout) as RouteDecision;
    expect(d).toMatchObject({ strategy: 'priority', selected: 'mock-smart', order: ['mock-smart', 'mock-fast'] });
    expect(d.candidates.map((c) => [c.name, c.rank])).toEqual([
      ['mock-smart', 1],
      ['mock-fast', 2],
    ]);
  });

  it('--max-tokens counts toward the context window', async () => {
    const r = await runCli(['route', '--json', '--max-tokens', '150000', 'hello'], { cwd: t.dir });
    const d = JSON.parse(r.stdout) as RouteDecision;
    expect(d.selected).toBe('mock-smart');
    expect(d.excluded.map((e) => e.name).sort()).toEqual(['mock-fast', 'vision-only']);
  });

  it('reads the prompt from stdin', async () => {
    const r = await runCli(['route', '--json'], { cwd: t.dir, stdin: 'from stdin' });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as RouteDecision).selected).toBe('mock-smart');
  });

  it('usage errors exit 2 with one line', async () => {
    for (const [argv, text] of [
      [['route', '--why', 'x'], 'llmrr route: unknown option --why'],
      [['route', '-s', 'nope', 'x'], 'llmrr route: unknown strategy "nope" for -s/--strategy'],
      [['route', '-m', 'nope', 'x'], 'llmrr route: unknown model "nope" for -m/--model'],
      [['route'], 'llmrr route: missing prompt'],
    ] as const) {
      const r = await runCli([...argv], { cwd: t.dir });
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr.startsWith(text)).toBe(true);
    }
  });

  it('a request no deployment can serve is a runtime error (exit 1) listing why', async () => {
    const r = await runCli(['route', '-m', 'vision-only', 'hello'], { cwd: t.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^llmrr route: error \[context_length_exceeded\]: No deployment can serve this request for model "vision-only": vision-only: context window 4 < /);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
