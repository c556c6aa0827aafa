import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouterResult } from '../../router/types.js';
import { MOCK_CONFIG, runCli, tempDir, type TempDir } from '../__fixtures__/cli-harness.js';

let t: TempDir;
beforeAll(() => {
  t = tempDir(MOCK_CONFIG);
});
afterAll(() => t.remove());

describe('llmrr chat', () => {
  it('streams the answer to stdout chunk by chunk, then one summary line on stderr', async () => {
    const r = await runCli(['chat', '-m', 'mock-fast', 'hello there'], { cwd: t.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Mock answer to: hello there\n');
    // The mock streams a word per chunk: the CLI writes each as it arrives.
    expect(r.writes.slice(0, 3)).toEqual(['Mock ', 'answer ', 'to: ']);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^deployment mock-fast \(mock\/mock-fast\), tokens 2 in \/ 5 out, cost \$0\.000003, latency \d+ ms, ttft \d+ ms$/);
  });

  it('routes by alias and strategy (-m mock -s cost-optimized picks the cheaper deployment)', async () => {
    const byPriority = await runCli(['chat', '-m', 'mock', 'hi'], { cwd: t.dir });
    expect(byPriority.stderr).toContain('deployment mock-smart ');
    const byCost = await runCli(['chat', '-m', 'mock', '-s', 'cost-optimized', 'hi'], { cwd: t.dir });
    expect(byCost.code).toBe(0);
    expect(byCost.stderr).toContain('deployment mock-fast ');
  });

  it('sends --system, --max-tokens and --temperature with the request', async () => {
    const r = await runCli(['chat', '-m', 'mock-fast', '--system', 'be brief', '--max-tokens', '2', '-t', '0.5', '--json', 'one two three'], { cwd: t.dir });
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as RouterResult;
    // The mock cuts its answer to maxTokens words and counts the system message as input.
    expect(result.text).toBe('Mock answer');
    expect(result.usage).toMatchObject({ inputTokens: 5, outputTokens: 2 });
  });

  it('--json prints the full RouterResult instead of streaming', async () => {
    const r = await runCli(['chat', '--json', '-m', 'mock-smart', 'hello'], { cwd: t.dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const result = JSON.parse(r.stdout) as RouterResult;
    expect(result).toMatchObject({
      text: 'Mock answer to: hello',
      deployment: 'mock-smart',
      provider: 'mock',
      finishReason: 'stop',
      cached: false,
      usage: { inputTokens: 1, outputTokens: 4, totalTokens: 5 },
      cost: { estimated: false },
    });
    expect(result.cost.totalUsd).toBeCloseTo((1 * 3 + 4 * 15) / 1e6, 12);
    expect(result.attempts).toEqual([expect.objectContaining({ deployment: 'mock-smart', ok: true })]);
    expect(typeof result.timeToFirstTokenMs).toBe('number');
  });

  it('reads the prompt from stdin when none is given and stdin is not a terminal', async () => {
    const r = await runCli(['chat', '-m', 'mock-fast'], { cwd: t.dir, stdin: 'piped prompt\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Mock answer to: piped prompt\n');
  });

  it('uses -c/--config before or after the command', async () => {
    const other = tempDir();
    try {
      const file = other.write('custom.yaml', 'models:\n  - { name: only-one, engine: mock }\n');
      for (const argv of [['-c', file, 'chat', 'hi'], ['chat', 'hi', '--config', file], ['chat', `--config=${file}`, 'hi']]) {
        const r = await runCli(argv, { cwd: t.dir });
        expect(r.code, argv.join(' ')).toBe(0);
        expect(r.stderr).toContain('deployment only-one ');
      }
    } finally {
      other.remove();
    }
  });
});

describe('llmrr chat: warnings', () => {
  it("prints one stderr line per warning of the answering deployment after the summary; --json keeps them in the result", async () => {
    const w = tempDir(`models:
  - name: warns
    engine: mock
    options:
      warnings:
        - { code: setting_not_sent, field: seed, message: "seed was not sent: the provider has no equivalent" }
        - { code: system_message_hoisted, field: messages.2, message: "joined into the\\nsystem prompt" }
`);
    try {
      const r = await runCli(['chat', 'hi'], { cwd: w.dir });
      expect(r.code).toBe(0);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toContain('deployment warns ');
      expect(lines[1]).toBe('llmrr chat: warning [setting_not_sent] (seed): seed was not sent: the provider has no equivalent');
      expect(lines[2]).toMatch(/^llmrr chat: warning \[system_message_hoisted\] \(messages\.2\): joined into the/);
      const json = await runCli(['chat', '--json', 'hi'], { cwd: w.dir });
      expect(json.stderr).toBe('');
      expect((JSON.parse(json.stdout) as RouterResult).warnings).toHaveLength(2);
      // A deployment with nothing to say prints the summary line only.
      const quiet = await runCli(['chat', '-m', 'mock-fast', 'hi'], { cwd: t.dir });
      expect(quiet.stderr.trimEnd().split('\n')).toHaveLength(1);
    } finally {
      w.remove();
    }
  });
});

describe('llmrr chat: usage errors exit 2 with one line naming the flag', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown flag', ['chat', '--modle', 'x', 'hi'], /^llmrr chat: unknown option --modle \(see llmrr chat --help\)$/],
    ['flag without value', ['chat', 'hi', '-m'], /^llmrr chat: option -m\/--model needs a value/],
    ['bad max tokens', ['chat', '--max-tokens', '0', 'hi'], /option --max-tokens expects a whole number >= 1, got "0"/],
    ['bad temperature', ['chat', '--temperature', 'warm', 'hi'], /option -t\/--temperature expects a number from 0 to 2, got "warm"/],
    ['unknown model', ['chat', '-m', 'gpt-9', 'hi'], /^llmrr chat: unknown model "gpt-9" for -m\/--model \(known: mock-smart, mock, mock-fast\)/],
    ['unknown strategy', ['chat', '-s', 'cheapest', 'hi'], /^llmrr chat: unknown strategy "cheapest" for -s\/--strategy \(known: .*cost-optimized/],
    ['missing prompt', ['chat', '-m', 'mock-fast'], /^llmrr chat: missing prompt: give it as an argument or pipe it on stdin/],
  ];
  for (const [name, argv, pattern] of cases) {
    it(name, async () => {
      const r = await runCli(argv, { cwd: t.dir });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.endsWith('\n')).toBe(true);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr.trimEnd()).toMatch(pattern);
    });
  }

  it('an empty stdin is a missing prompt', async () => {
    const r = await runCli(['chat'], { cwd: t.dir, stdin: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('missing prompt: stdin was empty');
  });
});

describe('llmrr chat: runtime errors', () => {
  let failing: TempDir;
  beforeAll(() => {
    failing = tempDir(`models:
  - name: down
    engine: mock
    options: { failures: [{ code: provider_unavailable, message: "upstream said 503", times: 100 }] }
  - name: cut
    engine: mock
    options:
      reply: "one two three four five"
      failures: [{ code: stream_interrupted, message: "connection reset mid-stream", afterChunks: 2, times: 100 }]
routing:
  strategy: priority
  fallbackToRanked: false
  retries: { max: 0 }
`);
  });
  afterAll(() => failing.remove());

  it('a fallback to another deployment is announced on stderr, then the answer comes from it', async () => {
    const fb = tempDir(`models:
  - name: down
    engine: mock
    priority: 1
    options: { failures: [{ code: provider_unavailable, message: "upstream said 503", times: 100 }] }
  - name: backup
    engine: mock
    priority: 2
routing:
  strategy: priority
  retries: { max: 0 }
`);
    try {
      const r = await runCli(['chat', 'hi'], { cwd: fb.dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('Mock answer to: hi\n');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines[0]).toBe('llmrr chat: down failed [provider_unavailable]: upstream said 503; trying backup');
      expect(lines[1]).toMatch(/^deployment backup \(mock\/backup\), /);
      expect(lines).toHaveLength(2);
    } finally {
      fb.remove();
    }
  });

  it('a provider error exits 1 with the LLMError code and message, no stack trace', async () => {
    const r = await runCli(['chat', '-m', 'down', 'hi'], { cwd: failing.dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('llmrr chat: error [provider_unavailable] (deployment down): upstream said 503\n');
  });

  it('an error after the first tokens keeps the partial answer and ends with the error line', async () => {
    const r = await runCli(['chat', '-m', 'cut', 'hi'], { cwd: failing.dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('one two \n');
    expect(r.stderr).toBe('llmrr chat: error [stream_interrupted] (deployment cut): connection reset mid-stream\n');
  });

  it('--json prints the error body on stdout too', async () => {
    const r = await runCli(['chat', '--json', '-m', 'down', 'hi'], { cwd: failing.dir });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'provider_unavailable', type: 'api_error', message: 'upstream said 503' } });
  });

  it('LLMRR_DEBUG=1 adds the stack trace', async () => {
    const plain = await runCli(['chat', '-m', 'down', 'hi'], { cwd: failing.dir });
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const debug = await runCli(['chat', '-m', 'down', 'hi'], { cwd: failing.dir, env: { LLMRR_DEBUG: '1' } });
    expect(debug.code).toBe(1);
    expect(debug.stderr.split('\n')[0]).toBe('llmrr chat: error [provider_unavailable] (deployment down): upstream said 503');
    expect(debug.stderr).toMatch(/LLMError: upstream said 503\n\s+at /);
  });
});

describe('llmrr chat: Ctrl-C', () => {
  it('aborting the signal mid-stream stops the request and exits 130', async () => {
    const slow = tempDir(`models:
  - name: slow
    engine: mock
    options: { reply: "${Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ')}", chunkDelayMs: 50 }
`);
    try {
      const controller = new AbortController();
      const r = await runCli(['chat', 'tell me a long story'], {
        cwd: slow.dir,
        signal: controller.signal,
        onStdout: () => controller.abort(),
      });
      expect(r.code).toBe(130);
      // The first chunk was written, then nothing more from the model; the line is closed.
      expect(r.stdout).toBe('w0 \n');
      expect(r.stderr).toBe('llmrr chat: interrupted\n');
    } finally {
      slow.remove();
    }
  });
});
