import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LLMError } from '../errors/index.js';
import { CONFIG_ENV, loadConfig, loadConfigDetailed } from './load.js';
import { parseModelsShorthand } from './load-env.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llmrr-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, content);
  return path;
}

async function failure(p: Promise<unknown>): Promise<LLMError> {
  try {
    await p;
  } catch (e) {
    if (LLMError.isInstance(e)) {
      expect(e.code).toBe('config_invalid');
      return e;
    }
    throw e;
  }
  throw new Error('expected loadConfig to fail');
}

const YAML = `# a comment
models:
  - name: fast
    engine: mock
  - name: smart
    engine: openai-compatible
    model: gpt-4o
    apiKey: \${OPENAI_KEY}
routing:
  strategy: priority
  fallbacks: [fast]
`;
const JSON_CFG = JSON.stringify({ models: [{ name: 'a', engine: 'mock' }, { name: 'b', engine: 'mock' }], routing: { strategy: 'random' } }, null, 2);
const env = { OPENAI_KEY: 'sk-test' };

describe('loadConfig sources', () => {
  it('takes an object, applying defaults, without interpolation', async () => {
    const input = { models: [{ name: 'm', engine: 'mock', apiKey: '${NOT_TOUCHED}' }] };
    const cfg = await loadConfig(input, { env: {}, cwd: dir });
    expect(cfg.models[0]).toMatchObject({ name: 'm', engine: 'mock', apiKey: '${NOT_TOUCHED}', priority: 100 });
    expect(cfg.routing.strategy).toBe('balanced');
    expect(cfg.modelsDir).toBeUndefined();
    expect(input.models[0]).toEqual({ name: 'm', engine: 'mock', apiKey: '${NOT_TOUCHED}' });
  });

  it('reads a YAML file by path relative to cwd, with ${VAR} interpolation', async () => {
    await write('conf/router.yaml', YAML);
    const loaded = await loadConfigDetailed('conf/router.yaml', { env, cwd: dir });
    expect(loaded.file).toBe(join(dir, 'conf/router.yaml'));
    expect(loaded.source).toBe(join(dir, 'conf/router.yaml'));
    expect(loaded.config.models.map((m) => m.name)).toEqual(['fast', 'smart']);
    expect(loaded.config.models[1]?.apiKey).toBe('sk-test');
    expect(loaded.config.routing).toMatchObject({ strategy: 'priority', fallbacks: ['fast'] });
  });

  it('reads .yml and .json files', async () => {
    await write('c.yml', YAML);
    expect((await loadConfig(join(dir, 'c.yml'), { env, cwd: '/' })).models).toHaveLength(2);
    await write('c.json', JSON_CFG);
    expect((await loadConfig('c.json', { env: {}, cwd: dir })).routing.strategy).toBe('random');
  });

  it('applies YAML merge keys (<<: *defaults), the keys of the model winning, with ${VAR} interpolation in merged values', async () => {
    await write(
      'merge.yaml',
      'x-defaults: &defaults\n  engine: openai-compatible\n  baseURL: http://127.0.0.1:1/v1\n  apiKey: ${KEY}\n  priority: 5\nmodels:\n  - <<: *defaults\n    name: a\n  - <<: *defaults\n    name: b\n    priority: 1\n',
    );
    const config = await loadConfig('merge.yaml', { env: { KEY: 'sk-merged' }, cwd: dir });
    expect(config.models.map((m) => [m.name, m.engine, m.apiKey, m.priority])).toEqual([
      ['a', 'openai-compatible', 'sk-merged', 5],
      ['b', 'openai-compatible', 'sk-merged', 1],
    ]);
  });

  it.each([
    ['a scalar', 'models:\n  - name: m\n    engine: mock\n    <<: 5\n', 4],
    ['an alias of a sequence', 'x: &list [1, 2]\nmodels:\n  - name: m\n    engine: mock\n    <<: *list\n', 5],
    ['a list holding a scalar', 'x: &d { engine: mock }\nmodels:\n  - name: m\n    <<: [*d, 3]\n', 4],
  ])('refuses a merge key whose source is %s as config_invalid naming the file and the line of the key', async (_what, text, line) => {
    await write('merge-bad.yaml', text);
    const e = await failure(loadConfig('merge-bad.yaml', { env: {}, cwd: dir }));
    expect(e.code).toBe('config_invalid');
    expect(e.message).toMatch(new RegExp(`^Invalid YAML in .*merge-bad\\.yaml at line ${line}, column 5: a merge key \\(<<\\) takes a map, an alias of a map, or a list of them$`));
  });

  it('takes 999 models merging one defaults map; an anchor aliased 1000 times is refused as config_invalid naming the file', async () => {
    const models = (n: number) => `x-defaults: &d\n  engine: mock\nmodels:\n${Array.from({ length: n }, (_, i) => `  - <<: *d\n    name: m${i}\n`).join('')}`;
    await write('merge-many.yaml', models(999));
    expect((await loadConfig('merge-many.yaml', { env: {}, cwd: dir })).models).toHaveLength(999);
    await write('merge-too-many.yaml', models(1000));
    const e = await failure(loadConfig('merge-too-many.yaml', { env: {}, cwd: dir }));
    expect(e.code).toBe('config_invalid');
    expect(e.message).toMatch(/^Invalid YAML in .*merge-too-many\.yaml: an anchor is aliased 1000 times or more/);
  });

  it('refuses a small file whose aliases expand it a thousandfold (20 million values) as config_invalid naming the file', async () => {
    // Each anchor is aliased less than 1000 times: only the expanded size tells (the copies took seconds and 170 MB).
    const text = `models: [{ name: m, engine: mock }]\nextra:\n  a0: &a0 [${Array(20_000).fill('x').join(',')}]\n  a1: [${Array(999).fill('*a0').join(', ')}]\n`;
    expect(text.length).toBeLessThan(50_000);
    await write('bomb.yaml', text);
    const e = await failure(loadConfig('bomb.yaml', { env: {}, cwd: dir }));
    expect(e.message).toMatch(/^Invalid YAML in .*bomb\.yaml: its aliases expand it to more than 1000000 values: refused as a possible alias bomb$/);
  });

  it('accepts a UTF-8 byte order mark', async () => {
    await write('bom.json', `\uFEFF${JSON_CFG}`);
    expect((await loadConfig('bom.json', { env: {}, cwd: dir })).models).toHaveLength(2);
  });

  it('uses LLM_ROUTER_CONFIG (a path) when no source is given', async () => {
    await write('elsewhere/x.yaml', YAML);
    const cfg = await loadConfig(undefined, { env: { ...env, [CONFIG_ENV.CONFIG]: 'elsewhere/x.yaml' }, cwd: dir });
    expect(cfg.routing.strategy).toBe('priority');
  });

  it('uses LLM_ROUTER_CONFIG_JSON, with interpolation', async () => {
    const json = JSON.stringify({ models: [{ name: 'm', engine: 'mock', options: { reply: '${GREETING:-hello}' } }] });
    const loaded = await loadConfigDetailed(undefined, { env: { [CONFIG_ENV.CONFIG_JSON]: json }, cwd: dir });
    expect(loaded.source).toBe('LLM_ROUTER_CONFIG_JSON');
    expect(loaded.config.models[0]?.options).toEqual({ reply: 'hello' });
    expect(loaded.config.modelsDir).toBeUndefined();
  });

  it.each(['llmrr.config.json', 'llmrr.config.yaml', 'llmrr.config.yml'])('finds %s in cwd', async (name) => {
    await write(name, name.endsWith('.json') ? JSON_CFG : YAML);
    const loaded = await loadConfigDetailed(undefined, { env, cwd: dir });
    expect(loaded.file).toBe(join(dir, name));
  });

  it('refuses to guess between several config files in cwd', async () => {
    await write('llmrr.config.json', JSON_CFG);
    await write('llmrr.config.yaml', YAML);
    const e = await failure(loadConfig(undefined, { env, cwd: dir }));
    expect(e.message).toContain('llmrr.config.json, llmrr.config.yaml');
  });

  it('refuses both LLM_ROUTER_CONFIG and LLM_ROUTER_CONFIG_JSON', async () => {
    const e = await failure(loadConfig(undefined, { env: { [CONFIG_ENV.CONFIG]: 'a.json', [CONFIG_ENV.CONFIG_JSON]: '{}' }, cwd: dir }));
    expect(e.message).toContain('set only one');
  });

  it('builds a config from LLM_ROUTER_MODELS alone', async () => {
    const loaded = await loadConfigDetailed(undefined, { env: { [CONFIG_ENV.MODELS]: 'mock, gpt4o=openai-compatible:gpt-4o' }, cwd: dir });
    expect(loaded.source).toBe('env');
    expect(loaded.config.models.map((m) => [m.name, m.engine, m.model])).toEqual([
      ['mock', 'mock', undefined],
      ['gpt4o', 'openai-compatible', 'gpt-4o'],
    ]);
  });

  it('says where it looked when there is no config at all', async () => {
    const e = await failure(loadConfig(undefined, { env: {}, cwd: dir }));
    expect(e.message).toContain('No config found');
    expect(e.message).toContain(dir);
    expect(e.message).toContain('LLM_ROUTER_CONFIG');
  });

  it('treats empty env values as unset', async () => {
    await write('llmrr.config.json', JSON_CFG);
    const cfg = await loadConfig(undefined, { env: { [CONFIG_ENV.CONFIG]: '', [CONFIG_ENV.STRATEGY]: '  ', [CONFIG_ENV.CACHE]: '' }, cwd: dir });
    expect(cfg.routing.strategy).toBe('random');
  });
});

