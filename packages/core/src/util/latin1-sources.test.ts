import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT as repo, runtimeSources } from '../test/runtime-sources.test-helpers.js';

// V8 keeps a script's source text in memory, one byte per character when every character is Latin-1 and two
// bytes for all of it otherwise. One "…" in a comment doubles a whole bundle's source in the heap (the gateway
// benchmark's bundle: 0.76 -> 1.48 MB live), so runtime sources stay Latin-1 (write "...", "theta", "\u20ac").

describe('runtime sources', () => {
  it('are Latin-1 only, so V8 stores their text one byte per character', () => {
    const files = ['packages', 'apps'].flatMap((top) =>
      readdirSync(join(repo, top), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .flatMap((d) => {
          try {
            return runtimeSources(join(repo, top, d.name, 'src'), { tsx: true });
          } catch {
            return [];
          }
        }),
    );
    expect(files.length).toBeGreaterThan(100);
    const offending = files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (/[^\u0000-\u00ff]/.test(line) ? [`${relative(repo, file)}:${i + 1}: ${line.trim().slice(0, 80)}`] : [])),
    );
    expect(offending).toEqual([]);
  });
});
