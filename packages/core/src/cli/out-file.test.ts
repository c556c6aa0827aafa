import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { syntheticPairDataset } from '../learning/__fixtures__/synthetic-data.js';
import { runCli, tempDir } from './__fixtures__/cli-harness.js';

/** A full disk: the next writeFile into a file named *.json* writes half its text, then fails with ENOSPC. */
const fullDisk = vi.hoisted(() => ({ on: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const writeFile: typeof fs.writeFile = async (file, data, options) => {
    if (fullDisk.on && String(file).includes('.json') && typeof data === 'string') {
      await fs.writeFile(file, data.slice(0, data.length >> 1), options);
      throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC' });
    }
    return fs.writeFile(file, data, options);
  };
  return { ...fs, writeFile, default: { ...fs, writeFile } };
});

const t = tempDir();
afterAll(() => t.remove());
const p = syntheticPairDataset(120);
t.write('pair.jsonl', p.examples.flatMap((e) => p.models.map((m, i) => JSON.stringify({ prompt_id: e.id, prompt: e.prompt, model: m, quality: e.quality[i] }))).join('\n'));

describe('llmrr router --out: written whole or not at all', () => {
  it('a write failing halfway (a full disk) leaves the model already at --out whole, and no temporary file', async () => {
    const train = ['router', 'train', '--data', 'pair.jsonl', '--out', 'model.json', '--hash-dim', '256', '--predictor', 'logistic'];
    expect((await runCli(train, { cwd: t.dir })).code).toBe(0);
    const good = readFileSync(join(t.dir, 'model.json'), 'utf8');
    fullDisk.on = true;
    try {
      const r = await runCli([...train, '--seed', '7'], { cwd: t.dir });
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(/ENOSPC/) });
      const r2 = await runCli(['router', 'eval', '--data', 'pair.jsonl', '--out', 'report.json', '--hash-dim', '256', '--predictors', 'logistic'], { cwd: t.dir });
      expect(r2.code).toBe(1);
    } finally {
      fullDisk.on = false;
    }
    expect(readFileSync(join(t.dir, 'model.json'), 'utf8')).toBe(good);
    expect(readdirSync(t.dir).sort()).toEqual(['model.json', 'pair.jsonl']);
  });

  it('a missing folder on the way to --out is created', async () => {
    writeFileSync(join(t.dir, 'keep.txt'), 'x');
    const r = await runCli(['router', 'train', '--data', 'pair.jsonl', '--out', 'a/b/model.json', '--hash-dim', '256', '--predictor', 'logistic', '--json'], { cwd: t.dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(t.dir, 'a/b/model.json'), 'utf8'))).toMatchObject({ format: 'llmrr-router-model', version: 1 });
    expect(readdirSync(join(t.dir, 'a/b'))).toEqual(['model.json']);
  });
});
