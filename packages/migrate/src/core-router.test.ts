import { readFileSync } from 'node:fs';
import { LLMRouter, type RouterConfigInput, type StrategyContext } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { parseSource } from './codemod/parse-source.js';
import { staticValue, unwrap } from './codemod/static-value.js';
import { walk } from './codemod/walk.js';
import { configOf, listFixtures } from './__fixtures__/fixture-cases.js';
import { migrate } from './library/migrate.js';
import { isCurrentStrategy } from './library/strategy-names.js';
import { isPlainObject } from './library/plain.js';

/**
 * Cross-package check: every config a fixture migrates to (config files, and the literal configs of the
 * converted sources) is accepted by the core router itself, `new LLMRouter(config)`. Engines other than
 * `mock` get factories that are never called (engines are created on first use; this checks the config,
 * not provider access), and custom strategy names a migration kept get a trivial strategy, as the
 * migration report tells users to register.
 */
function routerFor(config: Record<string, unknown>): LLMRouter {
  const models = [...(Array.isArray(config.models) ? config.models : [])].filter(isPlainObject);
  const engines = new Set(models.map((m) => (typeof m.engine === 'string' ? m.engine : 'openai-compatible')).filter((e) => e !== 'mock'));
  const never = () => {
    throw new Error('not called: this test only constructs routers');
  };
  const strategy = isPlainObject(config.routing) && typeof config.routing.strategy === 'string' ? config.routing.strategy : 'balanced';
  return new LLMRouter(config as RouterConfigInput, {
    engineFactories: Object.fromEntries([...engines].map((e) => [e, never])),
    ...(isCurrentStrategy(strategy) || strategy === 'fallback' ? {} : { strategies: { [strategy]: { name: strategy, rank: (ctx: StrategyContext) => ctx.candidates.map((deployment) => ({ deployment })) } } }),
  });
}

/** Literal `new LLMRouter({...})` configs in converted source, read back as values. */
function sourceConfigs(file: string, text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const ast = parseSource(file, text);
  const literals = new Map<string, unknown>();
  walk(ast.program, (node) => {
    if (node.type === 'VariableDeclarator' && node.id.type === 'Identifier' && node.init) literals.set(node.id.name, unwrap(node.init));
  });
  walk(ast.program, (node) => {
    if (node.type !== 'NewExpression' || node.arguments.length !== 1) return;
    let arg = unwrap(node.arguments[0]!);
    if (arg.type === 'Identifier' && literals.has(arg.name)) arg = literals.get(arg.name) as typeof arg;
    if (arg.type !== 'ObjectExpression') return;
    const read = staticValue(arg);
    if (read.ok && isPlainObject(read.value) && (read.value.version === 2 || read.value.version === 3)) out.push(read.value);
  });
  return out;
}

describe('migrated fixtures are accepted by the core router', () => {
  for (const c of listFixtures()) {
    const text = readFileSync(c.outputFile, 'utf8');
    const file = c.outputFile.slice(c.dir.length + 1);
    const configs = configOf(file, text) !== undefined ? [configOf(file, text) as Record<string, unknown>] : sourceConfigs(file, text);
    if (configs.length === 0) continue;
    it(`${c.group}/${c.name}: new LLMRouter(config) (${configs.length} config${configs.length > 1 ? 's' : ''})`, async () => {
      for (const config of configs) {
        const router = routerFor(config);
        expect(router.routerConfig.version).toBe(c.options.to);
        await router.close();
      }
    });
  }

  it('a migrated v1 config answers through the mock engine for its tenant', async () => {
    const { config } = migrate({ models: ['mock://backup'], strategy: 'fallback' }, { to: 3, tenant: 'team-a' });
    const router = new LLMRouter(config);
    const result = await router.generate('hello', { tenant: 'team-a' });
    expect(result.text).toBe('Mock answer to: hello');
    expect(result.deployment).toBe('backup');
    await router.close();
  });
});
