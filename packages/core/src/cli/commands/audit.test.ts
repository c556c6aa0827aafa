import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EMBEDDED_DB_FILE, createStateStores } from '../../stores/create-state-stores.js';
import { PostgresAuditLog } from '../../stores/postgres/postgres-audit-log.js';
import { openPostgres } from '../../stores/postgres/postgres-database.js';
import { testServiceUrls } from '../../stores/__fixtures__/store-fixtures.js';
import { runCli, tempDir, type TempDir } from '../__fixtures__/cli-harness.js';

const ENTRIES = [
  { actor: 'admin', action: 'tenant.create', target: 't1', details: { tier: 'pro' } },
  { actor: 'admin', action: 'key.create', target: 'key_1' },
  { actor: 'key:key_1', action: 'budget.update', target: 't1', details: { amountUsd: 10 } },
];

/** A gateway data directory whose log holds `count` entries of some 200 bytes (a database file of many pages). */
async function gatewayDir(count: number): Promise<{ t: TempDir; file: string }> {
  const t = tempDir();
  const stores = await createStateStores({ mode: 'embedded', dataDir: t.dir });
  for (let i = 0; i < count; i++) await stores.audit.append({ actor: 'admin', action: 'key.create', target: `key_${i}`, details: { note: 'x'.repeat(200) } });
  await stores.close();
  return { t, file: join(t.dir, EMBEDDED_DB_FILE) };
}

/** Edits the log as an attacker with file access would: drop the append-only triggers, then change rows. */
async function tamper(dir: string, sql: string): Promise<void> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(join(dir, EMBEDDED_DB_FILE));
  try {
    db.exec('DROP TRIGGER llmrr_audit_no_update; DROP TRIGGER llmrr_audit_no_delete;');
    db.prepare(sql).run();
  } finally {
    db.close();
  }
}

