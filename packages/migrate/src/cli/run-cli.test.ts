import { execFile, spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadConfig } from '@llmrr/core';
import { applyPatch } from 'diff';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { unifiedDiff } from './unified-diff.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-migrate-cli-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { cwd: dir, stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

const write = (name: string, text: string | Buffer) => {
  mkdirSync(dirname(join(dir, name)), { recursive: true });
  writeFileSync(join(dir, name), text);
};
const read = (name: string) => readFileSync(join(dir, name), 'utf8');
/** Every file's content, to prove a failed run changed nothing. */
const snapshot = () => Object.fromEntries(readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile()).map((f) => [f, read(f)]));

const V1_JSON = '{\n  "models": ["gpt-3.5", "mock://helper"],\n  "strategy": "fallback"\n}\n';
const V1_YAML = '# settings\nmodels:\n  - gpt-3.5 # cheap\nstrategy: round-robin\n';
const V1_JS = "import LLMRouter from 'llm-runner-router';\n\nconst router = new LLMRouter({ models: ['mock://a'], strategy: 'random' });\nexport const ask = (q) => router.generate(q);\n";

describe('llmrr-migrate', () => {
  it('dry run (the default) prints a unified diff and writes nothing', async () => {
    write('router.json', V1_JSON);
    const r = await run('router.json');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--- a/router.json');
    expect(r.stdout).toContain('+++ b/router.json');
    expect(r.stdout).toContain('-  "models": ["gpt-3.5", "mock://helper"],');
    expect(r.stdout).toContain('+  "version": 2,');
    expect(r.stdout).toMatch(/^@@ -1,4 \+1,\d+ @@$/m);
    expect(r.stderr).toContain('1 file(s) would change (dry run');
    expect(read('router.json')).toBe(V1_JSON);
    const explicit = await run('--dry-run', 'router.json');
    expect(explicit.stdout).toBe(r.stdout);
  });

  it('--write converts JSON, YAML and JS in a folder; a second run changes nothing', async () => {
    write('config/router.json', V1_JSON);
    write('config/router.yaml', V1_YAML);
    write('src/app.js', V1_JS);
    write('src/other.js', 'export const x = 1;\n');
    write('package.json', '{ "name": "app", "version": "1.0.0" }\n');
    write('node_modules/llm-runner-router/index.js', V1_JS);
    const r = await run('--write', '.');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['updated: config/router.json', 'updated: config/router.yaml', 'updated: src/app.js']);
    expect(JSON.parse(read('config/router.json'))).toMatchObject({ version: 2, routing: { strategy: 'priority' } });
    expect(read('config/router.yaml')).toContain('# settings');
    expect(read('config/router.yaml')).toContain('- name: gpt-3.5-turbo # cheap');
    expect(read('src/app.js')).toContain("import { LLMRouter } from '@llmrr/core';");
    expect(read('src/other.js')).toBe('export const x = 1;\n');
    expect(read('node_modules/llm-runner-router/index.js')).toBe(V1_JS);
    expect(read('package.json')).toContain('"name": "app"');

    const before = snapshot();
    const again = await run('--write', '.');
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain('no changes needed');
    expect(snapshot()).toEqual(before);
    const check = await run('--check', '.');
    expect(check.code).toBe(0);
  });

  it('--check exits 1 and lists the files that need changes, writing nothing', async () => {
    write('router.json', V1_JSON);
    write('app.js', V1_JS);
    const r = await run('--check', '.');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('would change: app.js\nwould change: router.json\n');
    expect(read('router.json')).toBe(V1_JSON);
  });

  it('a v2 config the core now refuses (a section of its own) needs changes: --check exits 1, --write moves it under legacy', async () => {
    const v2 = 'version: 2\nmodels:\n  - { name: a, engine: mock }\ngateway:\n  port: 3006 # ours\n';
    write('llmrr.config.yaml', v2);
    const check = await run('--check', '.');
    expect({ code: check.code, stdout: check.stdout }).toEqual({ code: 1, stdout: 'would change: llmrr.config.yaml\n' });
    expect(check.stderr).toContain('gateway: no v2 equivalent (not a key the router reads): kept under legacy.gateway');
    const r = await run('--write', '.');
    expect(r.code).toBe(0);
    expect(read('llmrr.config.yaml')).toBe('version: 2\nmodels:\n  - { name: a, engine: mock }\nlegacy:\n  gateway:\n    port: 3006 # ours\n');
    expect((await run('--check', '.')).code).toBe(0);
  });

  it('--check exits 1 when a v1 use is left that it cannot convert, even with no file to change (a CI gate fails)', async () => {
    write('setup.js', "jest.mock('llm-runner-router');\n");
    const r = await run('--check', '.');
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(/^setup\.js:1:11: cannot convert: "llm-runner-router" is used here/m);
    expect(r.stderr).toContain('llmrr-migrate: 1 place(s) could not be converted and need changes by hand (see above)');
    expect(read('setup.js')).toBe("jest.mock('llm-runner-router');\n");
  });

  it('--to v3 --tenant adds the tenant to configs and to router calls', async () => {
    write('router.json', V1_JSON);
    write('app.js', V1_JS);
    const r = await run('--write', '--to', 'v3', '--tenant', 'acme', '.');
    expect(r.code).toBe(0);
    expect(JSON.parse(read('router.json'))).toMatchObject({ version: 3, tenants: [{ id: 'acme' }], defaultTenant: 'acme' });
    expect(read('app.js')).toContain("router.generate(q, { tenant: 'acme' })");
    expect((await run('--check', '--to', 'v3', '--tenant', 'acme', '.')).code).toBe(0);
  });

  it('reports what it cannot convert with file:line and leaves it untouched', async () => {
    const src = "import { LLMRouter } from 'llm-runner-router';\nconst base = { models: ['gpt-4'] };\nexport const r = new LLMRouter({ ...base });\n";
    write('app.js', src);
    const r = await run('--write', 'app.js');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('app.js:3:34: cannot convert: the LLMRouter config at line 3 uses a spread');
    expect(read('app.js')).toContain('new LLMRouter({ ...base })');
  });

  describe('bad input: clear message, exit 2, no file changed', () => {
    const cases: Array<[string, string, string, RegExp]> = [
      ['invalid JSON', 'router.json', '{ "models": ["gpt-3.5", }', /router\.json: error: invalid JSON/],
      ['invalid YAML', 'router.yaml', 'models:\n  - gpt-3.5\n strategy: [unclosed\n', /router\.yaml: error: invalid YAML/],
      ['a JSON file that is not a config', 'data.json', '{ "users": [1, 2, 3] }\n', /data\.json: error: not an LLM router config/],
      ['a YAML file that is not a config', 'deploy.yaml', 'apiVersion: v1\nkind: Service\n', /deploy\.yaml: error: not an LLM router config/],
      ['a JSON array', 'list.json', '["gpt-3.5"]\n', /list\.json: error: not an LLM router config/],
      ['unparsable source', 'app.js', "import LLMRouter from 'llm-runner-router';\nconst = ;\n", /app\.js: error: cannot parse/],
      ['an unsupported file type', 'notes.txt', 'models: gpt-3.5\n', /notes\.txt: error: unsupported file type/],
      ['a config that would come out invalid', 'empty.json', '{ "strategy": "round-robin" }\n', /empty\.json: error: cannot migrate: models: a v2 config needs a models list/],
    ];
    for (const [what, name, text, message] of cases) {
      it(what, async () => {
        write(name, text);
        write('good.json', V1_JSON);
        const before = snapshot();
        const r = await run('--write', name, 'good.json');
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).toContain('no file was changed');
        expect(r.stdout).toBe('');
        expect(snapshot()).toEqual(before);
      });
    }

    it('an unreadable path', async () => {
      write('good.json', V1_JSON);
      const r = await run('--write', 'missing/router.json', 'good.json');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('missing/router.json: cannot read (no such file or folder)');
      expect(read('good.json')).toBe(V1_JSON);
    });

    it('a dangling symlink', async () => {
      symlinkSync(join(dir, 'nowhere.json'), join(dir, 'link.json'));
      const r = await run('--check', 'link.json');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('link.json: cannot read (no such file or folder)');
    });

    it('a file that is not UTF-8 (a Latin-1 byte), named or found by walking: an error naming its line, its bytes left as they are', async () => {
      // "gpt-\xe9" from a Latin-1 editor: read as UTF-8 it would be written back as U+FFFD.
      const latin1 = Buffer.from('{\n  "models": ["gpt-\xe9"],\n  "strategy": "fallback"\n}\n', 'latin1');
      write('router.json', latin1);
      write('good.json', V1_JSON);
      const named = await run('--write', 'router.json', 'good.json');
      expect(named.code).toBe(2);
      expect(named.stderr).toContain('router.json: error: not UTF-8 text (a byte on line 2 is not UTF-8): save the file as UTF-8, then run again');
      expect(readFileSync(join(dir, 'router.json')).equals(latin1)).toBe(true);
      expect(read('good.json')).toBe(V1_JSON);
      const walked = await run('--write', '.');
      expect(walked.code).toBe(2);
      expect(walked.stderr).toContain('router.json: error: not UTF-8 text');
      expect(readFileSync(join(dir, 'router.json')).equals(latin1)).toBe(true);
      // A walked file that is not a config (nor source mentioning the router) is still ignored, UTF-8 or not.
      rmSync(join(dir, 'router.json'));
      write('data/names.json', Buffer.from('{ "users": ["Jos\xe9"] }\n', 'latin1'));
      write('src/legacy.js', Buffer.from('// caf\xe9\nexport const x = 1;\n', 'latin1'));
      const others = await run('--check', '.');
      expect(others.stderr).not.toContain('not UTF-8');
      expect(others.stdout).toBe('would change: good.json\n');
    });

    it('a UTF-16 config named on the command line: the not-UTF-8 error naming its line, not "invalid JSON"', async () => {
      const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(V1_JSON, 'utf16le')]);
      write('router.json', utf16);
      const r = await run('--check', 'router.json');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('router.json: error: not UTF-8 text (a byte on line 1 is not UTF-8)');
      expect(r.stderr).not.toContain('invalid JSON');
      expect(readFileSync(join(dir, 'router.json')).equals(utf16)).toBe(true);
    });

    it('a downgrade (v3 file, --to v2)', async () => {
      write('v3.json', JSON.stringify({ version: 3, models: [{ name: 'a', engine: 'mock' }], tenants: [{ id: 't' }] }));
      const r = await run('--write', 'v3.json');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('the config is v3; it cannot be turned back into v2');
    });

    it('bad options', async () => {
      expect((await run('--to', 'v4')).stderr).toContain('--to must be v2 or v3');
      expect((await run('--to', 'v4')).code).toBe(2);
      expect((await run('--write', '--check')).code).toBe(2);
      expect((await run('--tenant', 'x')).stderr).toContain('--tenant only applies with --to v3');
      expect((await run('--to', 'v3', '--tenant', 'bad tenant!')).stderr).toContain('tenant id "bad tenant!" is not valid');
      expect((await run('--bogus')).code).toBe(2);
    });
  });

  it('walking a folder ignores JSON/YAML files that are not configs', async () => {
    write('data.json', '{ "users": [] }\n');
    write('broken.json', '{ not json');
    write('router.json', V1_JSON);
    const r = await run('--check', '.');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('would change: router.json\n');
  });

  it('walking a folder: a config found by a router-only key whose migration fails is an error (exit 2), not skipped as "no changes needed"', async () => {
    // No config word in its name: `fallbackModels` makes it a config; models.1 cannot be converted.
    write('cfg/prod.json', '{ "models": ["gpt-4", 5], "strategy": "fallback", "fallbackModels": ["gpt-4"] }\n');
    write('cfg/router.json', V1_JSON);
    const r = await run('--check', '.');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cfg/prod.json: error: cannot migrate: models.1: a model must be a name or an object, got 5');
    expect(r.stderr).toContain('no file was changed');
    // Another tool's `version` (docker compose's "3", vercel.json's 2) without a models list is not a config.
    rmSync(join(dir, 'cfg/prod.json'));
    write('docker-compose.yml', 'version: "3"\nservices:\n  web:\n    image: nginx\n');
    write('deploy/compose.yaml', 'version: 2\nservices: {}\n');
    write('vercel.json', '{ "version": 2, "builds": [{ "src": "index.js", "use": "@vercel/node" }] }\n');
    // Even under a config-like name: a Grafana dashboard's `version` counts its saves.
    write('docs/grafana/llmrr-dashboard.json', '{ "title": "llmrr", "schemaVersion": 39, "version": 3, "panels": [] }\n');
    write('docs/grafana/llm-overview.json', '{ "title": "llm", "version": 1, "panels": [] }\n');
    const others = await run('--check', '.');
    expect(others.stderr).not.toContain('error');
    expect(others.stdout).toBe('would change: cfg/router.json\n');
  });

  it('walking a folder: a v1 config loading its models at run time (router-only keys, no models list) is an error (exit 2), as when named', async () => {
    // The original router's config when models come from a registry file and router.load(): no `models` list, but
    // `modelRegistry`, `routingStrategy` and `preferredEngine` are keys only a router config has.
    write('config/ai.json', '{\n  "modelRegistry": "./models/registry.json",\n  "routingStrategy": "quality-first",\n  "preferredEngine": "ollama",\n  "autoInit": true\n}\n');
    const named = await run('--check', 'config/ai.json');
    expect(named.code).toBe(2);
    expect(named.stderr).toContain('config/ai.json: error: cannot migrate: models: a v2 config needs a models list');
    const walked = await run('--check', '.');
    expect(walked.code).toBe(2);
    expect(walked.stderr).toContain('config/ai.json: error: cannot migrate: models: a v2 config needs a models list');
    // `fallbackModels` beside a load balancer's `strategy` makes it a config too.
    rmSync(join(dir, 'config/ai.json'));
    write('cfg/prod.json', '{ "strategy": "fallback", "fallbackModels": ["gpt-4"] }\n');
    const withStrategy = await run('--check', '.');
    expect(withStrategy.code).toBe(2);
    expect(withStrategy.stderr).toContain('cfg/prod.json: error: cannot migrate: models');
  });

  it('walking a folder: another tool\'s file found by a key alone (no models list, no config-like name) is skipped, not an error', async () => {
    write('cfg/llm-router.json', V1_JSON);
    // A load balancer's and a sampler's `strategy` names a router strategy, but neither has a `models` list.
    write('loadtest/targets.json', '{ "strategy": "round-robin", "targets": ["http://a:8080", "http://b:8080"], "timeout": 5000 }\n');
    write('eval/sampler.yaml', 'strategy: random\nseed: 42\nmaxTokens: 100\n');
    const r = await run('--check', '.');
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('would change: cfg/llm-router.json\n');
    // Under a config-like name, the same file is an error.
    write('loadtest/router.json', '{ "strategy": "round-robin", "targets": ["http://a:8080"] }\n');
    const named = await run('--check', '.');
    expect(named.code).toBe(2);
    expect(named.stderr).toContain('loadtest/router.json: error: cannot migrate: models');
  });

  it('walking a folder: a config already past the target (v3 while --to v2 runs) is left as is, an info line with --verbose', async () => {
    write('cfg/llm-router.json', V1_JSON);
    write('deploy/prod.yaml', 'version: 3\nmodels:\n  - name: a\n    engine: mock\nrouting:\n  strategy: priority\ntenants:\n  - id: acme\n');
    const r = await run('--check', '.');
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('would change: cfg/llm-router.json\n');
    const verbose = await run('--check', '--verbose', '.');
    expect(verbose.stderr).toContain('deploy/prod.yaml: info: a v3 config, newer than --to v2: left as is');
  });

  it('a file that is not UTF-8 but needs no change (migrated config, source with a Latin-1 comment) passes --check, as before', async () => {
    write('llm.config.yaml', Buffer.from('# caf\xe9\nversion: 2\nmodels:\n  - name: a\n    engine: mock\n', 'latin1'));
    write('src/app.js', Buffer.from("// r\xe9sum\xe9\nimport { LLMRouter } from '@llmrr/core';\nexport const router = new LLMRouter({ version: 2, models: [{ name: 'a', engine: 'mock' }] });\n", 'latin1'));
    const walked = await run('--check', '.');
    expect(walked.stderr).not.toContain('not UTF-8');
    expect(walked.code).toBe(0);
    const named = await run('--check', 'llm.config.yaml', 'src/app.js');
    expect(named.stderr).not.toContain('not UTF-8');
    expect(named.code).toBe(0);
  });

  it('a UTF-8 file with a byte order mark keeps it when written (JSON and YAML)', async () => {
    write('router.json', `\uFEFF${V1_JSON}`);
    write('llm.yaml', '\uFEFF# s\nmodels:\n  - gpt-3.5\nstrategy: round-robin\n');
    const r = await run('--write', 'router.json', 'llm.yaml');
    expect(r.code, r.stderr).toBe(0);
    for (const name of ['router.json', 'llm.yaml']) {
      const bytes = readFileSync(join(dir, name));
      expect(bytes.subarray(0, 3).toString('hex')).toBe('efbbbf');
      expect(bytes.subarray(3, 6).toString('hex')).not.toBe('efbbbf');
    }
    expect(JSON.parse(read('router.json').slice(1)).version).toBe(2);
    expect(read('llm.yaml')).toMatch(/^\uFEFF# s\nversion: 2\n/);
  });

  it('the dry run of a file with a UTF-8 byte order mark is a patch that applies to that file (git apply)', async () => {
    write('router.json', `\uFEFF${V1_JSON}`);
    const r = await run('router.json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('+++ b/router.json');
    writeFileSync(join(dir, 'p.diff'), r.stdout);
    const check = spawnSync('git', ['apply', '--check', 'p.diff'], { cwd: dir, encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    // Applied, it gives what --write writes: the BOM, then the v2 config.
    const apply = spawnSync('git', ['apply', 'p.diff'], { cwd: dir, encoding: 'utf8' });
    expect(apply.status, apply.stderr).toBe(0);
    const patched = readFileSync(join(dir, 'router.json'));
    write('router.json', `\uFEFF${V1_JSON}`);
    expect((await run('--write', 'router.json')).code).toBe(0);
    expect(patched.equals(readFileSync(join(dir, 'router.json')))).toBe(true);
  });

  it('the dry run shows a real diff of a file with fewer than 1 000 changed lines (600 changed lines are 1 200 edits)', () => {
    const before = Array.from({ length: 2000 }, (_, i) => `line ${i}`);
    const after = before.map((l, i) => (i % 3 === 0 && i < 1800 ? `${l} changed` : l));
    expect(after.filter((l, i) => l !== before[i]).length).toBe(600);
    const diff = unifiedDiff('f.txt', `${before.join('\n')}\n`, `${after.join('\n')}\n`);
    expect(diff).not.toMatch(/^@@ -1,2000 \+1,2000 @@$/m);
    // Unchanged lines are context, not removed and added again.
    expect(diff).toMatch(/^ line 1$/m);
    expect(diff).not.toMatch(/^-line 1$/m);
  });

  it('the dry run of a config with thousands of changed lines shows the whole file replaced, a patch that applies', async () => {
    // Searching the shortest diff of a file whose every line changes grows with lines times edits (minutes here).
    const models = Array.from({ length: 2000 }, (_, i) => `mock://m${i}`);
    const input = `${JSON.stringify({ models, strategy: 'fallback' }, null, 2)}\n`;
    write('router.json', input);
    const r = await run('router.json');
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^@@ /gm)).toEqual(['@@ ']);
    expect(r.stdout).toMatch(new RegExp(`^@@ -1,${input.split('\n').length - 1} \\+1,\\d+ @@$`, 'm'));
    // Every old line removed, then every new one added: no context lines (the shortest diff keeps "  ]," and others).
    const hunk = r.stdout.slice(r.stdout.indexOf('\n@@ ') + 1).split('\n').slice(1, -1);
    expect(hunk.filter((l) => !l.startsWith('-') && !l.startsWith('+'))).toEqual([]);
    expect(hunk.findIndex((l) => l.startsWith('+'))).toBe(input.split('\n').length - 1);
    const migrated = applyPatch(input, r.stdout);
    expect(typeof migrated).toBe('string');
    expect(JSON.parse(migrated as string)).toMatchObject({ version: 2, routing: { strategy: 'priority' } });
    expect(JSON.parse(migrated as string).models).toHaveLength(2000);
    // Without a final newline, too.
    write('router.json', input.trimEnd());
    const noEol = await run('router.json');
    expect(noEol.stdout).toContain('\\ No newline at end of file');
    expect(JSON.parse(applyPatch(input.trimEnd(), noEol.stdout) as string).version).toBe(2);
  }, 60_000);

  it('walking a folder leaves alone JSON of another tool that merely lists model names; a named file is still converted', async () => {
    const evalConfig = '{\n  "dataset": "mmlu",\n  "models": ["gpt-4o", "claude-3-5-sonnet-latest"],\n  "samples": 200\n}\n';
    write('evals/compare.json', evalConfig);
    write('config/app.json', V1_JSON); // no name hint, but a v1 key (strategy)
    write('config/llm.json', '{ "models": ["gpt-3.5"] }\n'); // a name hint
    const r = await run('--write', '.');
    expect(r.code).toBe(0);
    expect(read('evals/compare.json')).toBe(evalConfig);
    expect(JSON.parse(read('config/app.json')).version).toBe(2);
    expect(JSON.parse(read('config/llm.json')).version).toBe(2);
    const named = await run('--check', 'evals/compare.json');
    expect(named.stdout).toBe('would change: evals/compare.json\n');
  });

  it('walking a folder: generic v1 keys (maxTokens, timeout) and "llm" inside a word (smallmodels.json) do not make a config', async () => {
    const evalConfig = '{\n  "dataset": "mmlu",\n  "models": ["gpt-4o", "claude-3-5-sonnet-latest"],\n  "samples": 200,\n  "maxTokens": 512,\n  "timeout": 60000\n}\n';
    const list = '{\n  "models": ["phi-3-mini", "gemma-2b"]\n}\n';
    write('evals/compare.json', evalConfig);
    write('data/smallmodels.json', list);
    // Counted as configs: a router-only key, a router strategy, and config words in the name.
    write('a/fallbacks.json', '{ "models": ["gpt-3.5"], "fallbackModels": ["gpt-4o"] }\n');
    write('a/settings.json', '{ "models": ["gpt-3.5"], "strategy": "cost-optimized" }\n');
    write('b/llm.config.json', '{ "models": ["gpt-3.5"] }\n');
    write('b/myRouter.yaml', 'models:\n  - gpt-3.5\n');
    write('b/llmrr.json', '{ "models": ["gpt-3.5"] }\n');
    const r = await run('--check', '.');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('would change: a/fallbacks.json\nwould change: a/settings.json\nwould change: b/llm.config.json\nwould change: b/llmrr.json\nwould change: b/myRouter.yaml\n');
    await run('--write', '.');
    expect(read('evals/compare.json')).toBe(evalConfig);
    expect(read('data/smallmodels.json')).toBe(list);
  });

  it('--write on a symlinked config updates the file the link points to and keeps the link', async () => {
    // A deploy layout: config/llmrr.config.json -> ../shared/router.json
    write('shared/router.json', V1_JSON);
    mkdirSync(join(dir, 'config'));
    symlinkSync('../shared/router.json', join(dir, 'config', 'llmrr.config.json'));
    const r = await run('config/llmrr.config.json', '--write');
    expect(r.code).toBe(0);
    expect(lstatSync(join(dir, 'config', 'llmrr.config.json')).isSymbolicLink()).toBe(true);
    expect(JSON.parse(read('shared/router.json')).version).toBe(2);
    expect(readdirSync(join(dir, 'shared'))).toEqual(['router.json']);
  });

  it('walking a folder follows a symlinked config file inside it (written through, once) but not a symlinked folder', async () => {
    write('shared/router.json', V1_JSON);
    mkdirSync(join(dir, 'config'));
    symlinkSync('../shared/router.json', join(dir, 'config', 'llmrr.config.json'));
    // The link and the file it points to are one file: planned and written once.
    const all = await run('--check', '.');
    expect(all.code).toBe(1);
    expect(all.stdout).toBe('would change: config/llmrr.config.json\n');
    symlinkSync('../shared', join(dir, 'config', 'linked'));
    symlinkSync(join(dir, 'nowhere.json'), join(dir, 'config', 'dangling.json'));
    const r = await run('--write', '.');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('updated: config/llmrr.config.json\n');
    expect(lstatSync(join(dir, 'config', 'llmrr.config.json')).isSymbolicLink()).toBe(true);
    expect(JSON.parse(read('shared/router.json')).version).toBe(2);
  });

  it('a symlinked file found by walking that points outside the folders walked is left as is, the link and its target named', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'llmrr-migrate-cli-shared-'));
    try {
      writeFileSync(join(outside, 'router.json'), V1_JSON);
      mkdirSync(join(dir, 'app'));
      symlinkSync(join(outside, 'router.json'), join(dir, 'app', 'llm-router.json'));
      const r = await run('--write', 'app');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`app/llm-router.json: warning: a symlink to ${realpathSync(join(outside, 'router.json'))}`);
      expect(readFileSync(join(outside, 'router.json'), 'utf8')).toBe(V1_JSON);
      // Named on the command line, the link is written through.
      const named = await run('--write', 'app/llm-router.json');
      expect(named.stdout).toBe('updated: app/llm-router.json\n');
      expect(JSON.parse(readFileSync(join(outside, 'router.json'), 'utf8')).version).toBe(2);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('a symlinked file found by walking that points into a folder the walk skips (node_modules) is not written through', async () => {
    write('node_modules/@acme/presets/llm.config.json', V1_JSON);
    mkdirSync(join(dir, 'app'));
    symlinkSync('../node_modules/@acme/presets/llm.config.json', join(dir, 'app', 'llm.config.json'));
    const r = await run('--write', '.');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/app\/llm\.config\.json: warning: a symlink to .*node_modules\/@acme\/presets\/llm\.config\.json/);
    expect(read('node_modules/@acme/presets/llm.config.json')).toBe(V1_JSON);
  });

  it('a walked link to a file outside the walk that is also named on the command line: the file is written, no "left as is" warning', async () => {
    write('shared/router.json', V1_JSON);
    mkdirSync(join(dir, 'config'));
    symlinkSync('../shared/router.json', join(dir, 'config', 'llmrr.config.json'));
    const r = await run('--write', 'config', 'shared/router.json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('updated: shared/router.json\n');
    expect(JSON.parse(read('shared/router.json')).version).toBe(2);
    expect(lstatSync(join(dir, 'config', 'llmrr.config.json')).isSymbolicLink()).toBe(true);
    expect(r.stderr).not.toContain('left as is');
  });

  it('a YAML config with anchors migrates; a file that cannot be read as YAML is an error naming it, with no stack', async () => {
    write('router.yaml', 'base: &base\n  temperature: 0.2\nmodels:\n  - id: a\n    source: mock://a\n    options: *base\nstrategy: fallback\n');
    const ok = await run('--check', 'router.yaml');
    expect(ok.code).toBe(1);
    expect(ok.stdout).toBe('would change: router.yaml\n');
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)];
    write('llm-router.yaml', `${bomb.join('\n')}\nmodels: [mock://a]\n`);
    const bad = await run('--check', 'llm-router.yaml');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^llm-router\.yaml: error: invalid YAML: /m);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('--models reads the file from a working directory whose path has "#" or "%"', async () => {
    const cwd = join(dir, 'C#', '100%', 'app');
    mkdirSync(cwd, { recursive: true });
    writeFileSync(join(cwd, 'names.json'), JSON.stringify({ 'our-gpt': 'gpt-4o-mini' }));
    writeFileSync(join(cwd, 'router.json'), '{ "models": ["our-gpt"], "strategy": "random" }\n');
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--check', '--models', 'names.json', 'router.json'], { cwd, stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
    expect(stderr).not.toContain('cannot read');
    expect(code).toBe(1);
    expect(stdout).toBe('would change: router.json\n');
  });

  it('--models extends the legacy model-name table', async () => {
    write('router.json', '{ "models": ["our-gpt"], "strategy": "random" }\n');
    write('names.json', JSON.stringify({ 'our-gpt': { name: 'gpt-4o-mini', engine: 'openai-compatible', preset: 'openai' } }));
    const r = await run('--write', '--models', 'names.json', 'router.json');
    expect(r.code).toBe(0);
    expect(JSON.parse(read('router.json')).models[0]).toEqual({ name: 'gpt-4o-mini', engine: 'openai-compatible', preset: 'openai', priority: 1 });
    write('bad.json', '[1]');
    expect((await run('--models', 'bad.json', 'router.json')).code).toBe(2);
  });

  it('runs from the repository root as `pnpm llmrr-migrate`', () => {
    write('router.json', V1_JSON);
    const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
    const res = spawnSync('pnpm', ['--silent', 'llmrr-migrate', '--check', join(dir, 'router.json')], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    expect(res.stderr).toContain('1 file(s) need changes');
    expect(res.status).toBe(1);
    const bad = spawnSync('pnpm', ['--silent', 'llmrr-migrate', '--write', join(dir, 'nope.json')], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    expect(bad.stderr).toContain('cannot read (no such file or folder)');
    expect(bad.status).toBe(2);
  });
});

