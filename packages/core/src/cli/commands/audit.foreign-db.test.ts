/**
 * With `--anchor`, only a database file of 0 bytes is a log cut to nothing (TRUNCATED, exit 1): another program's
 * SQLite file at the data directory (tables, rows, never migrated by llmrr) also reads as schema version 0, and is
 * "no audit log" (exit 2), as without the anchor, never the tamper alert.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMBEDDED_DB_FILE, createStateStores } from '../../stores/create-state-stores.js';
import { runCli, tempDir } from '../__fixtures__/cli-harness.js';

describe('llmrr audit verify --anchor on a database llmrr never wrote', () => {
  it('another program\'s SQLite file at the data dir is "no audit log" (exit 2) with an anchor too, not TRUNCATED (exit 1)', async () => {
    const gw = tempDir();
    const other = tempDir();
    try {
      const stores = await createStateStores({ mode: 'embedded', dataDir: gw.dir });
      for (let i = 0; i < 3; i++) await stores.audit.append({ actor: 'admin', action: 'key.create', target: `key_${i}` });
      await stores.close();
      const anchor = join(gw.dir, 'anchor.json');
      expect((await runCli(['audit', 'verify', '--data-dir', gw.dir, '--write-anchor', anchor])).code).toBe(0);
      // A wrong --data-dir whose llmrr.db holds another program's table and rows (schema version 0, not empty).
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(join(other.dir, EMBEDDED_DB_FILE));
      db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES (\'x\');');
      db.close();
      const unanchored = await runCli(['audit', 'verify', '--data-dir', other.dir]);
      expect(unanchored.code).toBe(2);
      const anchored = await runCli(['audit', 'verify', '--data-dir', other.dir, '--anchor', anchor]);
      // Actual: exit 1, "audit log TRUNCATED: the anchored entry 3 is missing, the log ends at entry 0".
      expect(anchored.stderr).not.toContain('TRUNCATED');
      expect(anchored.code, anchored.stderr).toBe(2);
    } finally {
      gw.remove();
      other.remove();
    }
  }, 60_000);
});
