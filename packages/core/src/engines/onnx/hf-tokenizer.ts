import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LLMError } from '../../errors/llm-error.js';

/** A tokenizer read from a Hugging Face `tokenizer.json`, with what the ONNX engine needs. */
export interface TextTokenizer {
  /** Token ids of a text, with the tokenizer's special tokens (BOS, CLS/SEP) as its post-processor adds them. */
  encode(text: string): number[];
  /** Text of token ids, special tokens skipped, spaces not cleaned up (so a prefix decodes to a prefix). */
  decode(ids: readonly number[]): string;
  /** End-of-sequence ids (may be empty: then only maxTokens stops generation). */
  readonly eosIds: ReadonlySet<number>;
  /** Id used to pad embedding batches (masked out). */
  readonly padId: number;
}

/** End-of-sequence tokens looked for when neither options nor tokenizer_config.json name one. */
const KNOWN_EOS = ['</s>', '<|endoftext|>', '<eos>', '<|end_of_text|>', '<|eot_id|>', '<|im_end|>'];

type JsonObject = Record<string, unknown>;

/**
 * The part of `@huggingface/tokenizers`' Tokenizer used here. Its published .d.ts files use
 * extensionless relative imports, which NodeNext resolution does not follow, so the shape is declared here.
 */
interface HfTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): { ids: number[] };
  decode(ids: number[], options: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean }): string;
  token_to_id(token: string): number | undefined;
  get_added_tokens_decoder(): Map<number, { content: string }>;
}
type HfTokenizerConstructor = new (tokenizer: object, config: object) => HfTokenizer;

function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as JsonObject)['content'] === 'string') return (value as JsonObject)['content'] as string;
  return undefined;
}

async function readJson(path: string, what: string, param: string): Promise<JsonObject> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new LLMError({ code: 'config_invalid', message: `${what} not found: ${path}`, param, provider: 'onnx', cause: e });
  }
  try {
    const value: unknown = JSON.parse(text);
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as JsonObject;
  } catch (e) {
    throw new LLMError({ code: 'config_invalid', message: `${what} ${path} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, param, provider: 'onnx', cause: e });
  }
}

export interface LoadTokenizerOptions {
  /** Absolute path of tokenizer.json. */
  path: string;
  /** Absolute path of tokenizer_config.json; default: beside tokenizer.json when it exists. */
  configPath?: string;
  eosTokenId?: number | number[];
}

/**
 * Reads a `tokenizer.json` with `@huggingface/tokenizers` (pure JS, no dependencies, offline from a local file).
 * Supported: the models BPE (byte-level or not), WordPiece, Unigram (and WordLevel as far as that library maps it),
 * with their normalizers, pre-tokenizers, post-processors and decoders. Other model types are refused.
 */
export async function loadTokenizer(options: LoadTokenizerOptions): Promise<TextTokenizer> {
  const json = await readJson(options.path, 'Tokenizer file (options.tokenizer)', 'options.tokenizer');
  const configPath = options.configPath ?? join(dirname(options.path), 'tokenizer_config.json');
  const config = options.configPath !== undefined || existsSync(configPath) ? await readJson(configPath, 'Tokenizer config (options.tokenizerConfig)', 'options.tokenizerConfig') : {};
  // Imported here, not at the top: only an ONNX model loads it (a module the rest of the router never needs).
  const { Tokenizer } = await import('@huggingface/tokenizers');
  let tokenizer: HfTokenizer;
  try {
    tokenizer = new (Tokenizer as unknown as HfTokenizerConstructor)(json, config);
  } catch (e) {
    const model = (json['model'] as JsonObject | undefined)?.['type'];
    throw new LLMError({
      code: 'config_invalid',
      message: `Tokenizer ${options.path} (model type ${JSON.stringify(model)}) cannot be read: ${e instanceof Error ? e.message : String(e)}. Supported model types: BPE, WordPiece, Unigram.`,
      param: 'options.tokenizer',
      provider: 'onnx',
      cause: e,
    });
  }
  const idOf = (content: string | undefined): number | undefined => (content === undefined ? undefined : tokenizer.token_to_id(content));

  let eosIds: number[];
  if (options.eosTokenId !== undefined) eosIds = Array.isArray(options.eosTokenId) ? options.eosTokenId : [options.eosTokenId];
  else {
    const fromConfig = idOf(tokenContent(config['eos_token']));
    const special = new Set(Array.from(tokenizer.get_added_tokens_decoder().values(), (t) => t.content));
    const known = KNOWN_EOS.find((c) => special.has(c));
    const id = fromConfig ?? idOf(known);
    eosIds = id === undefined ? [] : [id];
  }
  const padding = json['padding'] as JsonObject | null | undefined;
  const padId = (typeof padding?.['pad_id'] === 'number' ? padding['pad_id'] : undefined) ?? idOf(tokenContent(config['pad_token'])) ?? 0;

  return {
    encode: (text) => tokenizer.encode(text, { add_special_tokens: true }).ids,
    decode: (ids) => (ids.length === 0 ? '' : tokenizer.decode([...ids], { skip_special_tokens: true, clean_up_tokenization_spaces: false })),
    eosIds: new Set(eosIds),
    padId,
  };
}