describe('llmrr audit verify (embedded SQLite)', () => {
  let t: TempDir;
  beforeAll(async () => {
    t = tempDir();
    const stores = await createStateStores({ mode: 'embedded', dataDir: t.dir });
    for (const e of ENTRIES) await stores.audit.append(e);
    await stores.close();
  });
  afterAll(() => t.remove());

  it('an intact chain exits 0 with the entry count and head hash', async () => {
    const r = await runCli(['audit', 'verify', '--data-dir', t.dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^audit chain OK: 3 entries, head [0-9a-f]{64}\n$/);
  });

  it('finds the data directory the way the gateway server does (LLMRR_DATA_DIR, relative to cwd)', async () => {
    const r = await runCli(['audit', 'verify', '--json'], { cwd: join(t.dir, '..'), env: { LLMRR_DATA_DIR: t.dir.split('/').pop()! } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, count: 3 });
  });

  it('LLMRR_DATA_DIR=~/<dir> (unexpanded, as from a .env file) is under HOME, as for the server', async () => {
    const r = await runCli(['audit', 'verify', '--json'], { cwd: t.dir, env: { HOME: join(t.dir, '..'), LLMRR_DATA_DIR: `~/${t.dir.split('/').pop()!}` } });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, count: 3 });
  });

  it('an edited entry breaks the chain there: exit 1 naming the entry', async () => {
    const copy = tempDir();
    try {
      const stores = await createStateStores({ mode: 'embedded', dataDir: copy.dir });
      for (const e of ENTRIES) await stores.audit.append(e);
      await stores.close();
      await tamper(copy.dir, `UPDATE llmrr_audit SET target = 't2' WHERE seq = 2`);
      const r = await runCli(['audit', 'verify', '--data-dir', copy.dir]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^audit chain BROKEN at entry 2: .+\n$/);
      const json = await runCli(['audit', 'verify', '--json', '--data-dir', copy.dir]);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, brokenAt: 2 });
    } finally {
      copy.remove();
    }
  });

  it('a deleted entry breaks the chain', async () => {
    const copy = tempDir();
    try {
      const stores = await createStateStores({ mode: 'embedded', dataDir: copy.dir });
      for (const e of ENTRIES) await stores.audit.append(e);
      await stores.close();
      await tamper(copy.dir, `DELETE FROM llmrr_audit WHERE seq = 2`);
      const r = await runCli(['audit', 'verify', '--data-dir', copy.dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^audit chain BROKEN at entry 3: /);
    } finally {
      copy.remove();
    }
  });

  it('no database is a usage error (never an empty "valid" chain), exit 2', async () => {
    const empty = tempDir();
    try {
      const r = await runCli(['audit', 'verify', '--data-dir', empty.dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `llmrr audit: no audit database at ${join(empty.dir, EMBEDDED_DB_FILE)} (set --data-dir or LLMRR_DATA_DIR to the gateway's data directory) (see llmrr audit --help)\n`,
      );
    } finally {
      empty.remove();
    }
  });

  it('an entry whose details were replaced by JSON nested too deep to hash is a broken chain there (exit 1), not "could not be read"', async () => {
    const copy = tempDir();
    try {
      const stores = await createStateStores({ mode: 'embedded', dataDir: copy.dir });
      for (const e of ENTRIES) await stores.audit.append(e);
      await stores.close();
      await tamper(copy.dir, `UPDATE llmrr_audit SET details = '{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}' WHERE seq = 2`);
      const r = await runCli(['audit', 'verify', '--data-dir', copy.dir]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^audit chain BROKEN at entry 2: entry 2 cannot be hashed .+\n$/);
    } finally {
      copy.remove();
    }
  }, 60_000);

  it('a damaged database file (pages overwritten) is a broken chain after the last entry read (exit 1)', async () => {
    const copy = tempDir();
    try {
      const stores = await createStateStores({ mode: 'embedded', dataDir: copy.dir });
      for (let i = 0; i < 2000; i++) await stores.audit.append({ actor: 'admin', action: 'key.create', target: `key_${i}`, details: { note: 'x'.repeat(200) } });
      await stores.close();
      // Pages in the middle of the file overwritten: SQLite reports the image malformed while the chain is read.
      const file = join(copy.dir, EMBEDDED_DB_FILE);
      const bytes = readFileSync(file);
      bytes.fill(0x41, Math.floor(bytes.length / 2), Math.floor(bytes.length / 2) + 8192);
      writeFileSync(file, bytes);
      const r = await runCli(['audit', 'verify', '--data-dir', copy.dir]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^audit chain BROKEN at entry \d+: the stored log is damaged: the entries after entry \d+ cannot be read \(database disk image is malformed\)/);
      const json = await runCli(['audit', 'verify', '--json', '--data-dir', copy.dir]);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, reason: expect.stringContaining('damaged') });
    } finally {
      copy.remove();
    }
  }, 60_000);

  it('a database file cut short after an anchor was saved is exit 1 (broken), not 2', async () => {
    const copy = tempDir();
    try {
      const stores = await createStateStores({ mode: 'embedded', dataDir: copy.dir });
      for (let i = 0; i < 2000; i++) await stores.audit.append({ actor: 'admin', action: 'key.create', target: `key_${i}`, details: { note: 'x'.repeat(200) } });
      await stores.close();
      const anchor = join(copy.dir, 'anchor.json');
      const saved = await runCli(['audit', 'verify', '--data-dir', copy.dir, '--write-anchor', anchor]);
      expect(saved.code, saved.stderr).toBe(0);
      // The newest entries cut off the crude way: the file truncated to its first half.
      const file = join(copy.dir, EMBEDDED_DB_FILE);
      truncateSync(file, Math.floor(statSync(file).size / 2));
      const r = await runCli(['audit', 'verify', '--data-dir', copy.dir, '--anchor', anchor]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain('database disk image is malformed');
      expect(r.stderr).toMatch(/^audit chain BROKEN/);
    } finally {
      copy.remove();
    }
  }, 60_000);

  it('a file damaged at open (cut to its first page) is reported as any broken chain: the same text, and --json with headHash and message', async () => {
    const { t, file } = await gatewayDir(300);
    try {
      truncateSync(file, 4096);
      const r = await runCli(['audit', 'verify', '--data-dir', t.dir]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^audit chain BROKEN at entry 1: the stored log is damaged: no entry can be read \(.+\) \(0 entries read\)\n$/);
      const json = await runCli(['audit', 'verify', '--json', '--data-dir', t.dir]);
      expect(json.code, json.stderr).toBe(1);
      const body = JSON.parse(json.stdout) as Record<string, unknown>;
      // The shape of every report (docs/core/tenancy.md): { ok, count, brokenAt, reason, headHash } and its message.
      expect(Object.keys(body).sort()).toEqual(['brokenAt', 'count', 'headHash', 'message', 'ok', 'reason']);
      expect(body).toMatchObject({ ok: false, count: 0, brokenAt: 1, headHash: '0'.repeat(64), message: r.stderr.trimEnd() });
    } finally {
      t.remove();
    }
  }, 60_000);

  it('a database whose header is damaged but starts as SQLite (page size byte overwritten) is a broken chain (exit 1), not "not a SQLite database"', async () => {
    const { t, file } = await gatewayDir(300);
    try {
      const bytes = readFileSync(file);
      expect(bytes.subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');
      bytes[16] = 0x03; // page size 0x0300: not a power of two
      writeFileSync(file, bytes);
      const r = await runCli(['audit', 'verify', '--data-dir', t.dir]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^audit chain BROKEN at entry 1: the stored log is damaged: no entry can be read/);
      expect(r.stderr).not.toContain('not a SQLite database');
    } finally {
      t.remove();
    }
  }, 60_000);

  it('a database file cut to 0 bytes after an anchor was saved is a truncated log (exit 1); without an anchor still "no audit log" (exit 2)', async () => {
    const { t, file } = await gatewayDir(50);
    try {
      const anchor = join(t.dir, 'anchor.json');
      const saved = await runCli(['audit', 'verify', '--data-dir', t.dir, '--write-anchor', anchor]);
      expect(saved.code, saved.stderr).toBe(0);
      const before = readFileSync(anchor, 'utf8');
      truncateSync(file, 0);
      const r = await runCli(['audit', 'verify', '--data-dir', t.dir, '--anchor', anchor, '--write-anchor', anchor]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toBe('audit log TRUNCATED: the anchored entry 50 is missing, the log ends at entry 0\n');
      // A failed check never moves the anchor.
      expect(readFileSync(anchor, 'utf8')).toBe(before);
      const json = await runCli(['audit', 'verify', '--json', '--data-dir', t.dir, '--anchor', anchor]);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, count: 0, headHash: '0'.repeat(64), anchor: { seq: 50, ok: false } });
      const unanchored = await runCli(['audit', 'verify', '--data-dir', t.dir]);
      expect(unanchored.code).toBe(2);
      expect(unanchored.stderr).toContain('no audit log');
    } finally {
      t.remove();
    }
  }, 60_000);

  it('usage errors name the flag or subcommand', async () => {
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['audit'], {}, 'llmrr audit: missing subcommand: verify'],
      [['audit', 'check'], {}, 'llmrr audit: unknown subcommand "check" (expected verify)'],
      [['audit', 'verify', '--state', 'cloud'], {}, 'llmrr audit: --state must be embedded or shared, got "cloud"'],
      [['audit', 'verify'], { LLMRR_STATE: 'memory' }, 'llmrr audit: LLMRR_STATE is "memory": an in-memory audit log lives only inside its server process'],
      [['audit', 'verify', '--state', 'shared'], {}, 'llmrr audit: shared state needs --postgres-url (or LLMRR_POSTGRES_URL)'],
    ];
    for (const [argv, env, line] of cases) {
      const r = await runCli(argv, { env });
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toBe(`${line} (see llmrr audit --help)\n`);
    }
  });
});

