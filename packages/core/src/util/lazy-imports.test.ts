import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT as repo, runtimeSources } from '../test/runtime-sources.test-helpers.js';

// Packages that a router configured by an object (the gateway server's embedded default) never uses: the config
// file parsers, the ONNX engine's tokenizer and the address checks of Gemini's image download. Each is imported
// where it is needed (`await import(...)`), never at the top of a runtime source: a static import loads it into
// every process (a bundler hoists it too), and the four together held 5-11 MB of the benchmark gateway's idle
// resident memory (docs/benchmarks.md).
const LAZY = ['yaml', 'jsonc-parser', 'ipaddr.js', '@huggingface/tokenizers'];

/** Static value imports and re-exports (`import type` and `export type` load nothing at run time). */
function staticImports(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/^\s*(import|export)\s+(?!type\s)([^;]*?)\s+from\s+'([^']+)'/gms)) found.push(m[3]!);
  for (const m of source.matchAll(/^\s*import\s+'([^']+)'/gm)) found.push(m[1]!);
  return found;
}

describe('packages the default configuration does not use', () => {
  it('finds static imports (a check of the check)', () => {
    expect(staticImports("import { parseDocument } from 'yaml';\nimport type { Document } from 'yaml';\nexport { x } from 'ipaddr.js';\nimport 'jsonc-parser';")).toEqual(['yaml', 'ipaddr.js', 'jsonc-parser']);
    expect(staticImports("const m = await import('yaml');\nimport type { Node } from 'jsonc-parser';")).toEqual([]);
  });

  it('are imported on first use only, in core, the gateway and the gateway server', () => {
    const files = ['packages/core/src', 'packages/gateway/src', 'apps/gateway-server/src'].flatMap((dir) => runtimeSources(join(repo, dir)));
    expect(files.length).toBeGreaterThan(100);
    const offending = files.flatMap((file) =>
      staticImports(readFileSync(file, 'utf8'))
        .filter((specifier) => LAZY.includes(specifier))
        .map((specifier) => `${relative(repo, file)}: ${specifier}`),
    );
    expect(offending).toEqual([]);
  });
});