// A walked file found by a general key (`fallbackEnabled`, `enableFallback`, `maxModels`: an i18n or font-loading
// settings file has them too) with no `models` list is another tool's: skipped, so it never blocks the migration of
// the real config beside it (an error anywhere stops `--write` for every file). Keys only a router config has
// (`modelRegistry`, `routingStrategy`, ...) make a walked file a config whose failed migration is an error.
const V1_README = '{ "models": ["gpt-3.5", "mock://backup"], "strategy": "fallback", "fallbackModels": ["backup"], "cacheTTL": 60000, "apiPort": 3000 }\n';

describe('walked files found by a "router-only" key alone', () => {
  it('the README v1 config in a walked folder migrates', async () => {
    write('cfg/settings.json', V1_README);
    const r = await run('--write', '.');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'cfg/settings.json'), 'utf8')).version).toBe(2);
  });

  it('an i18n settings file with `fallbackEnabled` beside it does not block the walk (it is not a router config)', async () => {
    write('cfg/settings.json', V1_README);
    write('cfg/i18n.json', '{ "defaultLocale": "en", "locales": ["en", "de"], "fallbackEnabled": true }\n');
    write('cfg/fonts.json', '{ "theme": "dark", "enableFallback": true, "timeout": 3000 }\n');
    const r = await run('--write', '.');
    // Actual (ac120d4): exit 2, "cfg/i18n.json: error: cannot migrate: models: a v2 config needs a models list",
    // "no file was changed": settings.json stays v1.
    expect(r.stderr).not.toContain('i18n.json: error');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'cfg/settings.json'), 'utf8')).version).toBe(2);
  });
});

