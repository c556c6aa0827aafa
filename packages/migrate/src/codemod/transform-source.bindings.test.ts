import type { VariableDeclaration } from '@babel/types';
import { describe, expect, it } from 'vitest';
import { parseSource } from './parse-source.js';
import { transformFile } from './transform-file.js';

/**
 * Which router a `new LLMRouter` and a call belong to: a v1 import form the codemod only reports (dynamic
 * import, namespace import, `X = require(...)`, `jest.mock(...)`) keeps its router's config v1; `this.router`
 * is the class's only where `this` is its instance (not in a `function`, an object method or a static
 * member); a TypeScript namespace is a scope; removing `initialize()` never joins two statements into one.
 */
const v1Config = "{ models: ['mock://a'], strategy: 'fallback' }";

describe('v1 constructors the codemod does not convert keep their v1 config', () => {
  it('dynamic import: `const { default: LLMRouter } = await import("llm-runner-router")` is reported, and its router stays v1', () => {
    const input = `const { default: LLMRouter } = await import('llm-runner-router');\nconst router = new LLMRouter(${v1Config});\nawait router.initialize();\n`;
    const r = transformFile('app.mjs', input, { to: 2, explicit: true });
    // The import is reported and left as is: LLMRouter is still the v1 class ...
    expect(r.output).toContain("await import('llm-runner-router')");
    // ... so its config must stay v1 and its initialize() must stay (a v1 router needs it).
    expect(r.output).toBe(input);
  });

  it('`import LLMRouter, * as v1 from "llm-runner-router"` is reported, and its router stays v1', () => {
    const input = `import LLMRouter, * as v1 from 'llm-runner-router';\nconst router = new LLMRouter(${v1Config});\nawait router.initialize();\n`;
    const r = transformFile('app.mjs', input, { to: 2, explicit: true });
    expect(r.output).toContain("import LLMRouter, * as v1 from 'llm-runner-router';");
    expect(r.output).toBe(input);
  });

  it('`LLMRouter = require("llm-runner-router")` as an assignment is reported, and its router stays v1', () => {
    const input = `let LLMRouter;\nLLMRouter = require('llm-runner-router');\nconst router = new LLMRouter(${v1Config});\nrouter.initialize();\n`;
    const r = transformFile('app.cjs', input, { to: 2, explicit: true });
    expect(r.output).toContain("LLMRouter = require('llm-runner-router');");
    expect(r.output).toBe(input);
  });

  it('a v1 use whose names the codemod cannot tell (`jest.mock`, `import(...).then`) leaves an unimported `new LLMRouter` as v1, reported', () => {
    for (const use of ["jest.mock('llm-runner-router');", "import('llm-runner-router').then((m) => m.default);"]) {
      const input = `${use}\nconst router = new LLMRouter(${v1Config});\nawait router.initialize();\n`;
      const r = transformFile('app.test.mjs', input, { to: 2, explicit: true });
      expect(r.output).toBe(input);
      expect(r.skipped.map((s) => s.reason)).toContainEqual(expect.stringMatching(/^new LLMRouter\(\.\.\.\): LLMRouter is not imported here/));
    }
    // With no use of the old package, an unimported LLMRouter (a global, a setup file's import) is converted.
    const global = `const router = new LLMRouter(${v1Config});\n`;
    expect(transformFile('app.mjs', global, { to: 2, explicit: true }).output).toContain('version: 2');
  });
});

const v3Router = "new LLMRouter({ version: 3, models: [{ name: 'a', engine: 'mock' }], tenants: [{ id: 'acme' }], defaultTenant: 'acme' })";

