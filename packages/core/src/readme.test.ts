/**
 * Keeps the package README and docs/core honest:
 * - every ```ts title="..."``` example in them runs for real (a temp .ts file importing '@llmrr/core',
 *   run by tsx with the `@llmrr/source` condition), and prints exactly its ```text title="... output"``` block;
 * - the README's error-code table matches `src/errors/codes.ts` (`UPDATE_README=1` regenerates it);
 * - the README's config example loads;
 * - relative links and #anchors point at files and headings that exist.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config/load.js';
import { ERROR_CODES, type LLMErrorCode } from './errors/codes.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = resolve(packageDir, '../..');
const readmePath = join(packageDir, 'README.md');
const docsDir = join(repoRoot, 'docs/core');
const tsxBin = join(repoRoot, 'node_modules/.bin/tsx');
const sharedDir = process.env['LLMRR_SHARED_DIR'] ?? resolve(repoRoot, '../shared');
const ggufModel = join(sharedDir, 'models/stories260K.gguf');

/** Linked pages other people are still writing; a link to them may dangle until they land. */
const PENDING_PAGES = new Set(['README-sections/semantic-cache.md', 'README-sections/learning.md'].map((p) => join(packageDir, p)));

interface CodeBlock {
  lang: string;
  title: string | undefined;
  code: string;
}

/** Fenced code blocks of a markdown text, with their `title="..."` attribute. */
function codeBlocks(markdown: string): CodeBlock[] {
  return [...markdown.matchAll(/^```(\w*)([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm)].map((m) => ({
    lang: m[1] ?? '',
    title: /title="([^"]+)"/.exec(m[2] ?? '')?.[1],
    code: m[3] ?? '',
  }));
}

/** The markdown without its fenced code blocks (for links and headings). */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```[ \t]*$/gm, '');
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(markdown: string): Set<string> {
  return new Set([...prose(markdown).matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1] ?? '')));
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Environment for the examples: no config or price overrides from the machine running the tests. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('LLM_ROUTER_') && k !== 'LLMRR_PRICES_FILE' && k !== 'FORCE_COLOR') env[k] = v;
  }
  // Printed output is compared as text: no ANSI colours, whatever the runner's terminal (CI sets FORCE_COLOR).
  env['NO_COLOR'] = '1';
  return env;
}