/** The CLI as users run it: `llmrr-migrate` in a child process (its own exit code, stderr and stdout). */
const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
function runChild(...argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--conditions=@llmrr/source', '--import', TSX, MAIN, ...argv], { cwd: dir, timeout: 120_000, maxBuffer: 64 * 2 ** 20 }, (e, stdout, stderr) => {
      done({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr });
    });
  });
}
const occurrences = (text: string, part: string) => text.split(part).length - 1;

describe('llmrr-migrate (child process): a failed migration', () => {
  it('of a config file is printed once, naming the field', async () => {
    write('router.json', '{ "models": ["gpt-4", 5], "strategy": "fallback" }\n');
    const r = await runChild('--check', 'router.json');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('router.json: error: cannot migrate: models.1: a model must be a name or an object, got 5');
    expect(occurrences(r.stderr, 'a model must be a name or an object')).toBe(1);
  });

  it('of an inline new LLMRouter({...}) leaves the file untouched and exits 2, naming file and line', async () => {
    const app = "import LLMRouter from 'llm-runner-router';\n\nconst router = new LLMRouter({ models: ['gpt-4', 5], strategy: 'fallback' });\nexport const ask = (q) => router.generate(q);\n";
    write('app.js', app);
    write('good.json', V1_JSON);
    const before = snapshot();
    for (const mode of ['--write', '--check', '--dry-run']) {
      const r = await runChild(mode, 'app.js', 'good.json');
      expect(r.code, `${mode}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('app.js: error: the LLMRouter config at line 3 cannot be migrated: models.1: a model must be a name or an object, got 5');
      expect(occurrences(r.stderr, 'a model must be a name or an object')).toBe(1);
      expect(r.stderr).toContain('no file was changed');
      expect(r.stdout).toBe('');
      expect(snapshot()).toEqual(before);
    }
  });
});

describe('llmrr-migrate (child process): a config nested too deep', () => {
  const nest = (levels: number, leaf: string, open: (inner: string) => string) => {
    let s = leaf;
    for (let i = 0; i < levels; i++) s = open(s);
    return s;
  };
  it('is an error naming the depth and where (JSON, YAML, inline source), exit 2, no stack', async () => {
    write('deep.json', `{ "models": ["gpt-4"], "strategy": "fallback", "extra": ${nest(20_000, '1', (s) => `{ "a": ${s} }`)} }\n`);
    write('deep.yaml', `models: [gpt-4]\nstrategy: fallback\nextra: ${nest(300, '1', (s) => `{ a: ${s} }`)}\n`);
    write('deep.js', `import LLMRouter from 'llm-runner-router';\nexport const r = new LLMRouter({ models: ['gpt-4'], strategy: 'fallback', extra: ${nest(300, '1', (s) => `{ a: ${s} }`)} });\n`);
    write('good.json', V1_JSON);
    const before = snapshot();
    const r = await runChild('--write', 'deep.json', 'deep.yaml', 'deep.js', 'good.json');
    expect(r.code).toBe(2);
    for (const f of ['deep.json', 'deep.yaml', 'deep.js']) {
      expect(r.stderr).toMatch(new RegExp(`^${f.replace('.', '\\.')}: error: .*nested deeper than 100 levels \\(at extra\\.a\\.a\\.a\\.a\\.a\\.\\.\\.\\)`, 'm'));
    }
    expect(r.stderr).not.toMatch(/RangeError|Maximum call stack|\n\s+at /);
    expect(snapshot()).toEqual(before);
  });

  it('past what the YAML or JS parser can read: an error saying so, exit 2, no stack', async () => {
    const lines = ['models: [gpt-4]', 'strategy: fallback', 'extra:'];
    for (let i = 0; i < 20_000; i++) lines.push(`${' '.repeat(i + 2)}a:`);
    write('deep.yaml', `${lines.join('\n')} 1\n`);
    write('deep.js', `import LLMRouter from 'llm-runner-router';\nexport const r = new LLMRouter({ models: ['gpt-4'], extra: ${nest(20_000, '1', (s) => `{a:${s}}`)} });\n`);
    const r = await runChild('--check', 'deep.yaml', 'deep.js');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^deep\.yaml: error: invalid YAML: nested too deep to read \(the parser ran out of stack at line \d+, column \d+\)/m);
    expect(r.stderr).toMatch(/^deep\.js: error: cannot parse: nested too deep to read \(the parser ran out of stack\)/m);
    expect(r.stderr).not.toMatch(/RangeError|Maximum call stack|\n\s+at /);
  });
});

describe('llmrr-migrate: a config already at the target, nested deeper than 100 levels', () => {
  /** A v2 config the core loads as it is, with a value of the app's own 101 levels deep. */
  const current = () => {
    let v: unknown = 1;
    for (let i = 0; i < 101; i++) v = { a: v };
    return `${JSON.stringify({ version: 2, models: [{ name: 'mock', engine: 'mock' }], 'x-app': v }, null, 2)}\n`;
  };

  it('is nothing to do (--check exits 0), and does not stop a v1 file named beside it from being written', async () => {
    write('router.json', current());
    const check = await run('--check', 'router.json');
    expect(check.code, check.stderr).toBe(0);
    write('old-router.json', V1_JSON);
    const r = await run('--write', 'router.json', 'old-router.json');
    expect(r.stderr).not.toContain('nested deeper than 100 levels');
    expect(r.code).toBe(0);
    expect(read('router.json')).toBe(current());
    expect(read('old-router.json')).toContain('"version": 2');
  });
});

describe('llmrr-migrate: a v1 new LLMRouter({...}) without a models list (models loaded with router.load)', () => {
  const app = (config: string) => `import LLMRouter from 'llm-runner-router';\n\nconst router = new LLMRouter(${config});\nawait router.load('gpt-4');\nexport const ask = (q) => router.generate(q);\n`;

  it('is a place it cannot convert whatever its other keys ({}, { timeout: 5000 }): the run goes on, the other files are written', async () => {
    for (const config of ['{}', '{ timeout: 5000 }', "{ timeout: 5000, strategy: 'fallback' }"]) {
      write('llm-router.json', V1_JSON);
      write('src/app.js', app(config));
      const r = await run('--write', '.');
      expect(r.code, `${config}: ${r.stderr}`).toBe(0);
      expect(r.stderr, config).toContain('src/app.js:3:30: cannot convert: the LLMRouter config has no models: v2 needs them (list the models you load with router.load)');
      expect(read('llm-router.json'), config).toContain('"version": 2');
      expect(read('src/app.js'), config).toContain(`new LLMRouter(${config})`);
    }
  });
});

describe("the core's advice on an older config (loadConfig's last error line)", () => {
  it('names an llmrr-migrate command that converts the file, which then loads (a v1 file; a v2 file with a stray v1 key)', async () => {
    const configs = {
      'v1.json': V1_JSON,
      'v2-stray.json': `${JSON.stringify({ version: 2, models: [{ name: 'mock', engine: 'mock' }], strategy: 'fallback' }, null, 2)}\n`,
    };
    for (const [name, text] of Object.entries(configs)) {
      write(name, text);
      const message = await loadConfig(join(dir, name)).then(
        () => 'loaded',
        (e: unknown) => (e as Error).message,
      );
      const advised = /: llmrr-migrate (--write [^\n]*)$/m.exec(message)?.[1];
      expect(advised, message).toBe(`--write ${join(dir, name)}`);
      const r = await run(...advised!.split(' '));
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      await expect(loadConfig(join(dir, name))).resolves.toBeDefined();
    }
  });
});