describe('modelsDir and relative paths', () => {
  it('defaults modelsDir to the config file directory', async () => {
    await write('sub/llmrr.config.yaml', 'models:\n  - { name: local, engine: gguf, path: ./models/tiny.gguf }\n');
    const cfg = await loadConfig('sub/llmrr.config.yaml', { env: {}, cwd: dir });
    expect(cfg.modelsDir).toBe(join(dir, 'sub'));
    expect(cfg.models[0]?.path).toBe('./models/tiny.gguf');
  });

  it('resolves a relative modelsDir against the file directory, keeps an absolute one', async () => {
    await write('sub/a.yaml', 'modelsDir: ../weights\nmodels: [{ name: m, engine: mock }]\n');
    expect((await loadConfig('sub/a.yaml', { env: {}, cwd: dir })).modelsDir).toBe(join(dir, 'weights'));
    await write('sub/b.yaml', 'modelsDir: /opt/models\nmodels: [{ name: m, engine: mock }]\n');
    expect((await loadConfig(join(dir, 'sub/b.yaml'), { env: {} })).modelsDir).toBe('/opt/models');
  });
});

describe('environment overrides', () => {
  const base = { models: [{ name: 'a', engine: 'mock' }, { name: 'b', engine: 'mock' }] };

  it('applies each LLM_ROUTER_* variable', async () => {
    const loaded = await loadConfigDetailed(base, {
      env: {
        [CONFIG_ENV.STRATEGY]: 'cost-optimized',
        [CONFIG_ENV.FALLBACKS]: ' b , a ,',
        [CONFIG_ENV.RETRIES]: '5',
        [CONFIG_ENV.TIMEOUT_MS]: '30000',
        [CONFIG_ENV.FIRST_TOKEN_TIMEOUT_MS]: '1500',
        [CONFIG_ENV.CACHE]: 'true',
      },
      cwd: dir,
    });
    const { routing, cache } = loaded.config;
    expect(routing.strategy).toBe('cost-optimized');
    expect(routing.fallbacks).toEqual(['b', 'a']);
    expect(routing.retries.max).toBe(5);
    expect(routing.retries.initialDelayMs).toBe(250);
    expect(routing.timeouts).toEqual({ totalMs: 30_000, firstTokenMs: 1_500 });
    expect(cache.exact.enabled).toBe(true);
    expect(cache.exact.maxEntries).toBe(1_000);
    expect(loaded.overrides.map((o) => o.env)).toEqual([
      'LLM_ROUTER_STRATEGY',
      'LLM_ROUTER_FALLBACKS',
      'LLM_ROUTER_RETRIES',
      'LLM_ROUTER_TIMEOUT_MS',
      'LLM_ROUTER_FIRST_TOKEN_TIMEOUT_MS',
      'LLM_ROUTER_CACHE',
    ]);
  });

  it('overrides file values and keeps the rest of the section', async () => {
    await write('c.yaml', 'models: [{ name: a, engine: mock }]\nrouting:\n  strategy: random\n  retries: { max: 1, initialDelayMs: 10 }\ncache:\n  exact: { enabled: true, ttlMs: 5000 }\n');
    const cfg = await loadConfig('c.yaml', { env: { [CONFIG_ENV.RETRIES]: '0', [CONFIG_ENV.CACHE]: 'off' }, cwd: dir });
    expect(cfg.routing.strategy).toBe('random');
    expect(cfg.routing.retries).toMatchObject({ max: 0, initialDelayMs: 10 });
    expect(cfg.cache.exact).toMatchObject({ enabled: false, ttlMs: 5000 });
  });

  it.each([
    ['1', true],
    ['yes', true],
    ['ON', true],
    ['0', false],
    ['no', false],
    ['False', false],
  ])('LLM_ROUTER_CACHE=%s -> %s', async (value, expected) => {
    expect((await loadConfig(base, { env: { [CONFIG_ENV.CACHE]: value } })).cache.exact.enabled).toBe(expected);
  });

  it('LLM_ROUTER_MODELS replaces the configured models', async () => {
    await write('c.json', JSON_CFG);
    const cfg = await loadConfig('c.json', { env: { [CONFIG_ENV.MODELS]: 'x=mock' }, cwd: dir });
    expect(cfg.models.map((m) => m.name)).toEqual(['x']);
  });

  it('parses the LLM_ROUTER_MODELS shorthand', () => {
    expect(parseModelsShorthand('mock,gpt-4o, llama=openai-compatible:llama3:8b, m2=mock')).toEqual([
      { name: 'mock', engine: 'mock' },
      { name: 'gpt-4o' },
      { name: 'llama', engine: 'openai-compatible', model: 'llama3:8b' },
      { name: 'm2', engine: 'mock' },
    ]);
  });

  it.each([
    [CONFIG_ENV.RETRIES, 'three', 'expected a whole number, got "three"'],
    [CONFIG_ENV.RETRIES, '-1', 'expected a whole number'],
    [CONFIG_ENV.TIMEOUT_MS, '1.5', 'expected a whole number'],
    [CONFIG_ENV.FIRST_TOKEN_TIMEOUT_MS, '10s', 'expected a whole number'],
    [CONFIG_ENV.CACHE, 'maybe', 'expected true or false'],
    [CONFIG_ENV.MODELS, 'a=', 'expected name=engine or name=engine:model, each part non-empty, got "a="'],
    [CONFIG_ENV.MODELS, 'a=mock:', 'name=engine or name=engine:model'],
    [CONFIG_ENV.MODELS, '=mock', 'name=engine or name=engine:model'],
    [CONFIG_ENV.MODELS, 'has space', 'name or name=engine:model'],
    [CONFIG_ENV.MODELS, ' , ', 'comma-separated list'],
  ])('rejects %s=%s naming the variable', async (name, value, expected) => {
    const e = await failure(loadConfig(base, { env: { [name]: value } }));
    expect(e.message).toContain(`Invalid environment variable ${name}`);
    expect(e.message).toContain(expected);
    expect(e.param).toBe(name);
  });

  it('names the variable when its value fails the schema', async () => {
    const e = await failure(loadConfig(base, { env: { [CONFIG_ENV.RETRIES]: '20' } }));
    expect(e.message).toMatch(/routing\.retries\.max \(from LLM_ROUTER_RETRIES\): .*10/);
    expect(e.param).toBe('routing.retries.max');
    const f = await failure(loadConfig(base, { env: { [CONFIG_ENV.FALLBACKS]: 'a,nope' } }));
    expect(f.message).toContain('routing.fallbacks.1 (from LLM_ROUTER_FALLBACKS): unknown model "nope"');
    const t = await failure(loadConfig(base, { env: { [CONFIG_ENV.TIMEOUT_MS]: '0' } }));
    expect(t.message).toContain('routing.timeouts.totalMs (from LLM_ROUTER_TIMEOUT_MS)');
  });

  it('refuses to override inside a section that is not an object', async () => {
    const e = await failure(loadConfig({ ...base, routing: 'fast' }, { env: { [CONFIG_ENV.RETRIES]: '1' } }));
    expect(e.message).toContain('Cannot apply LLM_ROUTER_RETRIES: "routing" in the config is not an object');
  });
});

