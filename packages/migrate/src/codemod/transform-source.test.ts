import type { IfStatement } from '@babel/types';
import { LLMRouter } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { parseSource } from './parse-source.js';
import { transformFile } from './transform-file.js';

/**
 * JS/TS sources: removing v1 calls keeps the program's meaning, inserted text follows the file's line
 * endings, every v1 import form is converted or reported (never a v2 config under a v1 constructor),
 * call options and inline `type` modifiers survive, and tenant calls follow scope and the config's tenants.
 */
const v2 = { to: 2 as const, explicit: true };

describe('initialize() removal', () => {
  it('keeps the program valid when `router.initialize()` is the consequent of an if/else', () => {
    const input = "import LLMRouter from 'llm-runner-router';\nconst router = new LLMRouter({ models: ['mock://a'] });\nif (x) router.initialize(); else foo();\n";
    const r = transformFile('app.js', input, v2);
    expect(r.errors).toEqual([]);
    expect(() => parseSource('app.js', r.output)).not.toThrow();
    expect(r.output).toContain('if (x) {} else foo();');
  });

  it('does not make the next statement conditional when `await router.initialize()` is the body of an if', () => {
    const input = "import LLMRouter from 'llm-runner-router';\nconst router = new LLMRouter({ models: ['mock://a'] });\nif (!ready) await router.initialize();\nconsole.log('go');\n";
    const r = transformFile('app.mjs', input, v2);
    const ast = parseSource('app.mjs', r.output);
    const ifStmt = ast.program.body.find((s): s is IfStatement => s.type === 'IfStatement');
    expect(ifStmt).toBeDefined();
    // console.log('go') ran unconditionally before the codemod; it must not become the if's body.
    expect(r.output.slice(ifStmt!.consequent.start!, ifStmt!.consequent.end!)).toBe('{}');
  });

  it('still removes the whole line when the call is a statement of a block', () => {
    const input = "import LLMRouter from 'llm-runner-router';\nconst router = new LLMRouter({ models: ['mock://a'] });\nasync function start() {\n  await router.initialize();\n  return router;\n}\n";
    const r = transformFile('app.js', input, v2);
    expect(r.output).toContain('async function start() {\n  return router;\n}');
  });
});

describe('line endings', () => {
  it("writes the converted config, imports and tenant options with the file's CRLF line endings", () => {
    const input =
      "import LLMRouter, { quick } from 'llm-runner-router';\r\nconst router = new LLMRouter({\r\n  models: ['gpt-3.5', 'claude-3-opus'],\r\n  strategy: 'fallback',\r\n});\r\nrouter.generate('hi', {\r\n  temperature: 0,\r\n});\r\n";
    const r = transformFile('app.ts', input, { to: 3, tenant: 'acme', explicit: true });
    expect(r.changed).toBe(true);
    expect(r.output).toContain("import { LLMRouter } from '@llmrr/core';\r\nimport { quick } from 'llm-runner-router';\r\n");
    expect(r.output).toContain("{\r\n  tenant: 'acme',\r\n  temperature: 0,\r\n}");
    const bareLf = r.output.split('\r\n').join('').split('\n').length - 1;
    expect(bareLf).toBe(0);
  });
});

