import { parseArgs } from 'node:util';

export interface CliArgs {
  paths: string[];
  to: 2 | 3;
  tenant: string | undefined;
  mode: 'dry-run' | 'write' | 'check';
  models: string | undefined;
  verbose: boolean;
  quiet: boolean;
  help: boolean;
}

export const USAGE = `Usage: llmrr-migrate [paths...] [--to v2|v3] [--tenant <id>] [--dry-run | --write | --check]

Upgrades LLM-Runner-Router configs (JSON, YAML) and code (JS, TS) from v1 to v2 or v3.
Paths are files or folders (default: the current folder; node_modules, dist, build, coverage,
test-results and dot folders are skipped).

  --to v2|v3        target version (default v2)
  --tenant <id>     v3: the tenant added to configs and given to router calls (default: "default")
  --dry-run         print a unified diff of what would change; write nothing (the default)
  --write           write the changes
  --check           list the files that need changes; exit 1 if any, or if some place
                    could not be converted
  --models <file>   JSON table of extra legacy model names: { "old-name": "new-name" | { "name", "engine", "preset" } }
  --verbose         also print what each conversion did (info)
  --quiet           print only errors and what could not be converted
  -h, --help        this text

Exit codes: 0 done (or nothing to do), 1 changes needed (--check), 2 errors (nothing was written).`;

export class UsageError extends Error {}

export function parseCliArgs(argv: readonly string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        to: { type: 'string' },
        tenant: { type: 'string' },
        'dry-run': { type: 'boolean' },
        write: { type: 'boolean' },
        check: { type: 'boolean' },
        models: { type: 'string' },
        verbose: { type: 'boolean' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  const toRaw = (v.to ?? 'v2').toLowerCase().replace(/^v/, '');
  if (toRaw !== '2' && toRaw !== '3') throw new UsageError(`--to must be v2 or v3, got "${v.to}"`);
  const modes = (['dry-run', 'write', 'check'] as const).filter((m) => v[m]);
  if (modes.length > 1) throw new UsageError(`choose one of --dry-run, --write, --check (got ${modes.map((m) => `--${m}`).join(' and ')})`);
  if (v.tenant !== undefined && toRaw !== '3') throw new UsageError('--tenant only applies with --to v3');
  return {
    paths: parsed.positionals.length ? parsed.positionals : ['.'],
    to: toRaw === '3' ? 3 : 2,
    tenant: v.tenant,
    mode: modes[0] ?? 'dry-run',
    models: v.models,
    verbose: v.verbose ?? false,
    quiet: v.quiet ?? false,
    help: v.help ?? false,
  };
}
