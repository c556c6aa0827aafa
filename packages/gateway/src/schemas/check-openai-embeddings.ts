import { isObject, isString, optional } from './fast-predicates.js';
import { isModelName } from './model-name.js';
import { MAX_EMBEDDING_DIMENSIONS, MAX_EMBEDDING_INPUT_TOKENS, MAX_EMBEDDING_INPUTS, type OpenAIEmbeddingRequest } from './openai-embeddings.js';

/** The largest token id (int32, as servers read them): `TokenIdSchema`'s bound. */
const MAX_TOKEN_ID = 2_147_483_647;

function isTokenId(v: unknown): boolean {
  return typeof v === 'number' && v >= 0 && v <= MAX_TOKEN_ID && Math.floor(v) === v;
}

/** One input of token ids: a non-empty array of at most `MAX_EMBEDDING_INPUT_TOKENS` ids. */
function isTokenIds(v: unknown): boolean {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_EMBEDDING_INPUT_TOKENS) return false;
  for (let i = 0; i < v.length; i++) if (!isTokenId(v[i])) return false;
  return true;
}

/** `input` as a list: non-empty strings, one input of token ids, or inputs of token ids, one kind, within OpenAI's counts. */
function isInputList(list: unknown[]): boolean {
  const first = list[0];
  if (typeof first === 'number') return isTokenIds(list);
  if (list.length === 0 || list.length > MAX_EMBEDDING_INPUTS) return false;
  if (typeof first === 'string') {
    for (const v of list) if (typeof v !== 'string' || v === '') return false;
    return true;
  }
  for (const v of list) if (!isTokenIds(v)) return false;
  return true;
}

/**
 * A hand-written check of `POST /v1/embeddings` bodies: true only when `OpenAIEmbeddingRequestSchema` accepts `body`
 * unchanged. Token-id inputs (LangChain's default) can hold hundreds of thousands of ids in a few MiB, which the
 * schema's per-element union took 100-500 ms to check; this is a plain loop. Anything it does not accept goes to the
 * schema, which names the field at fault. check-openai-embeddings.test.ts holds it to the schema.
 */
export function isWellFormedEmbeddingRequest(body: unknown): body is OpenAIEmbeddingRequest {
  if (!isObject(body)) return false;
  const b = body as Record<string, unknown>;
  const input = b.input;
  return (
    isModelName(b.model) &&
    ((typeof input === 'string' && input !== '') || (Array.isArray(input) && isInputList(input))) &&
    optional(b.encoding_format, (v) => v === 'float' || v === 'base64') &&
    optional(b.dimensions, (v) => Number.isSafeInteger(v) && (v as number) > 0 && (v as number) <= MAX_EMBEDDING_DIMENSIONS) &&
    optional(b.user, isString)
  );
}