describe('v1 imports in other forms', () => {
  it('rewrites `require("llm-runner-router").default` to the LLMRouter of @llmrr/core, and the config with it', () => {
    const input = "const LLMRouter = require('llm-runner-router').default;\nconst router = new LLMRouter({ models: ['mock://a'], strategy: 'fallback' });\n";
    const r = transformFile('app.cjs', input, v2);
    expect(r.output).toContain("const LLMRouter = require('@llmrr/core').LLMRouter;");
    expect(r.output).toContain("routing: { strategy: 'priority' }");
    expect(r.skipped).toEqual([]);
  });

  it('reports `import LLMRouter = require("llm-runner-router")` and leaves the config of that v1 router as v1', () => {
    const input = "import LLMRouter = require('llm-runner-router');\nconst router = new LLMRouter({ models: ['mock://a'], strategy: 'fallback' });\n";
    const r = transformFile('app.cts', input, v2);
    expect(r.output).toBe(input);
    expect(r.skipped.map((s) => s.line)).toEqual([1, 2]);
    expect(r.skipped[0]!.reason).toContain('import LLMRouter = require("llm-runner-router")');
    expect(r.skipped[1]!.reason).toContain('still comes from "llm-runner-router"');
  });

  it('reports any other mention of the old package (a mock, a require used as an expression)', () => {
    const input = "import { LLMRouter } from 'llm-runner-router';\njest.mock('llm-runner-router');\nconst Old = new (require('llm-runner-router/legacy'))();\n";
    const r = transformFile('app.test.js', input, v2);
    expect(r.output).toContain("import { LLMRouter } from '@llmrr/core';");
    expect(r.output).toContain("jest.mock('llm-runner-router');");
    expect(r.skipped.map((s) => [s.line, s.reason.startsWith('"llm-runner-router')])).toEqual([
      [2, true],
      [3, true],
    ]);
  });

  it('converts the v1 call option `modelId` given as a shorthand property', () => {
    const input = "import LLMRouter from 'llm-runner-router';\nconst router = new LLMRouter({ models: ['mock://a'] });\nexport const ask = (q, modelId) => router.generate(q, { modelId });\n";
    const r = transformFile('app.js', input, v2);
    expect(r.output).toContain('router.generate(q, { model: modelId })');
  });

  it('keeps the inline `type` modifier of a specifier left imported from the old package', () => {
    const input = "import { LLMRouter, type RouterOptions } from 'llm-runner-router';\nconst router = new LLMRouter({ models: ['mock://a'] });\nexport const o: RouterOptions = {};\n";
    const r = transformFile('app.ts', input, v2);
    // `import { RouterOptions } from 'llm-runner-router'` is a value import of a type: an error under
    // verbatimModuleSyntax / isolatedModules (TS1484 / TS1205).
    expect(r.output).toContain("import { LLMRouter } from '@llmrr/core';\nimport { type RouterOptions } from 'llm-runner-router';\n");
  });
});

describe('tenant calls follow scope', () => {
  it('does not add { tenant } to calls on a different `router` (a shadowing parameter)', () => {
    const input =
      "import LLMRouter from 'llm-runner-router';\nconst router = new LLMRouter({ models: ['mock://a'] });\nexport function mount(router) {\n  return router.route('/chat');\n}\nexport const ask = (q) => router.generate(q);\n";
    const r = transformFile('app.js', input, { to: 3, tenant: 'acme', explicit: true });
    expect(r.output).toContain("router.route('/chat');");
    expect(r.output).toContain("router.generate(q, { tenant: 'acme' })");
  });

  it('matches `this.router` within the class that creates it only', () => {
    const input =
      "import { LLMRouter } from '@llmrr/core';\nclass Chat {\n  router = new LLMRouter({ version: 3, models: [{ name: 'a', engine: 'mock' }], tenants: [{ id: 'acme' }], defaultTenant: 'acme' });\n  ask(q) { return this.router.generate(q); }\n}\nclass Web {\n  mount() { return this.router.route('/'); }\n}\n";
    const r = transformFile('app.js', input, { to: 3, explicit: true });
    expect(r.output).toContain("this.router.generate(q, { tenant: 'acme' })");
    expect(r.output).toContain("this.router.route('/')");
  });
});

describe('--tenant on a file whose config is already v3', () => {
  it('gives calls the config\'s defaultTenant, reports the unknown --tenant, and the rewritten call is accepted', async () => {
    const config = { version: 3 as const, models: [{ name: 'a', engine: 'mock' }], tenants: [{ id: 'acme' }], defaultTenant: 'acme' };
    const input = `import { LLMRouter } from '@llmrr/core';\nconst router = new LLMRouter(${JSON.stringify(config).replace(/"/g, "'")});\nexport const ask = (q) => router.generate(q);\n`;
    const r = transformFile('app.js', input, { to: 3, tenant: 'globex', explicit: true });
    expect(r.issues.filter((i) => i.severity === 'warning').map((i) => i.message)).toEqual([expect.stringContaining('--tenant "globex" is not a tenant of this config')]);
    const tenant = /tenant: '([^']+)'/.exec(r.output)?.[1];
    expect(tenant).toBe('acme');
    // What the rewritten call does with the config left as it was:
    const router = new LLMRouter(config);
    try {
      await expect(router.generate('hi', { tenant })).resolves.toBeDefined();
    } finally {
      await router.close();
    }
  });

  it('uses --tenant when the config lists it', () => {
    const input = "import { LLMRouter } from '@llmrr/core';\nconst router = new LLMRouter({ version: 3, models: [{ name: 'a', engine: 'mock' }], tenants: [{ id: 'acme' }, { id: 'globex' }], defaultTenant: 'acme' });\nrouter.generate('q');\n";
    const r = transformFile('app.js', input, { to: 3, tenant: 'globex', explicit: true });
    expect(r.output).toContain("router.generate('q', { tenant: 'globex' })");
    expect(r.issues.filter((i) => i.severity !== 'info')).toEqual([]);
  });
});