describe('${VAR} interpolation', () => {
  it('replaces references anywhere in string values, with defaults and escapes', async () => {
    await write(
      'c.yaml',
      [
        'models:',
        '  - name: m',
        '    engine: mock',
        '    baseURL: "https://${HOST}:${PORT:-8443}/v1"',
        '    headers: { X-Team: "${TEAM:-core}", X-Literal: "$${NOT_A_VAR}", X-Empty: "${EMPTY:-fallback}" }',
        '    tags: ["${TAG}", plain]',
      ].join('\n'),
    );
    const cfg = await loadConfig('c.yaml', { env: { HOST: 'api.example.com', TAG: 'blue', TEAM: '', EMPTY: '' }, cwd: dir });
    const m = cfg.models[0];
    expect(m?.baseURL).toBe('https://api.example.com:8443/v1');
    expect(m?.headers).toEqual({ 'X-Team': 'core', 'X-Literal': '${NOT_A_VAR}', 'X-Empty': 'fallback' });
    expect(m?.tags).toEqual(['blue', 'plain']);
  });

  it('keeps an empty value for a set-but-empty variable without default', async () => {
    await write('c.json', JSON.stringify({ models: [{ name: 'm', engine: 'mock', apiKey: '${KEY}' }] }));
    expect((await loadConfig('c.json', { env: { KEY: '' }, cwd: dir })).models[0]?.apiKey).toBe('');
  });

  it('reports every missing variable with field path, line and column', async () => {
    await write('c.yaml', 'models:\n  - name: m\n    engine: mock\n    apiKey: ${OPENAI_KEY}\n    headers: { A: "${ALSO_MISSING}" }\n');
    const e = await failure(loadConfig('c.yaml', { env: {}, cwd: dir }));
    expect(e.message).toContain(join(dir, 'c.yaml'));
    expect(e.message).toContain('models.0.apiKey (line 4, column 13): environment variable OPENAI_KEY is not set');
    expect(e.message).toContain('models.0.headers.A (line 5, column 19): environment variable ALSO_MISSING is not set');
    expect(e.param).toBe('models.0.apiKey');
  });

  it('makes a leading ~ of a value that starts its string the home directory (LLMRR_SHARED_DIR=~/shared from a .env file)', async () => {
    // The repository's llmrr.config.yaml reads the shared folder so; the `~` would otherwise be a folder named `~` beside the config.
    await write(
      'c.yaml',
      [
        'models:',
        '  - { name: a, engine: gguf, path: "${LLMRR_SHARED_DIR:-../shared}/models/stories260K.gguf" }',
        '  - { name: b, engine: gguf, path: "${UNSET:-~/fallback}/x.gguf" }',
        '  - { name: c, engine: gguf, path: "${ALONE}" }',
        '  - { name: d, engine: gguf, path: "models/${ALONE}/x.gguf", tags: ["${OTHER_USER}", "${TILDE_WORD}", "~/literal"] }',
      ].join('\n'),
    );
    const cfg = await loadConfig('c.yaml', { env: { HOME: '/home/op/', LLMRR_SHARED_DIR: '~/shared', ALONE: '~', OTHER_USER: '~bob/x', TILDE_WORD: '~x' }, cwd: dir });
    expect(cfg.models.map((m) => m.path)).toEqual(['/home/op/shared/models/stories260K.gguf', '/home/op/fallback/x.gguf', '/home/op', 'models/~/x.gguf']);
    // Not a home path (another user's, a word), or a `~` the file itself has: as they are.
    expect(cfg.models[3]?.tags).toEqual(['~bob/x', '~x', '~/literal']);
    // Without a home in the environment, as it is.
    expect((await loadConfig('c.yaml', { env: { LLMRR_SHARED_DIR: '~/shared', ALONE: '~', OTHER_USER: '', TILDE_WORD: '' }, cwd: dir })).models[0]?.path).toBe('~/shared/models/stories260K.gguf');
  });

  it('makes that ~ the home directory in every field that is a path, and in no other (an apiKey or header value stays as given)', async () => {
    await write(
      'c.yaml',
      [
        'version: 3',
        'modelsDir: ${D}/models',
        'models:',
        '  - name: a',
        '    engine: openai-compatible',
        '    model: gpt-4o',
        '    baseURL: http://127.0.0.1:9/v1',
        '    apiKey: ${KEY}',
        '    headers: { x-sep: "${SEP}", x-path: "${D}/h" }',
        '  - { name: b, engine: mock }',
        '  - name: emb',
        '    engine: onnx',
        '    path: ${D}/m.onnx',
        '    capabilities: [embeddings]',
        '    options: { tokenizer: "${D}/tokenizer.json", tokenizerConfig: "${D}/tokenizer_config.json" }',
        'routing:',
        '  options: { intelligent: { model: "${D}/router.json" }, adaptive: { model: "${D}/prior.json" } }',
        '  cascades: [{ name: c, weak: a, strong: b, verifier: learned, verifierModel: "${D}/scorer.json" }]',
        'cache:',
        '  semantic: { store: { type: sqlite, path: "${D}/sem.db" } }',
        'tenants:',
        '  - id: acme',
        '    models:',
        '      - { name: own, engine: gguf, path: "${D}/own.gguf" }',
        '      - { name: own-emb, engine: onnx, path: "${D}/e.onnx", capabilities: [embeddings], options: { tokenizer: "${D}/t.json", tokenizerConfig: "${D}/tc.json" } }',
      ].join('\n'),
    );
    const cfg = await loadConfig('c.yaml', { env: { HOME: '/home/op', D: '~/d', KEY: '~/Zk29xq', SEP: '~' }, cwd: dir });
    // An onnx model's tokenizer files are paths (resolved as its path is).
    expect(cfg.models[2]?.path).toBe('/home/op/d/m.onnx');
    expect(cfg.models[2]?.options).toEqual({ tokenizer: '/home/op/d/tokenizer.json', tokenizerConfig: '/home/op/d/tokenizer_config.json' });
    expect(cfg.version === 3 && cfg.tenants[0]?.models[1]?.options).toEqual({ tokenizer: '/home/op/d/t.json', tokenizerConfig: '/home/op/d/tc.json' });
    expect(cfg.modelsDir).toBe('/home/op/d/models');
    expect(cfg.routing.options).toEqual({ intelligent: { model: '/home/op/d/router.json' }, adaptive: { model: '/home/op/d/prior.json' } });
    expect(cfg.routing.cascades?.[0]?.verifierModel).toBe('/home/op/d/scorer.json');
    expect(cfg.cache.semantic?.store).toEqual({ type: 'sqlite', path: '/home/op/d/sem.db' });
    expect(cfg.version === 3 && cfg.tenants[0]?.models[0]?.path).toBe('/home/op/d/own.gguf');
    // Secrets and header values are no paths: a key that starts with `~/` is the key.
    expect(cfg.models[0]?.apiKey).toBe('~/Zk29xq');
    expect(cfg.models[0]?.headers).toEqual({ 'x-sep': '~', 'x-path': '~/d/h' });
  });

  it('makes a Windows ~\\ of a tenant model path USERPROFILE', async () => {
    await write('c.yaml', ['version: 3', 'models: [{ name: b, engine: mock }]', 'tenants:', '  - id: acme', "    models: [{ name: own, engine: gguf, path: '${D}\\own.gguf' }]"].join('\n'));
    const cfg = await loadConfig('c.yaml', { env: { USERPROFILE: 'C:\\Users\\op\\', D: '~\\d' }, cwd: dir });
    expect(cfg.version === 3 && cfg.tenants[0]?.models[0]?.path).toBe('C:\\Users\\op\\d\\own.gguf');
  });

  it('rejects malformed references', async () => {
    await write('c.json', JSON.stringify({ models: [{ name: 'm', engine: 'mock', apiKey: '${1BAD}', model: 'x ${OPEN' }] }));
    const e = await failure(loadConfig('c.json', { env: {}, cwd: dir }));
    expect(e.message).toContain('models.0.apiKey');
    expect(e.message).toContain('is not a valid environment variable reference');
    expect(e.message).toContain('models.0.model');
    expect(e.message).toContain('unclosed "${"');
  });
});

