import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, type TempDir } from '../__fixtures__/cli-harness.js';

/**
 * An `--unrelated` prompt file that does not parse is a usage error (exit 2) naming `--unrelated`, the file, and
 * for .jsonl the line, as `--data` files are.
 */
let t: TempDir;
beforeAll(() => {
  t = tempDir();
  t.write('pairs.json', JSON.stringify([{ origin: 'how do I reset my password', similar: 'how can I reset my password' }]));
  // A hand-edited prompt file with a trailing comma: not JSON.
  t.write('unrelated.json', '["write a poem about the sea",]\n');
  t.write('unrelated.jsonl', '{"prompt": "fine"}\n{"prompt": "broken\n');
});
afterAll(() => t.remove());

describe('llmrr cache eval --unrelated with a malformed file', () => {
  it('a .json file that is not JSON is a usage error (exit 2) naming --unrelated and the file, not an internal error', async () => {
    const r = await runCli(['cache', 'eval', '--data', 'pairs.json', '--unrelated', 'unrelated.json'], { cwd: t.dir });
    expect({ code: r.code, internal: /internal error/.test(r.stderr) }).toEqual({ code: 2, internal: false });
    expect(r.stderr).toMatch(/--unrelated/);
    expect(r.stderr).toContain('unrelated.json');
  });

  it('the same for a .jsonl file with a broken line', async () => {
    const r = await runCli(['cache', 'eval', '--data', 'pairs.json', '--unrelated', 'unrelated.jsonl'], { cwd: t.dir });
    expect({ code: r.code, internal: /internal error/.test(r.stderr) }).toEqual({ code: 2, internal: false });
    expect(r.stderr).toContain('unrelated.jsonl line 2:');
    expect(r.stderr).toMatch(/--unrelated/);
  });
});
