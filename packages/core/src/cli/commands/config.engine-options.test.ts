/**
 * Engine settings a config can misspell (an openai-compatible `preset`, a gguf option): refused with the config, by
 * `llmrr config validate` (exit 2, naming `models.<i>.<field>`) and when the router is built (`config_invalid` with
 * that `param`), never accepted and then failing every call (README: "A wrong config fails at start with
 * `config_invalid` naming each bad field's path"; docs/core/gguf.md: unknown options are refused). The check reads
 * the config alone: no model file is opened (`./tiny.gguf` does not exist) and nothing is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { LLMRouter } from '../../router/llm-router.js';
import { runCli, tempDir, type TempDir } from '../__fixtures__/cli-harness.js';

let t: TempDir;
beforeAll(() => {
  t = tempDir();
});
afterAll(() => t.remove());

/** What building a router over `yaml` (and then a first call) fails with: `code param`. */
async function routerError(yaml: string): Promise<string> {
  const { parse } = await import('yaml');
  let router: LLMRouter | undefined;
  try {
    router = new LLMRouter(parse(yaml), { env: {} });
    await router.generate('hello');
    return 'no error';
  } catch (e) {
    return `${(e as LLMError).code} ${(e as LLMError).param}`;
  } finally {
    await router?.close();
  }
}

describe('engine settings checked with the config', () => {
  it('a misspelt preset (opnai): config validate exits 2 naming models.1.preset; the router refuses to build', async () => {
    const yaml = 'models:\n  - { name: ok, engine: mock }\n  - { name: gpt, preset: opnai, model: gpt-4o-mini, apiKey: sk-test }\n';
    const file = t.write('preset.yaml', yaml);
    expect(await routerError(yaml)).toBe('config_invalid models.1.preset');
    const r = await runCli(['config', 'validate', file], { cwd: t.dir });
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expect(r.stderr).toContain('models.1.preset');
    expect(r.stderr).toContain('unknown preset "opnai"');
  });

  it('a misspelt gguf option (thread for threads), without opening the model file', async () => {
    const yaml = 'models:\n  - { name: local, engine: gguf, path: ./tiny.gguf, options: { thread: 1 } }\n';
    const file = t.write('gguf.yaml', yaml);
    expect(await routerError(yaml)).toBe('config_invalid models.0.options.thread');
    const r = await runCli(['config', 'validate', file], { cwd: t.dir });
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expect(r.stderr).toContain('models.0.options.thread');
  });

  for (const engine of ['gguf', 'onnx'] as const) {
    it(`a ${engine} model without path is refused at start, naming models.1.path (not at its first call)`, async () => {
      const yaml = `models:\n  - { name: ok, engine: mock }\n  - { name: local, engine: ${engine} }\n`;
      expect(await routerError(yaml)).toBe('config_invalid models.1.path');
      const file = t.write(`${engine}-no-path.yaml`, yaml);
      const r = await runCli(['config', 'validate', file], { cwd: t.dir });
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
      expect(r.stderr).toContain('models.1.path');
    });
  }

  it('anthropic and gemini options too', async () => {
    expect(await routerError('models:\n  - { name: c, engine: anthropic, model: claude-x, apiKey: k, options: { exactTokenCounts: true } }\n')).toBe('config_invalid models.0.options.exactTokenCounts');
    expect(await routerError('models:\n  - { name: g, engine: gemini, model: gemini-x, apiKey: k, options: { apiVersion: 3 } }\n')).toBe('config_invalid models.0.options.apiVersion');
  });

  it("a v3 tenant's own model is named under its tenant", () => {
    let error: unknown;
    try {
      new LLMRouter({ version: 3, models: [{ name: 'm', engine: 'mock' }], tenants: [{ id: 'acme', models: [{ name: 'own', preset: 'opnai', model: 'x', apiKey: 'k' }] }] }, { env: {} });
    } catch (e) {
      error = e;
    }
    expect(LLMError.isInstance(error) && error.param).toBe('tenants.0.models.0.preset');
  });

  it('valid settings pass, and the check creates no engine (a gguf file that does not exist is not opened)', async () => {
    const yaml = 'models:\n  - { name: local, engine: gguf, path: ./tiny.gguf, options: { threads: 1 } }\n  - { name: gpt, preset: openai, model: gpt-4o-mini, apiKey: sk-test, options: { streamUsage: false } }\n';
    const file = t.write('good.yaml', yaml);
    const r = await runCli(['config', 'validate', file], { cwd: t.dir });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain('valid');
  });
});