function runTsx(file: string, cwd: string): Promise<RunResult> {
  return new Promise((done) => {
    execFile(tsxBin, ['--conditions=@llmrr/source', file], { cwd, env: cleanEnv(), timeout: 120_000, maxBuffer: 4 << 20 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Runnable examples of the README and docs/core: titled ts blocks, with their expected output when given. */
async function examples(): Promise<Array<{ file: string; title: string; code: string; output: string | undefined }>> {
  const files = [readmePath, ...(await readdir(docsDir)).filter((f) => f.endsWith('.md')).map((f) => join(docsDir, f))];
  const out = [];
  for (const file of files) {
    const blocks = codeBlocks(await readFile(file, 'utf8'));
    for (const b of blocks) {
      if (b.lang !== 'ts' || b.title === undefined) continue;
      const output = blocks.find((o) => o.lang === 'text' && o.title === `${b.title} output`)?.code;
      out.push({ file, title: b.title, code: b.code, output });
    }
  }
  return out;
}

let work: string;

beforeAll(async () => {
  // A scratch project where `import '@llmrr/core'` resolves to this package (through a symlink), like an app would.
  work = await mkdtemp(join(tmpdir(), 'llmrr-readme-'));
  await mkdir(join(work, 'node_modules/@llmrr'), { recursive: true });
  await symlink(packageDir, join(work, 'node_modules/@llmrr/core'), 'dir');
  await writeFile(join(work, 'package.json'), JSON.stringify({ name: 'readme-examples', private: true, type: 'module' }));
  if (existsSync(ggufModel)) {
    await mkdir(join(work, 'models'));
    await symlink(ggufModel, join(work, 'models/stories260K.gguf'));
  }
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('README and docs/core examples run', async () => {
  const all = await examples();

  it('the README has the quickstart (mock), gguf and reasoning examples, the quickstart with its exact output', () => {
    const inReadme = all.filter((e) => e.file === readmePath);
    expect(inReadme.map((e) => e.title)).toEqual(['quickstart', 'gguf', 'reasoning']);
    expect(inReadme[0]?.output).toBeDefined();
  });

  for (const example of all) {
    const where = `${example.file.slice(repoRoot.length + 1)} "${example.title}"`;
    const needsModel = example.title === 'gguf';
    const skip = needsModel && !existsSync(ggufModel);
    if (skip) console.warn(`[readme test] ${where} skipped: ${ggufModel} not found (set LLMRR_SHARED_DIR)`);
    it.skipIf(skip)(`${where}${skip ? ` (SKIPPED: ${ggufModel} not found)` : ''}`, { timeout: 180_000 }, async () => {
      const file = join(work, `${example.title.replace(/[^\w-]/g, '_')}.ts`);
      await writeFile(file, example.code);
      const run = await runTsx(file, work);
      expect(run.stderr, `stderr of ${where}`).toBe('');
      expect(run.code, `exit code of ${where}`).toBe(0);
      if (example.output !== undefined) expect(run.stdout).toBe(example.output);
      if (needsModel) {
        // A real model's words are not pinned; what the README promises about them is.
        const [story = '', summary = ''] = run.stdout.split(/\n(?=\[\d+ prompt)/);
        expect(story.trim().length).toBeGreaterThan(20);
        expect(summary).toMatch(/^\[\d+ prompt \+ 60 generated tokens, \$0\]\n$/);
      }
    });
  }
});

// ---- the error-code table -------------------------------------------------------------------------

const TABLE_START = '<!-- error-codes:start -->';
const TABLE_END = '<!-- error-codes:end -->';
const TABLE_HEAD = '| code | HTTP | type | retryable | when |\n| --- | --- | --- | --- | --- |';

interface Row {
  code: string;
  status: string;
  type: string;
  retryable: string;
  when: string;
}

function tableRows(readme: string): Row[] {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${TABLE_START} ... ${TABLE_END} block`);
  return readme
    .slice(start + TABLE_START.length, end)
    .split('\n')
    .filter((l) => /^\| `/.test(l))
    .map((l) => {
      const cells = l.split(' | ').map((c) => c.replace(/^\| ?| ?\|$/g, '').trim());
      const [code = '', status = '', type = '', retryable = '', ...when] = cells;
      return { code: code.replace(/`/g, ''), status, type: type.replace(/`/g, ''), retryable, when: when.join(' | ') };
    });
}

/** The table codes.ts implies, keeping each code's "when" text from the README. */
function expectedTable(current: Row[]): string {
  const when = new Map(current.map((r) => [r.code, r.when]));
  const rows = (Object.keys(ERROR_CODES) as LLMErrorCode[]).map((code) => {
    const e = ERROR_CODES[code];
    return `| \`${code}\` | ${e.status} | \`${e.type}\` | ${e.retryable ? 'yes' : 'no'} | ${when.get(code) || 'TODO: say when this code is used'} |`;
  });
  return `${TABLE_HEAD}\n${rows.join('\n')}`;
}

describe('README error-code table', () => {
  it('matches src/errors/codes.ts (UPDATE_README=1 regenerates it)', async () => {
    let readme = await readFile(readmePath, 'utf8');
    const current = tableRows(readme);
    if (process.env['UPDATE_README'] === '1') {
      const start = readme.indexOf(TABLE_START) + TABLE_START.length;
      readme = `${readme.slice(0, start)}\n${expectedTable(current)}\n${readme.slice(readme.indexOf(TABLE_END))}`;
      await writeFile(readmePath, readme);
    }
    const rows = tableRows(readme);
    const expected = (Object.keys(ERROR_CODES) as LLMErrorCode[]).map((code) => ({
      code,
      status: String(ERROR_CODES[code].status),
      type: ERROR_CODES[code].type,
      retryable: ERROR_CODES[code].retryable ? 'yes' : 'no',
    }));
    expect(rows.map(({ when: _when, ...r }) => r)).toEqual(expected);
    for (const r of rows) expect(r.when, `README: say when \`${r.code}\` is used`).not.toMatch(/^$|^TODO/);
  });
});

// ---- the README's config example -----------------------------------------------------------------

describe('README config example', () => {
  it('loads with loadConfig', async () => {
    const readme = await readFile(readmePath, 'utf8');
    const block = codeBlocks(readme).find((b) => b.lang === 'yaml' && b.code.startsWith('# llmrr.config.yaml'));
    expect(block, 'a ```yaml block starting with "# llmrr.config.yaml"').toBeDefined();
    await writeFile(join(work, 'llmrr.config.yaml'), block!.code);
    const config = await loadConfig('llmrr.config.yaml', { cwd: work, env: { OPENAI_API_KEY: 'sk-test' } });
    expect(config.models.map((m) => [m.name, m.engine])).toEqual([
      ['gpt4o-mini', 'openai-compatible'],
      ['local', 'gguf'],
    ]);
    expect(config.models[0]?.apiKey).toBe('sk-test');
    expect(config.routing).toMatchObject({ strategy: 'cost-optimized', fallbacks: ['local'], retries: { max: 2 } });
    expect(config.cache.exact.enabled).toBe(true);
  });
});

describe('docs/core/config.md examples', () => {
  it('the YAML and the JSON (v3) example load as documented', async () => {
    const md = await readFile(join(docsDir, 'config.md'), 'utf8');
    const blocks = codeBlocks(md.slice(md.indexOf('## Examples'))).filter((b) => b.lang === 'yaml' || b.lang === 'json');
    expect(blocks.map((b) => b.lang)).toEqual(['yaml', 'json']);
    await writeFile(join(work, 'example0.yaml'), blocks[0]!.code);
    await writeFile(join(work, 'example1.json'), blocks[1]!.code);
    const yaml = await loadConfig('example0.yaml', { env: { OPENAI_API_KEY: 'sk-1' }, cwd: work });
    expect(yaml.models.map((m) => m.name)).toEqual(['gpt4o-mini', 'claude-haiku', 'local']);
    expect(yaml.modelsDir).toBe(work);
    expect(yaml.cache.exact).toMatchObject({ enabled: true, ttlMs: 600_000 });
    const json = await loadConfig('example1.json', { env: { OPENAI_API_KEY: 'sk-1' }, cwd: work });
    expect(json.version).toBe(3);
    expect(json.models[0]?.apiKey).toBe('sk-1');
  });
});

// ---- links -----------------------------------------------------------------------------------------

describe('README and docs/core links', () => {
  it('every relative link points at an existing file, and every #anchor at a heading', async () => {
    const files = [readmePath, ...(await readdir(docsDir)).filter((f) => f.endsWith('.md')).map((f) => join(docsDir, f))];
    const broken: string[] = [];
    let checked = 0;
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const m of prose(text).matchAll(/\]\(([^)\s]+)\)/g)) {
        const href = m[1] ?? '';
        if (/^[a-z]+:/i.test(href)) continue;
        const [path = '', anchor] = href.split('#');
        const target = path === '' ? file : resolve(dirname(file), path);
        checked++;
        if (PENDING_PAGES.has(target)) continue;
        if (!existsSync(target)) {
          broken.push(`${file.slice(repoRoot.length + 1)}: ${href} (no such file)`);
          continue;
        }
        if (anchor !== undefined && target.endsWith('.md') && !anchors(await readFile(target, 'utf8')).has(anchor)) {
          broken.push(`${file.slice(repoRoot.length + 1)}: ${href} (no heading #${anchor})`);
        }
      }
    }
    expect(checked).toBeGreaterThan(40);
    expect(broken).toEqual([]);
  });
});
