/**
 * Builds the benchmark's gateway process (gateway-bench-llmrr.ts) into one JavaScript file, so it runs
 * on plain `node` as a deployed gateway would: no TypeScript loader in the process (tsx keeps a loader
 * thread and every module's source map in memory: about 40 MB of RSS, and some CPU).
 *
 * The workspace packages (`@llmrr/*`, from their TypeScript sources) are bundled; every other package
 * stays an import of its installed file (native modules such as better-sqlite3 load as usual). The file
 * goes under node_modules/.cache, so the packages the bundle imports at run time by name (better-sqlite3,
 * loaded on demand by the stores) resolve from tools/bench's own dependencies.
 */
import { build, type Plugin } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Third-party imports stay imports, of the absolute file esbuild resolves (so they load from anywhere). */
const externalPackages: Plugin = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith('@llmrr/') || args.path.startsWith('node:') || args.pluginData === 'resolving') return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'resolving' });
      if (r.errors.length > 0 || r.path === '') return undefined;
      return { path: r.path, external: true };
    });
  },
};

/**
 * `createGateway` and `serveGateway` from another copy of the gateway's sources (`createUpstreamFetch`, which
 * an older copy may not have, still from this one).
 */
function gatewayFrom(src: string): Plugin {
  const current = join(here, '..', '..', 'packages', 'gateway', 'src');
  return {
    name: 'gateway-from',
    setup(b) {
      b.onResolve({ filter: /^@llmrr\/gateway$/ }, () => ({ path: join(src, 'index.ts') }));
      b.onResolve({ filter: /^@llmrr\/gateway\/node$/ }, () => ({ path: 'gateway-node', namespace: 'gateway-from' }));
      b.onLoad({ filter: /.*/, namespace: 'gateway-from' }, () => ({
        contents: `export { serveGateway } from ${JSON.stringify(join(src, 'node', 'index.ts'))};\nexport { createUpstreamFetch } from ${JSON.stringify(join(current, 'node', 'upstream-fetch.ts'))};\n`,
        resolveDir: here,
        loader: 'ts',
      }));
    },
  };
}

/**
 * `@llmrr/core`, `@llmrr/gateway` and `@llmrr/gateway/node` from other copies of both packages' `src`
 * directories (each placed where its third-party imports resolve, e.g. under that package's
 * node_modules/.cache).
 */
function packagesFrom(src: { core: string; gateway: string }): Plugin {
  return {
    name: 'packages-from',
    setup(b) {
      b.onResolve({ filter: /^@llmrr\/core$/ }, () => ({ path: join(src.core, 'index.ts') }));
      b.onResolve({ filter: /^@llmrr\/gateway$/ }, () => ({ path: join(src.gateway, 'index.ts') }));
      b.onResolve({ filter: /^@llmrr\/gateway\/node$/ }, () => ({ path: join(src.gateway, 'node', 'index.ts') }));
    },
  };
}

/**
 * Bundles `entry` (a file in tools/bench) and returns the path of the built `.mjs`. `gatewaySrc` swaps in
 * another copy of packages/gateway/src (e.g. an older commit's), for before/after comparisons in one run;
 * `packagesSrc` swaps in other copies of both core and gateway (see `packagesFrom`).
 */
export async function bundleForNode(entry: string, options: { gatewaySrc?: string; packagesSrc?: { core: string; gateway: string }; name?: string } = {}): Promise<string> {
  const outDir = join(here, 'node_modules', '.cache', 'llmrr-bench');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, options.name ?? entry.replace(/\.ts$/, '.mjs'));
  await build({
    entryPoints: [join(here, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@llmrr/source'],
    plugins: [...(options.gatewaySrc ? [gatewayFrom(options.gatewaySrc)] : []), ...(options.packagesSrc ? [packagesFrom(options.packagesSrc)] : []), externalPackages],
    logLevel: 'warning',
    // Some bundled CommonJS-style code may call require(); give ESM output a require of its own.
    banner: { js: "import { createRequire as __llmrrCreateRequire } from 'node:module'; const require = __llmrrCreateRequire(import.meta.url);" },
  });
  return outfile;
}
