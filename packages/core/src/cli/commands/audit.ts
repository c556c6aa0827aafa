import { accessSync, constants, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { AUDIT_GENESIS_HASH } from '../../audit/audit-hash.js';
import type { AuditLog, AuditVerifyResult } from '../../audit/types.js';
import { LLMError } from '../../errors/llm-error.js';
import { expandHomePath } from '../../config/home-path.js';
import { auditAnchorOf, verifyAuditChain, type AuditAnchor, type AuditChainReport } from '../../audit/verify-audit-chain.js';
import { EMBEDDED_DB_FILE } from '../../stores/create-state-stores.js';
import { PostgresAuditLog } from '../../stores/postgres/postgres-audit-log.js';
import { openPostgres } from '../../stores/postgres/postgres-database.js';
import { SqliteAuditLog, sqliteFileDamaged } from '../../stores/sqlite/sqlite-audit-log.js';
import { openSqliteReadOnly } from '../../stores/sqlite/sqlite-database.js';
import { defineCommand, expectSubcommand, type CliCommand } from '../cli-command.js';
import { EXIT, type CliContext } from '../cli-io.js';
import { CliUsageError } from '../cli-usage-error.js';
import { reportError } from '../report-error.js';
import { GLOBAL_FLAGS } from '../parse-flags.js';

/** What `openPostgres` accepts as a schema name. */
const POSTGRES_SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

const FLAGS = {
  ...GLOBAL_FLAGS,
  state: { type: 'string' },
  'data-dir': { type: 'string' },
  'postgres-url': { type: 'string' },
  'postgres-schema': { type: 'string' },
  json: { type: 'boolean' },
  anchor: { type: 'string' },
  'write-anchor': { type: 'string' },
} as const;

const HELP = `Usage: llmrr audit verify [options]

Walks the hash-chained audit log from its first entry and checks every link. Exit 0 when the chain is
intact, 1 when an entry was edited, deleted or reordered (the line names the first broken entry) or the
database file is damaged (cut short or overwritten), 2 when nothing was checked: a usage error, or a log that
could not be read (an unreachable PostgreSQL, a database file it may not read).
The store is found the way the gateway server finds it (same environment variables).

The chain shows edited, deleted or reordered entries, but not the newest ones cut off. For that, keep an
anchor (the head's entry number and hash) somewhere the log's writers cannot change, and check against it:
  llmrr audit verify --anchor /secure/audit-anchor.json --write-anchor /secure/audit-anchor.json
fails (exit 1) when the anchored entry is gone or has another hash, and otherwise moves the anchor to the
current head.

Options:
      --state <mode>         embedded (SQLite file) or shared (PostgreSQL); default LLMRR_STATE, else embedded
      --data-dir <dir>       embedded: directory of ${EMBEDDED_DB_FILE}; default LLMRR_DATA_DIR, else .data
      --postgres-url <url>   shared: PostgreSQL connection string; default LLMRR_POSTGRES_URL
      --postgres-schema <s>  shared: schema of the gateway's tables; default LLMRR_POSTGRES_SCHEMA, else public
      --json                 print the result as JSON
      --anchor <file>        also check a head saved earlier ({"seq": N, "hash": "..."}, from --write-anchor)
      --write-anchor <file>  after a successful check, save the current head there (a folder that is
                             missing or not writable is a usage error, exit 2, before the check)
  -h, --help                 show this help
`;

/** `llmrr audit verify`: checks the audit log's hash chain. */
export const auditCommand: CliCommand = defineCommand({
  name: 'audit',
  summary: 'verify the hash chain of the audit log (audit verify)',
  help: HELP,
  flags: FLAGS,
  async run({ values, positionals }, ctx) {
    expectSubcommand(positionals, 'verify');
    if (values.config !== undefined) throw new CliUsageError('audit verify reads no router config; use --state, --data-dir or --postgres-url', '--config');

    const anchor = values.anchor !== undefined ? readAnchor(resolve(ctx.cwd, values.anchor)) : undefined;
    // A path that cannot be written is a usage error before the walk, never a failure after it (exit 1 means tampering).
    const anchorOut = values['write-anchor'] !== undefined ? checkAnchorTarget(resolve(ctx.cwd, values['write-anchor'])) : undefined;
    const anchored = anchor !== undefined && anchor.seq > 0;
    let log: AuditLog | undefined;
    try {
      try {
        log = await openAuditLog(ctx, { state: values.state, dataDir: values['data-dir'], postgresUrl: values['postgres-url'], postgresSchema: values['postgres-schema'], anchored });
      } catch (e) {
        const read = unopenedLog(e, anchored);
        if (read === undefined) return cannotCheck(e, ctx);
        log = read;
      }
      let report: AuditChainReport;
      try {
        report = await verifyAuditChain(log, anchor ? { anchor } : {});
      } catch (e) {
        return cannotCheck(e, ctx);
      }
      // Never move an anchor onto a chain that did not verify.
      if (report.exitCode === 0 && anchorOut !== undefined) writeAnchor(anchorOut, auditAnchorOf(report));
      if (values.json) {
        const { exitCode: _exit, ...rest } = report;
        ctx.stdout.write(`${JSON.stringify(rest, null, 2)}\n`);
      } else {
        (report.ok ? ctx.stdout : ctx.stderr).write(`${report.message}\n`);
      }
      return report.exitCode;
    } finally {
      await log?.close();
    }
  },
});

/**
 * A log that could not be read (a store unreachable, a damaged database): nothing was checked. One line as for any
 * failure, and exit 2 as for a usage error (grep's and diff's "trouble"), never 1, which says the chain is broken.
 */
function cannotCheck(e: unknown, ctx: CliContext): number {
  const code = reportError(e, ctx, 'audit');
  return code === EXIT.runtime ? EXIT.usage : code;
}

/**
 * The log of a SQLite file that could not be opened, when that says what the log is (else undefined: nothing was
 * checked): a damaged file (its header or first page refused, SQLITE_NOTADB or SQLITE_CORRUPT) is broken at its first
 * entry, and with an anchor past entry 0 an empty file (cut to 0 bytes, schema version 0) is a log of no entries, so
 * the anchor's check finds it cut short. Reported as any walked log (same shape, exit 1).
 */
function unopenedLog(e: unknown, anchored: boolean): AuditLog | undefined {
  let result: AuditVerifyResult;
  if (sqliteFileDamaged(e)) {
    result = { ok: false, count: 0, brokenAt: 1, reason: `the stored log is damaged: no entry can be read (${(e as Error).message})`, headHash: AUDIT_GENESIS_HASH };
  } else if (anchored && LLMError.isInstance(e) && (e.details as { schemaVersion?: unknown } | undefined)?.schemaVersion === 0) {
    result = { ok: true, count: 0, headHash: AUDIT_GENESIS_HASH };
  } else {
    return undefined;
  }
  return {
    verify: async () => result,
    list: async () => [],
    append: async () => {
      throw new Error('audit verify never appends');
    },
    close: async () => {},
  };
}

async function openAuditLog(ctx: CliContext, flags: { state?: string | undefined; dataDir?: string | undefined; postgresUrl?: string | undefined; postgresSchema?: string | undefined; anchored: boolean }): Promise<AuditLog> {
  const env = (name: string) => ctx.env[name]?.trim() || undefined;
  const stateFlag = flags.state !== undefined ? '--state' : 'LLMRR_STATE';
  const state = flags.state ?? env('LLMRR_STATE') ?? 'embedded';
  if (state === 'embedded') {
    // LLMRR_DATA_DIR as the gateway server reads it: a leading `~` is HOME (a .env file passes it unexpanded).
    const dir = resolve(ctx.cwd, flags.dataDir ?? expandHomePath(env('LLMRR_DATA_DIR') ?? '.data', ctx.env));
    const file = join(dir, EMBEDDED_DB_FILE);
    // Never create an empty database just to report an empty, "valid" chain.
    if (!existsSync(file)) {
      throw new CliUsageError(`no audit database at ${file} (set --data-dir or LLMRR_DATA_DIR to the gateway's data directory)`, '--data-dir');
    }
    // Read-only, never migrated: a file without the audit table (not the gateway's) is an error, not an empty chain.
    // With an anchor, an empty file (schema version 0) is passed on: a log cut to nothing, not a wrong path.
    const handle = await openSqliteReadOnly(file, ['llmrr_audit']).catch((e: unknown) => {
      // (Only a file of 0 bytes: another program's database also reads as schema version 0.)
      if (!LLMError.isInstance(e) || e.code !== 'config_invalid' || (flags.anchored && (e.details as { schemaVersion?: unknown } | undefined)?.schemaVersion === 0 && statSync(file).size === 0)) throw e;
      throw new CliUsageError(`no audit log: ${e.message} (set --data-dir or LLMRR_DATA_DIR to the gateway's data directory)`, '--data-dir');
    });
    return new SqliteAuditLog(handle);
  }
  if (state === 'shared') {
    const url = flags.postgresUrl ?? env('LLMRR_POSTGRES_URL');
    if (url === undefined) throw new CliUsageError('shared state needs --postgres-url (or LLMRR_POSTGRES_URL)', '--postgres-url');
    const schemaFlag = flags.postgresSchema !== undefined ? '--postgres-schema' : 'LLMRR_POSTGRES_SCHEMA';
    const schema = flags.postgresSchema ?? env('LLMRR_POSTGRES_SCHEMA') ?? 'public';
    if (!POSTGRES_SCHEMA_PATTERN.test(schema)) throw new CliUsageError(`${schemaFlag} must be a PostgreSQL schema name matching ${POSTGRES_SCHEMA_PATTERN}, got "${schema}"`, schemaFlag);
    // Never migrate: creating empty tables here would report an empty, "valid" chain for the wrong schema.
    const pg = await openPostgres(url, { schema, migrate: false, poolMax: 2 });
    const [found] = await pg.query<{ t: string | null }>(`SELECT to_regclass($1) AS t`, [`${schema}.llmrr_audit`]).catch(async (e: unknown) => {
      await pg.release();
      throw e;
    });
    if (!found?.t) {
      await pg.release();
      throw new CliUsageError(`no audit log in PostgreSQL schema "${schema}" (set --postgres-schema or LLMRR_POSTGRES_SCHEMA to the gateway's schema)`, schemaFlag);
    }
    return new PostgresAuditLog(pg);
  }
  if (state === 'memory') throw new CliUsageError(`${stateFlag} is "memory": an in-memory audit log lives only inside its server process`, stateFlag);
  throw new CliUsageError(`${stateFlag} must be embedded or shared, got "${state}"`, stateFlag);
}

/** Reads an anchor file, naming `--anchor` in every problem. */
function readAnchor(file: string): AuditAnchor {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not JSON';
    throw new CliUsageError(`--anchor: ${file}: ${why}`, '--anchor');
  }
  const a = raw as Partial<AuditAnchor> | null;
  if (typeof a !== 'object' || a === null || !Number.isInteger(a.seq) || (a.seq as number) < 0 || typeof a.hash !== 'string' || !/^[0-9a-f]{64}$/.test(a.hash)) {
    throw new CliUsageError(`--anchor: ${file} must hold {"seq": <entry number>, "hash": "<64 hex digits>"}`, '--anchor');
  }
  return { seq: a.seq as number, hash: a.hash, ...(typeof a.at === 'number' ? { at: a.at } : {}) };
}

/** The `--write-anchor` file, once its folder is known to exist and be writable (else a usage error naming both). */
function checkAnchorTarget(file: string): string {
  const dir = dirname(file);
  let why: string | undefined;
  try {
    if (!statSync(dir).isDirectory()) why = `${dir} is not a directory`;
    else if (existsSync(file) && statSync(file).isDirectory()) why = 'it is a directory';
    else accessSync(dir, constants.W_OK);
  } catch (e) {
    why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? `no such directory ${dir}` : `cannot write in ${dir}`;
  }
  if (why !== undefined) throw new CliUsageError(`--write-anchor: ${file}: ${why}`, '--write-anchor');
  return file;
}

/** Writes the anchor whole or not at all (a temporary file renamed over the old one); a failure names `--write-anchor`. */
function writeAnchor(file: string, anchor: AuditAnchor): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(anchor)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new CliUsageError(`--write-anchor: ${file}: not written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, '--write-anchor');
  }
}