describe('llmrr audit verify --anchor (cut-off and rewritten logs)', () => {
  /** A fresh log of the three entries in its own directory. */
  async function freshLog(): Promise<TempDir> {
    const d = tempDir();
    const stores = await createStateStores({ mode: 'embedded', dataDir: d.dir });
    for (const e of ENTRIES) await stores.audit.append(e);
    await stores.close();
    return d;
  }

  it('a rolling anchor: verified, moved to the head; a log cut back past it fails with exit 1', async () => {
    const d = await freshLog();
    try {
      const anchor = join(d.dir, 'anchor.json');
      const first = await runCli(['audit', 'verify', '--data-dir', d.dir, '--write-anchor', anchor]);
      expect(first.code).toBe(0);
      const saved = JSON.parse(readFileSync(anchor, 'utf8')) as { seq: number; hash: string };
      expect(saved.seq).toBe(3);
      expect(saved.hash).toMatch(/^[0-9a-f]{64}$/);
      // More entries: the old anchor still holds, and the anchor moves on.
      const stores = await createStateStores({ mode: 'embedded', dataDir: d.dir });
      await stores.audit.append({ actor: 'admin', action: 'key.revoke', target: 'key_1' });
      await stores.close();
      const second = await runCli(['audit', 'verify', '--data-dir', d.dir, '--anchor', anchor, '--write-anchor', anchor]);
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/; anchor at entry 3 holds\n$/);
      expect((JSON.parse(readFileSync(anchor, 'utf8')) as { seq: number }).seq).toBe(4);
      // The newest entry cut off: the chain alone still verifies, the anchor does not.
      await tamper(d.dir, 'DELETE FROM llmrr_audit WHERE seq = 4');
      expect((await runCli(['audit', 'verify', '--data-dir', d.dir])).code).toBe(0);
      const cut = await runCli(['audit', 'verify', '--data-dir', d.dir, '--anchor', anchor, '--write-anchor', anchor, '--json']);
      expect(cut.code).toBe(1);
      expect(JSON.parse(cut.stdout)).toMatchObject({ ok: false, count: 3, anchor: { seq: 4, ok: false } });
      // A failed check never moves the anchor.
      expect((JSON.parse(readFileSync(anchor, 'utf8')) as { seq: number }).seq).toBe(4);
    } finally {
      d.remove();
    }
  });

  it('a log cut back and written again past the anchor is reported as rewritten', async () => {
    const d = await freshLog();
    try {
      const anchor = join(d.dir, 'anchor.json');
      expect((await runCli(['audit', 'verify', '--data-dir', d.dir, '--write-anchor', anchor])).code).toBe(0);
      await tamper(d.dir, 'DELETE FROM llmrr_audit WHERE seq = 3');
      const stores = await createStateStores({ mode: 'embedded', dataDir: d.dir });
      await stores.audit.append({ actor: 'admin', action: 'tenant.create', target: 'innocent' });
      await stores.close();
      const r = await runCli(['audit', 'verify', '--data-dir', d.dir, '--anchor', anchor]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('audit log REWRITTEN: entry 3 no longer has the anchored hash\n');
    } finally {
      d.remove();
    }
  });

  it('a missing or malformed anchor file is a usage error naming --anchor', async () => {
    const d = await freshLog();
    try {
      const bad = join(d.dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ seq: -1, hash: 'abc' }));
      for (const [file, why] of [
        [join(d.dir, 'none.json'), 'no such file'],
        [bad, 'must hold {"seq": <entry number>, "hash": "<64 hex digits>"}'],
      ] as const) {
        const r = await runCli(['audit', 'verify', '--data-dir', d.dir, '--anchor', file]);
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(`llmrr audit: --anchor: ${file}`);
        expect(r.stderr).toContain(why);
      }
    } finally {
      d.remove();
    }
  });
});

