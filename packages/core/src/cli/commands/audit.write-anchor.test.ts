import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStateStores } from '../../stores/create-state-stores.js';
import { runCli, tempDir, type TempDir } from '../__fixtures__/cli-harness.js';

/**
 * `--write-anchor` to a path whose folder is missing is a usage error (exit 2) naming the flag and the path,
 * found before the chain is walked: exit 1 stays reserved for a broken chain.
 */
describe('llmrr audit verify --write-anchor to a path that cannot be written', () => {
  let t: TempDir;
  beforeAll(async () => {
    t = tempDir();
    const stores = await createStateStores({ mode: 'embedded', dataDir: t.dir });
    await stores.audit.append({ actor: 'admin', action: 'tenant.create', target: 't1' });
    await stores.audit.append({ actor: 'admin', action: 'key.create', target: 'key_1' });
    await stores.close();
  });
  afterAll(() => t.remove());

  it('an intact chain is not reported with exit 1 (the code for a broken chain); the error names --write-anchor', async () => {
    // A typo in the anchor's folder: the chain itself verifies.
    const anchor = join(t.dir, 'no-such-folder', 'anchor.json');
    const r = await runCli(['audit', 'verify', '--data-dir', t.dir, '--write-anchor', anchor]);
    // Exit 1 means "an entry was edited, deleted or reordered" (audit verify --help); a cron job alerting on it
    // would page for tampering. A bad option value is a usage error (exit 2) naming the flag.
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 2, stderr: expect.stringMatching(/--write-anchor/) });
    expect(r.stderr).not.toMatch(/internal error|\.tmp/);
    expect(r.stderr).toContain(anchor);
  });

  it('an existing folder gets the anchor (control)', async () => {
    const anchor = join(t.dir, 'anchor.json');
    const r = await runCli(['audit', 'verify', '--data-dir', t.dir, '--write-anchor', anchor]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(readFileSync(anchor, 'utf8'))).toMatchObject({ seq: 2, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });
});