describe('loadConfig errors', () => {
  it('an older (v1) config: the errors end with the advice to convert it with llmrr-migrate, naming the file', async () => {
    const file = await write('old.yaml', 'version: "1.0"\nmodels:\n  - id: house\n    source: ./house.gguf\nroutingStrategy: fallback\nfallbackModels: [house]\n');
    const e = await failure(loadConfig('old.yaml', { env: {}, cwd: dir }));
    expect(e.message).toMatch(/^Invalid config file .*old\.yaml:\n {2}/);
    expect(e.message.split('\n').at(-1)).toBe(
      `  This looks like an older (v1) router config (version "1.0"; models named by "id"; v1 keys "routingStrategy", "fallbackModels"): convert it with llmrr-migrate (@llmrr/migrate): llmrr-migrate --write ${file}`,
    );
    const fromEnv = await failure(loadConfig(undefined, { env: { [CONFIG_ENV.CONFIG_JSON]: '{"models":["gpt-4"]}' }, cwd: dir }));
    expect(fromEnv.message).toContain('(models given by name): convert it with llmrr-migrate (@llmrr/migrate): migrate() from @llmrr/migrate, or save it to a file');
    // A v2 config with a mistake of its own: no such advice.
    await write('v2.json', JSON.stringify({ version: 2, models: [{ name: 'm', engine: 'mock', priority: 'high' }] }));
    expect((await failure(loadConfig('v2.json', { env: {}, cwd: dir }))).message).not.toContain('llmrr-migrate');
  });

  it('a v3 config with a stray v1 key or v1 models: no "older config" advice (llmrr-migrate takes it as v3 and converts none of it)', async () => {
    for (const [name, data] of [
      ['v3.json', { version: 3, models: [{ name: 'mock', engine: 'mock' }], tenants: [{ id: 'acme' }], strategy: 'fallback' }],
      ['v3-string.json', { version: '3', models: ['gpt-4'], tenants: [{ id: 'acme' }] }],
    ] as const) {
      await write(name, JSON.stringify(data));
      const e = await failure(loadConfig(name, { env: {}, cwd: dir }));
      expect(e.message, name).toMatch(/^Invalid config file /);
      expect(e.message, name).not.toMatch(/older|llmrr-migrate/);
    }
  });

  it('names a missing file', async () => {
    const e = await failure(loadConfig('missing.yaml', { env: {}, cwd: dir }));
    expect(e.message).toBe(`The config file ${join(dir, 'missing.yaml')} not found`);
  });

  it('names a missing file given by LLM_ROUTER_CONFIG', async () => {
    const e = await failure(loadConfig(undefined, { env: { [CONFIG_ENV.CONFIG]: 'gone.json' }, cwd: dir }));
    expect(e.message).toContain('(from LLM_ROUTER_CONFIG)');
    expect(e.message).toContain(join(dir, 'gone.json'));
  });

  it('names an unreadable path (a directory)', async () => {
    await mkdir(join(dir, 'cfg.json'));
    const e = await failure(loadConfig('cfg.json', { env: {}, cwd: dir }));
    expect(e.message).toContain(`${join(dir, 'cfg.json')} is a directory`);
  });

  it('refuses other extensions', async () => {
    await write('c.toml', 'x = 1');
    const e = await failure(loadConfig('c.toml', { env: {}, cwd: dir }));
    expect(e.message).toContain('must end in .json, .yaml or .yml');
  });

  it('gives line and column of invalid JSON', async () => {
    await write('c.json', '{\n  "models": [\n    { "name": "m", },\n  ]\n}\n');
    const e = await failure(loadConfig('c.json', { env: {}, cwd: dir }));
    expect(e.message).toBe(`Invalid JSON in config file ${join(dir, 'c.json')} at line 3, column 20: property name expected`);
  });

  it('gives line and column of invalid JSON in LLM_ROUTER_CONFIG_JSON', async () => {
    const e = await failure(loadConfig(undefined, { env: { [CONFIG_ENV.CONFIG_JSON]: '{"models": [}' }, cwd: dir }));
    expect(e.message).toMatch(/^Invalid JSON in LLM_ROUTER_CONFIG_JSON at line 1, column 13: /);
  });

  it('gives line and column of invalid YAML', async () => {
    await write('c.yaml', 'models:\n  - name: m\n    engine: [mock\nrouting: {}\n');
    const e = await failure(loadConfig('c.yaml', { env: {}, cwd: dir }));
    expect(e.message).toMatch(new RegExp(`^Invalid YAML in config file ${join(dir, 'c.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at line \\d+, column \\d+: `));
  });

  it('reports duplicate YAML keys', async () => {
    await write('c.yaml', 'models: []\nmodels: []\n');
    const e = await failure(loadConfig('c.yaml', { env: {}, cwd: dir }));
    expect(e.message).toContain('at line 2, column 1');
    expect(e.message).toContain('unique');
  });

  it.each([
    ['c.json', '[1, 2]', 'an array'],
    ['c.json', '"models"', 'a string'],
    ['c.yaml', '', 'nothing (empty document)'],
    ['c.yaml', '# only a comment\n', 'nothing (empty document)'],
    ['c.yaml', '- a\n- b\n', 'an array'],
  ])('refuses a non-object top level (%s: %j)', async (name, content, kind) => {
    await write(name, content);
    const e = await failure(loadConfig(name, { env: {}, cwd: dir }));
    expect(e.message).toBe(`Invalid config file ${join(dir, name)}: the top level must be an object (mapping), got ${kind}`);
  });

  it('refuses a non-object source argument', async () => {
    const e = await failure(loadConfig(42 as unknown as object, { env: {}, cwd: dir }));
    expect(e.message).toContain('source must be an object or a file path, got a number');
  });

  it('names schema errors by field path with line and column (YAML)', async () => {
    await write('c.yaml', 'models:\n  - name: m\n    engine: mock\n    price:\n      input: cheap\n      output: 1\n');
    const e = await failure(loadConfig('c.yaml', { env: {}, cwd: dir }));
    expect(e.message).toContain(`Invalid config file ${join(dir, 'c.yaml')}:`);
    expect(e.message).toMatch(/models\.0\.price\.input \(line 5, column 14\): .*expected number/);
    expect(e.param).toBe('models.0.price.input');
    expect(e.details).toEqual([expect.objectContaining({ path: 'models.0.price.input', line: 5, column: 14 })]);
  });

  it('names schema errors by field path with line and column (JSON)', async () => {
    await write('c.json', '{\n  "models": [\n    { "name": "m", "engine": "mock", "priority": "high" }\n  ]\n}\n');
    const e = await failure(loadConfig('c.json', { env: {}, cwd: dir }));
    expect(e.message).toMatch(/models\.0\.priority \(line 3, column 50\): .*expected number/);
  });

  it('points a missing required field at its parent, and lists every problem', async () => {
    await write('c.yaml', 'models:\n  - engine: mock\n  - name: b\n    engine: mock\n    unknownField: 1\nrouting:\n  retries: { max: 99 }\n');
    const e = await failure(loadConfig('c.yaml', { env: {}, cwd: dir }));
    expect(e.message).toMatch(/models\.0\.name \(line 2, column 5\): .*expected string/);
    // An unknown key is named by its own path, at its value's line and column.
    expect(e.message).toMatch(/models\.1\.unknownField \(line 5, column 19\): unknown key "unknownField"/);
    expect(e.message).toMatch(/routing\.retries\.max \(line 7, column 19\): .*<=10/);
  });

  it('reports cross-field rules (duplicate names, unknown fallbacks)', async () => {
    await write('c.yaml', 'models:\n  - { name: a, engine: mock }\n  - { name: a, engine: mock }\nrouting: { fallbacks: [zz] }\n');
    const e = await failure(loadConfig('c.yaml', { env: {}, cwd: dir }));
    expect(e.message).toContain('duplicate model name "a"');
    expect(e.message).toContain('routing.fallbacks.0 (line 4, column 24): unknown model "zz"');
  });

  it('an unknown routing.strategy (given the names the router knows) is reported with the other errors, with its line and column', async () => {
    await write('c.yaml', 'models:\n  - name: g\n    engine: mock\n    priority: high\nrouting:\n  strategy: cost-optimised\n');
    const e = await failure(loadConfig('c.yaml', { env: {}, cwd: dir, strategies: ['priority', 'cost-optimized'] }));
    expect(e.message).toContain(`Invalid config file ${join(dir, 'c.yaml')}:`);
    expect(e.message).toMatch(/models\.0\.priority \(line 4, column 15\): .*expected number/);
    expect(e.message).toContain('routing.strategy (line 6, column 13): unknown strategy "cost-optimised" (known: priority, cost-optimized;');
    // Not checked without the names (the router checks it when it is built, knowing its custom strategies).
    await write('ok.yaml', 'models: [{ name: g, engine: mock }]\nrouting: { strategy: my-own }\n');
    expect((await loadConfig('ok.yaml', { env: {}, cwd: dir })).routing.strategy).toBe('my-own');
  });

  it('LLMRouter.fromConfig refuses an unknown strategy naming the file, line and column, or LLM_ROUTER_STRATEGY; a custom one is known', async () => {
    const { LLMRouter } = await import('../router/llm-router.js');
    const file = await write('llmrr.config.yaml', 'models:\n  - name: g\n    engine: mock\nrouting:\n  strategy: cost-optimised\n');
    const e = await failure(LLMRouter.fromConfig(file, { env: {} }));
    expect(e.param).toBe('routing.strategy');
    expect(e.message).toContain(file);
    expect(e.message).toMatch(/routing\.strategy \(line 5, column 13\): unknown strategy "cost-optimised"/);
    const fromEnv = await failure(LLMRouter.fromConfig(undefined, { env: { LLM_ROUTER_MODELS: 'g=mock', LLM_ROUTER_STRATEGY: 'cost-optimised' } }));
    expect(fromEnv.message).toContain('routing.strategy (from LLM_ROUTER_STRATEGY): unknown strategy "cost-optimised"');
    const router = await LLMRouter.fromConfig(file, { env: {}, strategies: { 'cost-optimised': (ctx) => ctx.candidates.map((deployment) => ({ deployment })) } });
    expect(router.strategy).toBe('cost-optimised');
    await router.close();
  });

  it('LLMRouter.fromConfig loads routing.options of a strategy it does not know yet: addStrategy later reads them (docs/core/router.md)', async () => {
    const { LLMRouter } = await import('../router/llm-router.js');
    const file = await write('c.yaml', 'models:\n  - { name: a, engine: mock }\n  - { name: b, engine: mock }\nrouting:\n  strategy: priority\n  options:\n    last-first: { reverse: true }\n');
    const router = await LLMRouter.fromConfig(file, { env: {} });
    try {
      const seen: unknown[] = [];
      router.addStrategy('last-first', (ctx) => {
        seen.push(ctx.options);
        return [...ctx.candidates].reverse().map((deployment) => ({ deployment }));
      });
      expect((await router.generate('hi', { strategy: 'last-first' })).deployment).toBe('b');
      expect(seen[0]).toMatchObject({ reverse: true });
    } finally {
      await router.close();
    }
  });

  it("routing.options of a name not among the known strategies: not checked by default, refused or listed as a warning on request", async () => {
    await write('c.yaml', 'models:\n  - { name: a, engine: mock }\nrouting:\n  options:\n    balnced: { errorPenalty: 0.5 }\n');
    const strategies = ['priority', 'balanced'];
    expect((await loadConfigDetailed('c.yaml', { env: {}, cwd: dir, strategies })).warnings).toEqual([]);
    const e = await failure(loadConfig('c.yaml', { env: {}, cwd: dir, strategies, unknownStrategyOptions: 'refuse' }));
    expect(e.message).toContain('routing.options.balnced (line 5, column 14): options of unknown strategy "balnced", never read (known: priority, balanced;');
    const warned = await loadConfigDetailed('c.yaml', { env: {}, cwd: dir, strategies, unknownStrategyOptions: 'warn' });
    expect(warned.config.routing.options).toEqual({ balnced: { errorPenalty: 0.5 } });
    expect(warned.warnings).toEqual([{ path: 'routing.options.balnced', line: 5, column: 14, message: expect.stringContaining('read only if the program adds a strategy of that name') }]);
  });

  it('a semantic cache whose embedder is a deployment whose capabilities lack embeddings is refused with its line and column', async () => {
    const models = 'models:\n  - name: gem\n    engine: gemini\n    model: gemini-2.5-flash\n    capabilities: [chat, streaming]\n';
    await write('c.yaml', `${models}cache:\n  semantic:\n    enabled: true\n    embedder: gem\n`);
    const e = await failure(loadConfig('c.yaml', { env: {}, cwd: dir }));
    expect(e.message).toMatch(/cache\.semantic\.embedder \(line 9, column 15\): deployment "gem" cannot embed \(its capabilities lack embeddings\)/);
    // Listed, it is taken (the deployment is an embedding model).
    await write('ok.yaml', `${models.replace('[chat, streaming]', '[embeddings]')}cache:\n  semantic:\n    enabled: true\n    embedder: gem\n`);
    expect((await loadConfig('ok.yaml', { env: {}, cwd: dir })).cache.semantic?.embedder).toBe('gem');
  });

  it('reports a missing models list on an object source, without positions', async () => {
    const e = await failure(loadConfig({ routing: {} }, { env: {} }));
    expect(e.message).toMatch(/^Invalid config object:\n {2}models: /);
  });
});
// The documented examples (docs/core/config.md) are loaded by src/readme.test.ts.