const { postgresUrl } = testServiceUrls();

/** A database of its own on the test PostgreSQL holding the log of ENTRIES; `drop` removes it. */
async function postgresAuditDb(): Promise<{ dbUrl: string; drop: () => Promise<void> }> {
  const { default: pg } = await import('pg');
  const admin = new pg.Pool({ connectionString: postgresUrl, max: 1 });
  const dbName = `llmrr_cli_audit_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${dbName}`);
  const u = new URL(postgresUrl!);
  u.pathname = `/${dbName}`;
  const log = new PostgresAuditLog(await openPostgres(u.toString()));
  for (const e of ENTRIES) await log.append(e);
  await log.close();
  return {
    dbUrl: u.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
    },
  };
}

describe.skipIf(!postgresUrl)('llmrr audit verify (shared PostgreSQL)', () => {
  let dbUrl: string;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ dbUrl, drop } = await postgresAuditDb());
  });
  afterAll(() => drop());

  it('verifies the chain in PostgreSQL, then finds an edit', async () => {
    const ok = await runCli(['audit', 'verify', '--state', 'shared', '--postgres-url', dbUrl]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^audit chain OK: 3 entries, head [0-9a-f]{64}\n$/);

    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    try {
      await c.query('DROP TRIGGER llmrr_audit_no_change ON llmrr_audit');
      await c.query(`UPDATE llmrr_audit SET actor = 'someone-else' WHERE seq = 1`);
    } finally {
      await c.end();
    }
    const broken = await runCli(['audit', 'verify'], { env: { LLMRR_STATE: 'shared', LLMRR_POSTGRES_URL: dbUrl } });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^audit chain BROKEN at entry 1: /);
  });
});

