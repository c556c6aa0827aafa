/**
 * `llmrr audit verify` leaves the gateway's data directory as it found it. A closed gateway's WAL database has no
 * -wal/-shm files: verify opens it with `query_only` (no statement writes), and SQLite's own close removes the files
 * reading created. A running gateway's database keeps its files, and the gateway goes on writing.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMBEDDED_DB_FILE, createStateStores } from '../../stores/create-state-stores.js';
import { openSqliteReadOnly } from '../../stores/sqlite/sqlite-database.js';
import { runCli, tempDir } from '../__fixtures__/cli-harness.js';

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('audit verify leaves the data directory as it found it', () => {
  it('a closed gateway database (no -wal/-shm): none left behind by verify, the file unchanged', async () => {
    const t = tempDir();
    try {
      const stores = await createStateStores({ mode: 'embedded', dataDir: t.dir });
      await stores.audit!.append({ actor: 'admin', action: 'tenant.create', target: 't1' });
      await stores.close();
      const before = readdirSync(t.dir).sort();
      const hash = digest(join(t.dir, EMBEDDED_DB_FILE));
      const r = await runCli(['audit', 'verify', '--data-dir', t.dir]);
      expect(r.code).toBe(0);
      expect({ before, after: readdirSync(t.dir).sort() }).toEqual({ before: [EMBEDDED_DB_FILE], after: [EMBEDDED_DB_FILE] });
      expect(existsSync(join(t.dir, `${EMBEDDED_DB_FILE}-shm`))).toBe(false);
      expect(digest(join(t.dir, EMBEDDED_DB_FILE))).toBe(hash);
    } finally {
      t.remove();
    }
  });

  it('the connection opened for a closed database refuses writes (query_only)', async () => {
    const t = tempDir();
    try {
      const stores = await createStateStores({ mode: 'embedded', dataDir: t.dir });
      await stores.close();
      const handle = await openSqliteReadOnly(join(t.dir, EMBEDDED_DB_FILE), ['llmrr_audit']);
      try {
        expect(() => handle.db.exec('CREATE TABLE intruder (x)')).toThrow(/readonly|read-only|query_only/i);
      } finally {
        handle.db.close();
      }
      expect(readdirSync(t.dir).sort()).toEqual([EMBEDDED_DB_FILE]);
    } finally {
      t.remove();
    }
  });

  it("a running gateway's database: its -wal/-shm stay, and it goes on writing", async () => {
    const t = tempDir();
    try {
      const stores = await createStateStores({ mode: 'embedded', dataDir: t.dir });
      try {
        await stores.audit!.append({ actor: 'admin', action: 'tenant.create', target: 't1' });
        expect(existsSync(join(t.dir, `${EMBEDDED_DB_FILE}-wal`))).toBe(true);
        const first = await runCli(['audit', 'verify', '--data-dir', t.dir, '--json']);
        expect(first.code).toBe(0);
        expect(readdirSync(t.dir).sort()).toEqual([EMBEDDED_DB_FILE, `${EMBEDDED_DB_FILE}-shm`, `${EMBEDDED_DB_FILE}-wal`]);
        await stores.audit!.append({ actor: 'admin', action: 'tenant.delete', target: 't1' });
        const second = await runCli(['audit', 'verify', '--data-dir', t.dir, '--json']);
        expect(second.code).toBe(0);
        expect([first.stdout, second.stdout].map((s) => (JSON.parse(s) as { count: number }).count)).toEqual([1, 2]);
      } finally {
        await stores.close();
      }
      expect(readdirSync(t.dir).sort()).toEqual([EMBEDDED_DB_FILE]);
    } finally {
      t.remove();
    }
  });
});
