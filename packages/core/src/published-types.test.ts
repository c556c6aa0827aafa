/**
 * The published declarations (`dist/**\/*.d.ts`) type-check in a consumer that has only the package's runtime
 * dependencies: no optional peer (`onnxruntime-node`, `@opentelemetry/api`, ...) and no `skipLibCheck`. An exported
 * declaration importing an optional peer fails such a consumer with TS2307 (the onnx engine's and the OpenTelemetry
 * instrumentation's now use local structural types). Needs a fresh `pnpm build` (Nx builds before typecheck, not
 * before test): skipped, saying so, when `dist` is absent or older than `src`.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const dist = join(packageDir, 'dist');

/** The newest modification time of the files under `dir` whose name passes `keep`. */
function newest(dir: string, keep: (name: string) => boolean): number {
  let max = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) max = Math.max(max, newest(p, keep));
    else if (keep(e.name)) max = Math.max(max, statSync(p).mtimeMs);
  }
  return max;
}

/** Why the check cannot run (no build, or one older than the sources), else undefined. */
function staleDist(): string | undefined {
  if (!existsSync(join(dist, 'index.d.ts'))) return 'dist/index.d.ts is absent: run `pnpm build` in packages/core first';
  const source = newest(join(packageDir, 'src'), (n) => n.endsWith('.ts') && !n.includes('.test'));
  if (newest(dist, (n) => n.endsWith('.d.ts')) < source) return 'dist is older than src: run `pnpm build` in packages/core first';
  return undefined;
}

/** Copies the `.d.ts` files of `from` to `to` (copies, not links: a link would resolve imports next to the real files, where the peers are). */
function copyDeclarations(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    if (e.isDirectory()) copyDeclarations(join(from, e.name), join(to, e.name));
    else if (e.name.endsWith('.d.ts')) copyFileSync(join(from, e.name), join(to, e.name));
  }
}

/** Links `name` (as installed for this package) into `nodeModules`. */
function linkInstalled(nodeModules: string, name: string): void {
  const target = join(nodeModules, name);
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(realpathSync(join(packageDir, 'node_modules', name)), target, 'dir');
}

describe('published declarations', () => {
  it('an app importing LLMRouter type-checks with only the runtime dependencies installed (tsc --strict, no skipLibCheck)', { timeout: 120_000 }, ({ skip }) => {
    const why = staleDist();
    if (why) skip(why);
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { name: string; dependencies?: Record<string, string> };
    const app = mkdtempSync(join(tmpdir(), 'llmrr-consumer-'));
    try {
      const nodeModules = join(app, 'node_modules');
      const installed = join(nodeModules, ...manifest.name.split('/'));
      copyDeclarations(dist, join(installed, 'dist'));
      copyFileSync(join(packageDir, 'package.json'), join(installed, 'package.json'));
      for (const dep of Object.keys(manifest.dependencies ?? {})) linkInstalled(nodeModules, dep);
      // A Node app has Node's types; the optional peers are what it may lack.
      linkInstalled(nodeModules, '@types/node');
      writeFileSync(join(app, 'package.json'), JSON.stringify({ type: 'module' }));
      writeFileSync(
        join(app, 'app.ts'),
        [
          `import { LLMRouter, instrumentRouter } from '${manifest.name}';`,
          `const router = new LLMRouter({ models: [{ name: 'm', engine: 'mock' }] });`,
          `const { text } = await router.generate('hi');`,
          `console.log(text, typeof instrumentRouter);`,
        ].join('\n'),
      );
      const tsc = createRequire(join(packageDir, 'package.json')).resolve('typescript/bin/tsc');
      const r = spawnSync(process.execPath, [tsc, '--strict', '--module', 'nodenext', '--target', 'es2022', '--noEmit', 'app.ts'], {
        cwd: app,
        encoding: 'utf8',
        timeout: 100_000,
      });
      expect({ status: r.status, output: `${r.stdout}${r.stderr}`.trim() }).toEqual({ status: 0, output: '' });
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });
});
