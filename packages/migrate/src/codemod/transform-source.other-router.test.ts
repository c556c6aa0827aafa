import { describe, expect, it } from 'vitest';
import { transformFile } from './transform-file.js';

/**
 * README: "A `new LLMRouter` the file does not import (a global) is converted". A `LLMRouter` imported from another
 * module (a local wrapper, another library) or declared in the file is bound: its config is that module's or that
 * code's business, so the codemod leaves it alone (an info issue says where it comes from).
 */
describe('new LLMRouter bound to something other than llm-runner-router', () => {
  const input = [
    "import { LLMRouter } from 'other-llm-lib';",
    '',
    "const router = new LLMRouter({ models: ['gpt-3.5', 'claude-instant'], strategy: 'fastest', timeout: 5000 });",
    "const answer = await router.generate('hi');",
    '',
  ].join('\n');

  it('--to v2 leaves its config alone and says why', () => {
    const r = transformFile('src/app.ts', input, { to: 2 });
    expect({ errors: r.errors, skipped: r.skipped, output: r.output }).toEqual({ errors: [], skipped: [], output: input });
    expect(r.issues.map((i) => `${i.severity}: ${i.message}`)).toEqual(['info: new LLMRouter(...): LLMRouter comes from "other-llm-lib", not llm-runner-router: left alone']);
  });

  it('--to v3 adds no { tenant } to calls on it', () => {
    const r = transformFile('src/app.ts', input, { to: 3, tenant: 'acme' });
    expect(r.output).toBe(input);
  });

  it('a class LLMRouter declared in the file is left alone too', () => {
    const local = ['class LLMRouter { constructor(readonly config: unknown) {} }', "const router = new LLMRouter({ models: ['gpt-3.5'], strategy: 'fastest' });", ''].join('\n');
    const r = transformFile('src/local.ts', local, { to: 2 });
    expect({ errors: r.errors, skipped: r.skipped, output: r.output }).toEqual({ errors: [], skipped: [], output: local });
  });

  it('a global LLMRouter (no import, no declaration) is still converted', () => {
    const global = "const router = new LLMRouter({ models: ['mock://a'], strategy: 'fallback' });\n";
    const r = transformFile('src/global.ts', global, { to: 2 });
    expect(r.errors).toEqual([]);
    expect(r.output).toContain("routing: { strategy: 'priority' }");
  });
});
