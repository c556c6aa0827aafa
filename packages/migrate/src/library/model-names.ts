/**
 * Legacy model names and the engine each model family runs on. Users extend the table with
 * `modelNames` in the migrate options (or `--models table.json` on the CLI).
 */

/** What a model name turns into in a v2 config. */
export interface ModelTarget {
  /** Current model name: the deployment name and, unless `model` says otherwise, the provider's model id. */
  name: string;
  /** Engine kind (`openai-compatible`, `anthropic`, `gemini`, `gguf`, `onnx`, `mock`, or a registered one). */
  engine?: string;
  /** Provider preset for `openai-compatible` (`openai`, `ollama`, `groq`...). */
  preset?: string;
  /** Provider model id, when it differs from `name`. */
  model?: string;
  /** Local model file, for `gguf` and `onnx`. */
  path?: string;
}

/** A table entry: the new name, or the new name with its engine. */
export type ModelNameEntry = string | ModelTarget;
export type ModelNameTable = Readonly<Record<string, ModelNameEntry>>;

/** Old names of the original project and its docs, mapped to current provider model ids. */
export const LEGACY_MODEL_NAMES: ModelNameTable = {
  'gpt-3.5': 'gpt-3.5-turbo',
  'gpt3.5': 'gpt-3.5-turbo',
  'gpt-35-turbo': 'gpt-3.5-turbo',
  'gpt-3.5-turbo-0301': 'gpt-3.5-turbo',
  'gpt-3.5-turbo-0613': 'gpt-3.5-turbo',
  chatgpt: 'gpt-3.5-turbo',
  gpt4: 'gpt-4',
  'gpt-4-0314': 'gpt-4',
  'gpt-4-turbo-preview': 'gpt-4-turbo',
  'gpt-4-vision': 'gpt-4-turbo',
  'gpt-4-vision-preview': 'gpt-4-turbo',
  gpt4o: 'gpt-4o',
  'gpt-4o-mini-2024': 'gpt-4o-mini',
  'claude-instant': 'claude-3-haiku-20240307',
  'claude-instant-1': 'claude-3-haiku-20240307',
  'claude-2': 'claude-2.1',
  'claude-3-opus': 'claude-3-opus-20240229',
  'claude-3-sonnet': 'claude-3-sonnet-20240229',
  'claude-3-haiku': 'claude-3-haiku-20240307',
  'claude-3.5-sonnet': 'claude-3-5-sonnet-latest',
  'claude-3-5-sonnet': 'claude-3-5-sonnet-latest',
  'claude-3.5-haiku': 'claude-3-5-haiku-latest',
  'gemini-pro': 'gemini-1.0-pro',
  'gemini-1.5': 'gemini-1.5-pro',
  'gemini-flash': 'gemini-1.5-flash',
  'llama-2': 'llama2',
  'llama-3': 'llama3',
  'mistral-7b': 'mistral',
};

/** A name resolved against the table and the family rules. */
export interface ResolvedModel extends ModelTarget {
  engine: string;
  /** The table had an entry for the name. */
  fromTable: boolean;
  /** How the engine was chosen: the table, a family rule, or nothing matched (default engine). */
  engineSource: 'table' | 'family' | 'default';
}

interface Family {
  test: RegExp;
  engine: string;
  preset?: string;
}

/** Engine guess per model family, first match wins. Local names (a `:tag`, llama, mistral...) go to Ollama. */
const FAMILIES: readonly Family[] = [
  { test: /^(gpt-|gpt\d|chatgpt|o[134](-|$)|text-davinci|davinci|babbage|text-embedding|dall-e|whisper|tts-)/i, engine: 'openai-compatible', preset: 'openai' },
  { test: /^claude/i, engine: 'anthropic' },
  { test: /^(gemini|models\/gemini|text-bison|chat-bison)/i, engine: 'gemini' },
  { test: /^(mistral-(large|medium|small|tiny|embed)|open-mistral|open-mixtral|codestral|pixtral|ministral)/i, engine: 'openai-compatible', preset: 'mistral' },
  { test: /^deepseek-(chat|reasoner)$/i, engine: 'openai-compatible', preset: 'deepseek' },
  {
    test: /(^[\w.-]+:[\w.-]+$)|^(llama|codellama|tinyllama|mistral|mixtral|phi|qwen|gemma|vicuna|orca|neural-chat|starling|zephyr|deepseek|smollm|nomic|dolphin|wizard|falcon|yi|solar|command-r|llava|moondream)/i,
    engine: 'openai-compatible',
    preset: 'ollama',
  },
];

function normalizeEntry(entry: ModelNameEntry): ModelTarget {
  return typeof entry === 'string' ? { name: entry } : entry;
}

/** File name without directories and the last extension. */
function stem(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  return base.replace(/\.[^.]+$/, '') || base;
}

function guessFamily(name: string): Family | undefined {
  return FAMILIES.find((f) => f.test.test(name));
}

/**
 * Resolves a v1 model reference (a name, `mock://x`, `ollama:x`, or a `.gguf`/`.onnx` path) to a v2
 * name and engine. `table` entries override the built-in table.
 */
export function resolveModelName(raw: string, table: ModelNameTable = LEGACY_MODEL_NAMES): ResolvedModel {
  const ref = raw.trim();
  const hit = Object.hasOwn(table, ref) ? table[ref] : Object.hasOwn(table, ref.toLowerCase()) ? table[ref.toLowerCase()] : undefined;
  if (hit !== undefined) {
    const target = normalizeEntry(hit);
    const family = target.engine ? undefined : guessFamily(target.model ?? target.name);
    return {
      ...target,
      engine: target.engine ?? family?.engine ?? 'openai-compatible',
      ...(target.engine || !family?.preset ? {} : { preset: family.preset }),
      fromTable: true,
      engineSource: target.engine ? 'table' : family ? 'family' : 'default',
    };
  }
  if (/\.gguf$/i.test(ref)) return { name: stem(ref), engine: 'gguf', path: ref, fromTable: false, engineSource: 'family' };
  if (/\.onnx$/i.test(ref)) return { name: stem(ref), engine: 'onnx', path: ref, fromTable: false, engineSource: 'family' };
  const mock = /^mock(?::\/\/|:)(.*)$/i.exec(ref);
  if (mock || ref.toLowerCase() === 'mock') return { name: mock?.[1] || 'mock', engine: 'mock', fromTable: false, engineSource: 'family' };
  const ollama = /^ollama(?::\/\/|:|\/)(.+)$/i.exec(ref);
  if (ollama?.[1]) return { name: ollama[1], engine: 'openai-compatible', preset: 'ollama', fromTable: false, engineSource: 'family' };
  const family = guessFamily(ref);
  if (family) {
    return { name: ref, engine: family.engine, ...(family.preset ? { preset: family.preset } : {}), fromTable: false, engineSource: 'family' };
  }
  return { name: ref, engine: 'openai-compatible', fromTable: false, engineSource: 'default' };
}

/** The current name for an old one (or the name itself), from `table` over the built-in table. */
export function currentModelName(raw: string, table: ModelNameTable = LEGACY_MODEL_NAMES): string {
  const hit = Object.hasOwn(table, raw) ? table[raw] : undefined;
  return hit === undefined ? raw : normalizeEntry(hit).name;
}

/** The built-in table with `extra` entries over it. */
export function extendModelNames(extra: ModelNameTable = {}): ModelNameTable {
  return { ...LEGACY_MODEL_NAMES, ...extra };
}