describe('API keys and headers that cannot be sent', () => {
  const SECRET = 'sk-LOAD-SECRET';

  it('refuses a "${VAR}" key whose value has a line break, naming models.N.apiKey without quoting the key', async () => {
    await write('c.json', '{ "models": [ { "name": "m", "engine": "openai-compatible", "baseURL": "http://127.0.0.1:1/v1", "apiKey": "${TOKEN}" } ] }\n');
    // Every control character but tab (undici refuses them all), not only CR, LF and NUL.
    for (const value of [`${SECRET}\nsecond-line`, `${SECRET}\r\nx`, `${SECRET}\0`, `${SECRET}\u20ac`, `${SECRET}\u0001x`, `${SECRET}\u000bx`, `${SECRET}\u001bx`, `${SECRET}\u007fx`]) {
      const e = await failure(loadConfig('c.json', { env: { TOKEN: value }, cwd: dir }));
      expect(e.param).toBe('models.0.apiKey');
      expect(e.message).toMatch(/models\.0\.apiKey \(line 1, column \d+\): must not contain a line break \(CR, LF\), NUL or another control character inside it, nor a character above U\+00FF/);
      expect(e.message).not.toContain('LOAD-SECRET');
      expect(JSON.stringify(e.details)).not.toContain('LOAD-SECRET');
    }
  });

  it('refuses such a value in headers, and a header name that is not a token, in a config object too', async () => {
    const e = await failure(loadConfig({ models: [{ name: 'm', engine: 'mock', headers: { 'x-api-key': `${SECRET}\nx`, 'x bad': 'v' } }] }, { env: {} }));
    expect(e.message).toContain('models.0.headers.x-api-key: must not contain a line break');
    expect(e.message).toContain('models.0.headers.x bad:');
    expect(e.message).not.toContain('LOAD-SECRET');
  });

  it('keeps Latin-1 values, and a final line break (fetch trims it, as leading and trailing whitespace)', async () => {
    const config = await loadConfig({ models: [{ name: 'm', engine: 'mock', apiKey: 'sk-proj_Ab-9.~+/=\n', headers: { 'x-note': 'caf\u00e9 \t ok' } }] }, { env: {} });
    expect(config.models[0]!.apiKey).toBe('sk-proj_Ab-9.~+/=\n');
  });

  it('checks a long value in one pass: line breaks at both ends kept, one inside refused, a 10 000-character token kept, more than 65 536 characters refused', async () => {
    // A backtracking pattern took minutes on such values (cubic in the length); the check is linear.
    const ends = '\n'.repeat(4000);
    const kept = await loadConfig({ models: [{ name: 'm', engine: 'mock', apiKey: `${ends}${'a'.repeat(190)}${ends}` }] }, { env: {} });
    expect(kept.models[0]!.apiKey).toHaveLength(8190);
    const inside = await failure(loadConfig({ models: [{ name: 'm', engine: 'mock', apiKey: `${'a'.repeat(4000)}\n${'a'.repeat(4000)}${ends.slice(0, 190)}` }] }, { env: {} }));
    expect(inside.message).toContain('models.0.apiKey: must not contain a line break');
    // An Azure AD token with many claims passes 8 KiB; servers take it (Node: 16 KiB of headers by default).
    const token = await loadConfig({ models: [{ name: 'm', engine: 'mock', apiKey: `eyJ${'a'.repeat(10_000)}` }] }, { env: {} });
    expect(token.models[0]!.apiKey).toHaveLength(10_003);
    const long = await failure(loadConfig({ models: [{ name: 'm', engine: 'mock', headers: { 'x-api-key': `${SECRET}${'a'.repeat(65_536)}` } }] }, { env: {} }));
    expect(long.message).toContain('models.0.headers.x-api-key: must be at most 65536 characters');
    expect(long.message).not.toContain('LOAD-SECRET');
  });
});