describe.skipIf(!postgresUrl)('llmrr audit verify (shared PostgreSQL): rows that cannot be hashed or read are a broken chain there', () => {
  let dbUrl: string;
  let drop: () => Promise<void>;
  beforeEach(async () => {
    ({ dbUrl, drop } = await postgresAuditDb());
  });
  afterEach(() => drop());

  const tamper = async (sql: string) => {
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    try {
      await c.query('ALTER TABLE llmrr_audit DISABLE TRIGGER llmrr_audit_no_change');
      await c.query(sql);
    } finally {
      await c.end();
    }
  };

  it('details nested too deep to hash: exit 1 at that entry, --json of the documented shape', async () => {
    await tamper(`UPDATE llmrr_audit SET details = '{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}' WHERE seq = 3`);
    const r = await runCli(['audit', 'verify', '--state', 'shared', '--postgres-url', dbUrl, '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, count: 3, brokenAt: 3, reason: expect.stringMatching(/cannot be hashed/), headHash: expect.stringMatching(/^[0-9a-f]{64}$/), message: expect.stringMatching(/^audit chain BROKEN at entry 3: /) });
  }, 60_000);

  it('details that are not JSON: exit 1 at that entry', async () => {
    await tamper(`UPDATE llmrr_audit SET details = '{not json' WHERE seq = 2`);
    const r = await runCli(['audit', 'verify', '--state', 'shared', '--postgres-url', dbUrl]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^audit chain BROKEN at entry 2: entry cannot be read/);
  }, 60_000);
});

describe('llmrr audit verify: the PostgreSQL URL is printed without credentials', () => {
  it('a password in the query string (?password=, read by pg as by libpq) or the user info is not in the error', async () => {
    const t = tempDir();
    try {
      // Port 1 on loopback: nothing listens, the connection is refused at once.
      const flag = await runCli(['audit', 'verify', '--state', 'shared', '--postgres-url', 'postgres://u:USERINFO-PW@127.0.0.1:1/db?password=QUERY-PW&sslmode=disable#FRAG-PW'], { cwd: t.dir });
      // Nothing was checked: exit 2, not 1 (a broken chain).
      expect(flag.code).toBe(2);
      expect(flag.stderr).toContain('Cannot prepare PostgreSQL at postgres://127.0.0.1:1/db:');
      expect(flag.stderr).not.toMatch(/-PW/);
      const fromEnv = await runCli(['audit', 'verify'], { cwd: t.dir, env: { LLMRR_STATE: 'shared', LLMRR_POSTGRES_URL: 'postgres://u@127.0.0.1:1/db?password=QUERY-PW' } });
      expect(fromEnv.code).toBe(2);
      expect(fromEnv.stderr).toContain('PostgreSQL');
      expect(fromEnv.stderr).not.toContain('QUERY-PW');
    } finally {
      t.remove();
    }
  });
});