describe('tenant calls follow scope (this, namespaces)', () => {
  it('`this.router` inside a `function` (or an object method) within the class is not the class instance: no { tenant }', () => {
    const input = `import { LLMRouter } from '@llmrr/core';\nclass Chat {\n  router = ${v3Router};\n  mount(app) {\n    app.use(function () { return this.router.route('/x'); });\n    app.get(() => this.router.generate('q'));\n    return { router: app.router, add() { return this.router.route('/chat'); } };\n  }\n}\n`;
    const r = transformFile('app.js', input, { to: 3, explicit: true });
    expect(r.output).toContain("return this.router.route('/x');");
    expect(r.output).toContain("return this.router.route('/chat');");
    // An arrow function has no `this` of its own: there it is the instance.
    expect(r.output).toContain("app.get(() => this.router.generate('q', { tenant: 'acme' }));");
  });

  it('a static router is the class\'s own: its static methods\' calls get { tenant }, instance methods\' do not', () => {
    const input = `import { LLMRouter } from '@llmrr/core';\nclass Chat {\n  static router = ${v3Router};\n  static ask(q) { return this.router.generate(q); }\n  send(q) { return this.router.send(q) && this.router.route(q); }\n}\n`;
    const r = transformFile('app.js', input, { to: 3, explicit: true });
    expect(r.output).toContain("static ask(q) { return this.router.generate(q, { tenant: 'acme' }); }");
    expect(r.output).toContain('send(q) { return this.router.send(q) && this.router.route(q); }');
  });

  it('a `router` declared inside a TypeScript namespace shadows the module\'s router: no { tenant }', () => {
    const input = `import { LLMRouter } from '@llmrr/core';\nconst router = ${v3Router};\nnamespace Web {\n  const router = makeExpressRouter();\n  router.route('/chat');\n}\nexport const ask = (q: string) => router.generate(q);\n`;
    const r = transformFile('app.ts', input, { to: 3, explicit: true });
    expect(r.output).toContain("export const ask = (q: string) => router.generate(q, { tenant: 'acme' });");
    expect(r.output).toContain("  router.route('/chat');\n");
  });

  it('a `var router` in a namespace stays in it, and the namespace\'s own name is declared outside', () => {
    const input = `import { LLMRouter } from '@llmrr/core';\nconst router = ${v3Router};\nnamespace Web {\n  if (ready) { var router = makeExpressRouter(); }\n  router.route('/chat');\n}\nrouter.route('/api');\n`;
    const r = transformFile('app.ts', input, { to: 3, explicit: true });
    expect(r.output).toContain("  router.route('/chat');\n");
    expect(r.output).toContain("router.route('/api', { tenant: 'acme' });");
  });
});

describe('initialize() removal in semicolon-less code', () => {
  it('keeps the leading `;` that separates the next statement from the router declaration (standard style)', () => {
    const input = "import LLMRouter from 'llm-runner-router'\nconst router = new LLMRouter({ models: ['mock://a'] })\nawait router.initialize()\n;[1, 2].forEach((n) => console.log(n))\n";
    const r = transformFile('app.mjs', input, { to: 2, explicit: true });
    expect(r.errors).toEqual([]);
    const ast = parseSource('app.mjs', r.output);
    const decl = ast.program.body.find((s): s is VariableDeclaration => s.type === 'VariableDeclaration')!;
    // Before: `router` is the new router, and the array is iterated by a statement of its own.
    expect(decl.declarations[0]!.init?.type).toBe('NewExpression');
    expect(ast.program.body.filter((s) => s.type === 'ExpressionStatement')).toHaveLength(1);
  });

  it('keeps a `;` when the removed statement\'s own `;` separated a semicolon-less line from one starting with [ or (', () => {
    const input = "import LLMRouter from 'llm-runner-router'\nconst router = new LLMRouter({ models: ['mock://a'] })\nawait router.initialize();\n[1, 2].forEach((n) => console.log(n))\n";
    const r = transformFile('app.mjs', input, { to: 2, explicit: true });
    const ast = parseSource('app.mjs', r.output);
    const decl = ast.program.body.find((s): s is VariableDeclaration => s.type === 'VariableDeclaration')!;
    expect(decl.declarations[0]!.init?.type).toBe('NewExpression');
    expect(ast.program.body.filter((s) => s.type === 'ExpressionStatement')).toHaveLength(1);
    expect(r.output).not.toContain('initialize');
    // With semicolons, the line simply goes.
    const semis = "import LLMRouter from 'llm-runner-router';\nconst router = new LLMRouter({ models: ['mock://a'] });\nawait router.initialize();\n[1, 2].forEach((n) => console.log(n));\n";
    expect(transformFile('app.mjs', semis, { to: 2, explicit: true }).output).toMatch(/\}\);\n\[1, 2\]\.forEach/);
  });
});
