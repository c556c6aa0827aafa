/**
 * The missing-outcomes warning of `llmrr router train` and `router eval` is about the prompts used (a `--tasks`
 * selection's), through the real CLI as a child process. (Eval's refusal of data where no held-out prompt has every
 * outcome: router-eval.held-out.test.ts.)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'llmrr-missing-outcomes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const mainTs = join(pkg, 'src/cli/main.ts');
const shared = process.env['LLMRR_SHARED_DIR'] ?? resolve(pkg, '../../../shared');

/** `llmrr <args>` as a real process from the package folder (tsx resolves there); its exit code, stdout and stderr. */
function llmrr(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--conditions=@llmrr/source', '--import', 'tsx', mainTs, ...args], { cwd: pkg, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LLMRR_SHARED_DIR: shared } });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const guard = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(guard);
      done({ code, stdout, stderr });
    });
  });
}

const topic = (i: number) => ['sums', 'poems', 'code', 'history'][i % 4]!;

describe('the missing-outcomes warning names the prompts used', () => {
  it('the missing-outcomes warning is about the prompts used: --tasks of complete prompts prints none', { timeout: 180_000 }, async () => {
    // Task "logs" lacks model n on every other prompt; task "bench" has every outcome.
    const rows: string[] = [];
    for (let i = 0; i < 200; i++) {
      const task = i < 100 ? 'logs' : 'bench';
      for (const model of ['m', 'n']) {
        if (task === 'logs' && model === 'n' && i % 2) continue;
        rows.push(JSON.stringify({ prompt_id: `p${i}`, prompt: `question ${i} about ${topic(i)}`, model, task, quality: model === 'm' || topic(i) === 'sums' ? 1 : 0 }));
      }
    }
    writeFileSync(join(dir, 'two-tasks.jsonl'), `${rows.join('\n')}\n`);
    // None of the 100 prompts of --tasks bench lacks an outcome: no warning about the other task's 50, train or eval.
    const r = await llmrr(['router', 'eval', '--data', join(dir, 'two-tasks.jsonl'), '--tasks', 'bench', '--out', join(dir, 'bench-report.json'), '--hash-dim', '256', '--predictors', 'logistic', '--json']);
    expect({ code: r.code, warning: r.stderr.split('\n').find((l) => l.includes('warning:')) }).toEqual({ code: 0, warning: undefined });
    const t = await llmrr(['router', 'train', '--data', join(dir, 'two-tasks.jsonl'), '--tasks', 'bench', '--out', join(dir, 'bench-model.json'), '--hash-dim', '256', '--predictor', 'logistic']);
    // Its log counts the prompts trained on (the 100 of bench), not the data's 200.
    const trainingOn = (r: { stderr: string }) => r.stderr.split('\n').find((l) => l.startsWith('training on'));
    expect({ code: t.code, warning: t.stderr.split('\n').find((l) => l.includes('warning:')), log: trainingOn(t) }).toEqual({ code: 0, warning: undefined, log: 'training on two-tasks.jsonl: 2 models, 100 prompts (--tasks bench)' });
    // The whole data: train warns about the 50 prompts of task logs.
    const all = await llmrr(['router', 'train', '--data', join(dir, 'two-tasks.jsonl'), '--out', join(dir, 'all-model.json'), '--hash-dim', '256', '--predictor', 'logistic']);
    expect(all.code).toBe(0);
    expect(all.stderr).toMatch(/llmrr router train: warning: 50 of 200 prompts of two-tasks\.jsonl lack the outcome of some model/);
    expect(trainingOn(all)).toBe('training on two-tasks.jsonl: 2 models, 200 prompts');
  });

  it.skipIf(!existsSync(join(shared, 'data/routing/routerbench')))('shared RouterBench --tasks mbpp: no warning about the 28 arc-challenge prompts lacking outcomes', { timeout: 180_000 }, async () => {
    const r = await llmrr(['router', 'eval', '--data', 'routerbench', '--tasks', 'mbpp', '--out', join(dir, 'rb-mbpp.json'), '--hash-dim', '256', '--predictors', 'logistic', '--json']);
    // The 28 prompts of RouterBench lacking an outcome are all arc-challenge.
    expect({ code: r.code, warning: r.stderr.split('\n').find((l) => l.includes('warning:')) }).toEqual({ code: 0, warning: undefined });
  });
});
