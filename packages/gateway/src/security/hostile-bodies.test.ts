import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayLogEntry } from '../types.js';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { expectGatewayError } from '../test-support/expect-error.js';
import { createHarness, mockModel, type Harness } from '../test-support/harness.js';
import { send } from '../test-support/raw-http.js';

/**
 * Bad request bodies, as a hostile client or a sloppy SDK sends them, to every POST route of a real
 * `serveGateway` on port 0: each is a 4xx with the full error body naming the field, and leaves nothing
 * behind (no ledger record, no budget reservation, no error in the server log).
 */

const MAX_BODY = 8192;
const MAX_MESSAGES = 5;

type Route = '/v1/chat/completions' | '/v1/completions' | '/v1/responses' | '/v1/embeddings' | '/v1/messages' | '/api/quick' | '/api/chat' | '/api/route' | '/v1/feedback';

interface Case {
  name: string;
  route: Route;
  /** A value (sent as JSON) or the raw text / bytes. */
  body: unknown;
  raw?: boolean;
  headers?: Record<string, string>;
  status?: number;
  code?: string;
  param: string | null;
}

const hi = [{ role: 'user', content: 'hi' }];
const chat = { model: 'mock', messages: hi };
const anthropic = { model: 'mock', max_tokens: 16, messages: hi };
const utf8 = (s: string) => new TextEncoder().encode(s);
/** `before` + bytes that are not UTF-8 + `after`. */
const badUtf8 = (before: string, after: string) => new Uint8Array([...utf8(before), 0xc3, 0x28, 0xff, ...utf8(after)]);
const BOM = '\ufeff';
const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const deepSchema = (levels: number): Record<string, unknown> => {
  let s: Record<string, unknown> = { type: 'string' };
  for (let i = 0; i < levels; i++) s = { type: 'object', properties: { a: s } };
  return s;
};

/** The first required field of each route's body (what an empty object is refused for). */
const FIRST_FIELD: Record<Route, string> = {
  '/v1/chat/completions': 'model',
  '/v1/completions': 'model',
  '/v1/responses': 'model',
  '/v1/embeddings': 'model',
  '/v1/messages': 'model',
  '/api/quick': 'prompt',
  '/api/chat': 'messages',
  '/api/route': 'prompt',
  '/v1/feedback': 'request_id',
};
const ROUTES = Object.keys(FIRST_FIELD) as Route[];

/** Wrong in the same way on every route: not a JSON object at all. */
const everyRoute: Case[] = ROUTES.flatMap((route): Case[] => [
  { name: 'an empty body', route, body: '', raw: true, code: 'invalid_json', param: 'body' },
  { name: 'only whitespace', route, body: ' \r\n\t', raw: true, code: 'invalid_json', param: 'body' },
  { name: 'only a BOM', route, body: BOM, raw: true, code: 'invalid_json', param: 'body' },
  { name: 'null', route, body: 'null', raw: true, code: 'invalid_request', param: 'body' },
  { name: 'an array', route, body: '[{"model":"mock"}]', raw: true, code: 'invalid_request', param: 'body' },
  { name: 'a string', route, body: '"model=mock"', raw: true, code: 'invalid_request', param: 'body' },
  { name: 'a number', route, body: '42', raw: true, code: 'invalid_request', param: 'body' },
  { name: 'true', route, body: 'true', raw: true, code: 'invalid_request', param: 'body' },
  { name: 'malformed JSON', route, body: '{"model": "mock", ', raw: true, code: 'invalid_json', param: 'body' },
  { name: 'single-quoted JSON', route, body: "{'model': 'mock'}", raw: true, code: 'invalid_json', param: 'body' },
  { name: 'JSON with a trailing comma', route, body: '{"model":"mock",}', raw: true, code: 'invalid_json', param: 'body' },
  { name: 'NaN', route, body: '{"model":NaN}', raw: true, code: 'invalid_json', param: 'body' },
  { name: 'two JSON documents', route, body: '{}{}', raw: true, code: 'invalid_json', param: 'body' },
  { name: 'an array nested 4,000 deep', route, body: deep(4000), raw: true, code: 'invalid_request', param: 'body' },
  // The BOM is dropped (as JSON parsers do): the empty object is then refused for its first field.
  { name: 'a BOM before an empty object', route, body: `${BOM}{}`, raw: true, code: 'invalid_request', param: FIRST_FIELD[route] },
  { name: 'invalid UTF-8 in a value', route, body: badUtf8('{"prompt":"', '"}'), raw: true, code: 'invalid_request', param: 'body' },
  { name: 'invalid UTF-8 in a key', route, body: badUtf8('{"', '":1}'), raw: true, code: 'invalid_request', param: 'body' },
  { name: 'a lone continuation byte', route, body: new Uint8Array([0x7b, 0x80, 0x7d]), raw: true, code: 'invalid_request', param: 'body' },
  { name: 'an overlong encoding of "/"', route, body: new Uint8Array([...utf8('{"model":"'), 0xc0, 0xaf, ...utf8('"}')]), raw: true, code: 'invalid_request', param: 'body' },
  { name: 'UTF-16 text', route, body: new Uint8Array([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]), raw: true, code: 'invalid_request', param: 'body' },
  { name: 'a form content type', route, body: 'model=mock', raw: true, headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'unsupported_media_type', param: 'content-type' },
  { name: 'a multipart content type', route, body: '--x\r\n\r\n--x--', raw: true, headers: { 'content-type': 'multipart/form-data; boundary=x' }, status: 415, code: 'unsupported_media_type', param: 'content-type' },
  { name: 'an XML content type', route, body: '<model>mock</model>', raw: true, headers: { 'content-type': 'application/xml' }, status: 415, code: 'unsupported_media_type', param: 'content-type' },
  { name: 'a body over the limit (Content-Length)', route, body: { pad: 'x'.repeat(MAX_BODY) }, status: 413, code: 'payload_too_large', param: 'body' },
]);

const long = 'm'.repeat(300);

const chatCases: Case[] = [
  { name: 'model missing', route: '/v1/chat/completions', body: { messages: hi }, param: 'model' },
  { name: 'model a number', route: '/v1/chat/completions', body: { ...chat, model: 42 }, param: 'model' },
  { name: 'model null', route: '/v1/chat/completions', body: { ...chat, model: null }, param: 'model' },
  { name: 'model an object', route: '/v1/chat/completions', body: { ...chat, model: { name: 'mock' } }, param: 'model' },
  { name: 'model empty', route: '/v1/chat/completions', body: { ...chat, model: '' }, param: 'model' },
  { name: 'model of 300 characters', route: '/v1/chat/completions', body: { ...chat, model: long }, param: 'model' },
  { name: 'model of 4 KB', route: '/v1/chat/completions', body: { ...chat, model: 'x'.repeat(4096) }, param: 'model' },
  { name: 'model with a NUL', route: '/v1/chat/completions', body: { ...chat, model: 'mo\u0000ck' }, param: 'model' },
  { name: 'model with a terminal escape', route: '/v1/chat/completions', body: { ...chat, model: '\u001b[2Jmock' }, param: 'model' },
  { name: 'model with a newline', route: '/v1/chat/completions', body: { ...chat, model: 'mock\n' }, param: 'model' },
  { name: 'model with a C1 control', route: '/v1/chat/completions', body: { ...chat, model: 'mock\u0085' }, param: 'model' },
  { name: 'a duplicate model key, the last one a number', route: '/v1/chat/completions', body: '{"model":"mock","messages":[{"role":"user","content":"hi"}],"model":7}', raw: true, param: 'model' },
  { name: 'messages missing', route: '/v1/chat/completions', body: { model: 'mock' }, param: 'messages' },
  { name: 'messages an object', route: '/v1/chat/completions', body: { ...chat, messages: { role: 'user', content: 'hi' } }, param: 'messages' },
  { name: 'messages a string', route: '/v1/chat/completions', body: { ...chat, messages: 'hi' }, param: 'messages' },
  { name: 'messages empty', route: '/v1/chat/completions', body: { ...chat, messages: [] }, param: 'messages' },
  { name: 'a null message', route: '/v1/chat/completions', body: { ...chat, messages: [null] }, param: 'messages.0' },
  { name: 'a message without a role', route: '/v1/chat/completions', body: { ...chat, messages: [{ content: 'hi' }] }, param: 'messages.0.role' },
  { name: 'an unknown role', route: '/v1/chat/completions', body: { ...chat, messages: [{ role: 'wizard', content: 'hi' }] }, param: 'messages.0.role' },
  { name: 'a role of the wrong case', route: '/v1/chat/completions', body: { ...chat, messages: [{ role: 'User', content: 'hi' }] }, param: 'messages.0.role' },
  { name: 'a user message without content', route: '/v1/chat/completions', body: { ...chat, messages: [{ role: 'user' }] }, param: 'messages.0.content' },
  { name: 'a user message with null content', route: '/v1/chat/completions', body: { ...chat, messages: [{ role: 'user', content: null }] }, param: 'messages.0.content' },
  { name: 'content an object', route: '/v1/chat/completions', body: { ...chat, messages: [{ role: 'user', content: { text: 'hi' } }] }, param: 'messages.0.content' },
  { name: 'a content part of an unknown type', route: '/v1/chat/completions', body: { ...chat, messages: [{ role: 'user', content: [{ type: 'input_video', input_video: { data: 'x' } }] }] }, param: 'messages.0.content.0.type' },
  // OpenAI's file and audio parts are valid requests the gateway does not serve: `unsupported`, naming the part.
  { name: 'a file part', route: '/v1/chat/completions', body: { ...chat, messages: [{ role: 'user', content: [{ type: 'text', text: 'read' }, { type: 'file', file: { file_id: 'file-1' } }] }] }, code: 'unsupported', param: 'messages.0.content.1.type' },
  { name: 'an input_audio part', route: '/v1/chat/completions', body: { ...chat, messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] }] }, code: 'unsupported', param: 'messages.0.content.0.type' },
  { name: 'a file part without its file', route: '/v1/chat/completions', body: { ...chat, messages: [{ role: 'user', content: [{ type: 'file' }] }] }, param: 'messages.0.content.0.file' },
  { name: 'an input_audio part without its format', route: '/v1/chat/completions', body: { ...chat, messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x' } }] }] }, param: 'messages.0.content.0.input_audio.format' },
  { name: 'a text part without text', route: '/v1/chat/completions', body: { ...chat, messages: [{ role: 'user', content: [{ type: 'text' }] }] }, param: 'messages.0.content.0.text' },
  { name: 'an image part in a system message', route: '/v1/chat/completions', body: { ...chat, messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] }, param: 'messages.0.content.0.type' },
  { name: 'user content an empty array', route: '/v1/chat/completions', body: { ...chat, messages: [{ role: 'user', content: [] }] }, param: 'messages.0.content' },
  { name: 'system content an empty array', route: '/v1/chat/completions', body: { ...chat, messages: [{ role: 'system', content: [] }, ...hi] }, param: 'messages.0.content' },
  { name: 'tool content an empty array', route: '/v1/chat/completions', body: { ...chat, messages: [...hi, { role: 'tool', tool_call_id: 'c1', content: [] }] }, param: 'messages.1.content' },
  { name: 'an assistant message with neither content nor tool_calls', route: '/v1/chat/completions', body: { ...chat, messages: [...hi, { role: 'assistant' }] }, param: 'messages.1.content' },
  { name: 'an assistant message with null content and no tool calls', route: '/v1/chat/completions', body: { ...chat, messages: [...hi, { role: 'assistant', content: null, tool_calls: [] }] }, param: 'messages.1.content' },
  { name: 'a tool message without tool_call_id', route: '/v1/chat/completions', body: { ...chat, messages: [{ role: 'tool', content: 'ok' }] }, param: 'messages.0.tool_call_id' },
  { name: 'a tool call without a function', route: '/v1/chat/completions', body: { ...chat, messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function' }] }] }, param: 'messages.0.tool_calls.0.function' },
  { name: 'a message name that is a number', route: '/v1/chat/completions', body: { ...chat, messages: [{ role: 'user', content: 'hi', name: 5 }] }, param: 'messages.0.name' },
  { name: `${MAX_MESSAGES + 1} messages`, route: '/v1/chat/completions', body: { ...chat, messages: Array.from({ length: MAX_MESSAGES + 1 }, () => hi[0]) }, param: 'messages' },
  { name: 'max_tokens negative', route: '/v1/chat/completions', body: { ...chat, max_tokens: -1 }, param: 'max_tokens' },
  { name: 'max_tokens zero', route: '/v1/chat/completions', body: { ...chat, max_tokens: 0 }, param: 'max_tokens' },
  { name: 'max_tokens a fraction', route: '/v1/chat/completions', body: { ...chat, max_tokens: 1.5 }, param: 'max_tokens' },
  { name: 'max_tokens a string', route: '/v1/chat/completions', body: { ...chat, max_tokens: '100' }, param: 'max_tokens' },
  { name: 'max_tokens beyond a safe integer', route: '/v1/chat/completions', body: { ...chat, max_tokens: 2 ** 53 }, param: 'max_tokens' },
  { name: 'max_tokens 1e999 (Infinity)', route: '/v1/chat/completions', body: '{"model":"mock","messages":[{"role":"user","content":"hi"}],"max_tokens":1e999}', raw: true, param: 'max_tokens' },
  { name: 'max_completion_tokens negative', route: '/v1/chat/completions', body: { ...chat, max_completion_tokens: -5 }, param: 'max_completion_tokens' },
  { name: 'temperature negative', route: '/v1/chat/completions', body: { ...chat, temperature: -0.1 }, param: 'temperature' },
  { name: 'temperature above 2', route: '/v1/chat/completions', body: { ...chat, temperature: 2.5 }, param: 'temperature' },
  { name: 'temperature a string', route: '/v1/chat/completions', body: { ...chat, temperature: 'hot' }, param: 'temperature' },
  { name: 'temperature "NaN"', route: '/v1/chat/completions', body: { ...chat, temperature: 'NaN' }, param: 'temperature' },
  { name: 'temperature -1e999 (-Infinity)', route: '/v1/chat/completions', body: '{"model":"mock","messages":[{"role":"user","content":"hi"}],"temperature":-1e999}', raw: true, param: 'temperature' },
  { name: 'top_p above 1', route: '/v1/chat/completions', body: { ...chat, top_p: 1.5 }, param: 'top_p' },
  { name: 'top_p negative', route: '/v1/chat/completions', body: { ...chat, top_p: -1 }, param: 'top_p' },
  { name: 'n zero', route: '/v1/chat/completions', body: { ...chat, n: 0 }, param: 'n' },
  { name: 'n two', route: '/v1/chat/completions', body: { ...chat, n: 2 }, param: 'n' },
  { name: 'n a string', route: '/v1/chat/completions', body: { ...chat, n: '1' }, param: 'n' },
  { name: 'seed a fraction', route: '/v1/chat/completions', body: { ...chat, seed: 0.5 }, param: 'seed' },
  { name: 'stop with five entries', route: '/v1/chat/completions', body: { ...chat, stop: ['a', 'b', 'c', 'd', 'e'] }, param: 'stop' },
  { name: 'stop a number', route: '/v1/chat/completions', body: { ...chat, stop: 5 }, param: 'stop' },
  { name: 'stream a string', route: '/v1/chat/completions', body: { ...chat, stream: 'true' }, param: 'stream' },
  { name: 'stream a number', route: '/v1/chat/completions', body: { ...chat, stream: 1 }, param: 'stream' },
  { name: 'stream_options without stream', route: '/v1/chat/completions', body: { ...chat, stream_options: { include_usage: true } }, param: 'stream_options' },
  { name: 'stream_options with stream false', route: '/v1/chat/completions', body: { ...chat, stream: false, stream_options: { include_usage: true } }, param: 'stream_options' },
  { name: 'stream_options a string', route: '/v1/chat/completions', body: { ...chat, stream: true, stream_options: 'usage' }, param: 'stream_options' },
  { name: 'include_usage a string', route: '/v1/chat/completions', body: { ...chat, stream: true, stream_options: { include_usage: 'yes' } }, param: 'stream_options.include_usage' },
  { name: 'tools an object', route: '/v1/chat/completions', body: { ...chat, tools: { type: 'function' } }, param: 'tools' },
  { name: 'a tool of an unknown type', route: '/v1/chat/completions', body: { ...chat, tools: [{ type: 'retrieval' }] }, param: 'tools.0.type' },
  { name: 'a tool without a name', route: '/v1/chat/completions', body: { ...chat, tools: [{ type: 'function', function: { parameters: {} } }] }, param: 'tools.0.function.name' },
  { name: 'a tool name with spaces', route: '/v1/chat/completions', body: { ...chat, tools: [{ type: 'function', function: { name: 'get weather' } }] }, param: 'tools.0.function.name' },
  { name: 'tool parameters a string', route: '/v1/chat/completions', body: { ...chat, tools: [{ type: 'function', function: { name: 'f', parameters: '{"type":"object"}' } }] }, param: 'tools.0.function.parameters' },
  { name: 'tool parameters an array', route: '/v1/chat/completions', body: { ...chat, tools: [{ type: 'function', function: { name: 'f', parameters: [] } }] }, param: 'tools.0.function.parameters' },
  { name: 'tool parameters nested 100 deep', route: '/v1/chat/completions', body: { ...chat, tools: [{ type: 'function', function: { name: 'f', parameters: deepSchema(100) } }] }, param: 'tools.0.function.parameters' },
  { name: 'tool_choice an unknown word', route: '/v1/chat/completions', body: { ...chat, tool_choice: 'sometimes' }, param: 'tool_choice' },
  { name: 'tool_choice naming no tool', route: '/v1/chat/completions', body: { ...chat, tool_choice: { type: 'function', function: { name: 'f' } } }, param: 'tool_choice.function.name' },
  { name: 'response_format of an unknown type', route: '/v1/chat/completions', body: { ...chat, response_format: { type: 'yaml' } }, param: 'response_format.type' },
  { name: 'json_schema without a schema', route: '/v1/chat/completions', body: { ...chat, response_format: { type: 'json_schema', json_schema: { name: 's' } } }, param: 'response_format.json_schema.schema' },
  { name: 'an unknown key in llmrr', route: '/v1/chat/completions', body: { ...chat, llmrr: { stratgy: 'x' } }, param: 'llmrr.stratgy' },
  { name: 'llmrr.fallbacks a string', route: '/v1/chat/completions', body: { ...chat, llmrr: { fallbacks: 'mock' } }, param: 'llmrr.fallbacks' },
  { name: 'x-llmrr-explain not a boolean', route: '/v1/chat/completions', body: chat, headers: { 'x-llmrr-explain': 'perhaps' }, param: 'x-llmrr-explain' },
  { name: 'user a number', route: '/v1/chat/completions', body: { ...chat, user: 5 }, param: 'user' },
];

const completionCases: Case[] = [
  { name: 'prompt missing', route: '/v1/completions', body: { model: 'mock' }, param: 'prompt' },
  { name: 'prompt a number', route: '/v1/completions', body: { model: 'mock', prompt: 5 }, param: 'prompt' },
  { name: 'two prompts', route: '/v1/completions', body: { model: 'mock', prompt: ['a', 'b'] }, param: 'prompt' },
  { name: 'token ids as the prompt', route: '/v1/completions', body: { model: 'mock', prompt: [1, 2, 3] }, param: 'prompt.0' },
  { name: 'model with a control character', route: '/v1/completions', body: { model: 'mock\u0007', prompt: 'x' }, param: 'model' },
  { name: 'model of 300 characters', route: '/v1/completions', body: { model: long, prompt: 'x' }, param: 'model' },
  { name: 'max_tokens negative', route: '/v1/completions', body: { model: 'mock', prompt: 'x', max_tokens: -1 }, param: 'max_tokens' },
  { name: 'n two', route: '/v1/completions', body: { model: 'mock', prompt: 'x', n: 2 }, param: 'n' },
  { name: 'stream a string', route: '/v1/completions', body: { model: 'mock', prompt: 'x', stream: 'yes' }, param: 'stream' },
  { name: 'stream_options without stream', route: '/v1/completions', body: { model: 'mock', prompt: 'x', stream_options: { include_usage: true } }, param: 'stream_options' },
  { name: 'echo', route: '/v1/completions', body: { model: 'mock', prompt: 'x', echo: true }, code: 'unsupported', param: 'echo' },
  { name: 'suffix', route: '/v1/completions', body: { model: 'mock', prompt: 'x', suffix: 'y' }, code: 'unsupported', param: 'suffix' },
];

const embeddingCases: Case[] = [
  { name: 'input missing', route: '/v1/embeddings', body: { model: 'mock' }, param: 'input' },
  { name: 'input a number', route: '/v1/embeddings', body: { model: 'mock', input: 5 }, param: 'input' },
  { name: 'input empty', route: '/v1/embeddings', body: { model: 'mock', input: [] }, param: 'input' },
  { name: 'input token ids: an empty array', route: '/v1/embeddings', body: { model: 'mock', input: [[1], []] }, param: 'input.1' },
  { name: 'input token ids: a negative id', route: '/v1/embeddings', body: { model: 'mock', input: [[1, -2]] }, param: 'input.0.1' },
  { name: 'input token ids: a fraction', route: '/v1/embeddings', body: { model: 'mock', input: [0.5] }, param: 'input.0' },
  { name: 'input token ids: above int32', route: '/v1/embeddings', body: { model: 'mock', input: [[2 ** 31]] }, param: 'input.0.0' },
  { name: 'input token ids mixed with text', route: '/v1/embeddings', body: { model: 'mock', input: [[1], 'x'] }, param: 'input.1' },
  { name: 'input of 2049 strings', route: '/v1/embeddings', body: { model: 'mock', input: Array.from({ length: 2049 }, () => '') }, param: 'input' },
  { name: 'encoding_format unknown', route: '/v1/embeddings', body: { model: 'mock', input: 'x', encoding_format: 'hex' }, param: 'encoding_format' },
  { name: 'dimensions zero', route: '/v1/embeddings', body: { model: 'mock', input: 'x', dimensions: 0 }, param: 'dimensions' },
  { name: 'dimensions above 65536', route: '/v1/embeddings', body: { model: 'mock', input: 'x', dimensions: 65_537 }, param: 'dimensions' },
  { name: 'dimensions a fraction', route: '/v1/embeddings', body: { model: 'mock', input: 'x', dimensions: 1.5 }, param: 'dimensions' },
  { name: 'model with a control character', route: '/v1/embeddings', body: { model: 'mo\u007fck', input: 'x' }, param: 'model' },
];

const messagesCases: Case[] = [
  { name: 'max_tokens missing', route: '/v1/messages', body: { model: 'mock', messages: hi }, param: 'max_tokens' },
  { name: 'max_tokens zero', route: '/v1/messages', body: { ...anthropic, max_tokens: 0 }, param: 'max_tokens' },
  { name: 'max_tokens a string', route: '/v1/messages', body: { ...anthropic, max_tokens: '16' }, param: 'max_tokens' },
  { name: 'max_tokens 1e999 (Infinity)', route: '/v1/messages', body: '{"model":"mock","max_tokens":1e999,"messages":[{"role":"user","content":"hi"}]}', raw: true, param: 'max_tokens' },
  { name: 'system a number', route: '/v1/messages', body: { ...anthropic, system: 7 }, param: 'system' },
  { name: 'system an object', route: '/v1/messages', body: { ...anthropic, system: { text: 'be brief' } }, param: 'system' },
  { name: 'system blocks without text', route: '/v1/messages', body: { ...anthropic, system: [{ type: 'text' }] }, param: 'system.0.text' },
  { name: 'only system messages in messages', route: '/v1/messages', body: { ...anthropic, messages: [{ role: 'system', content: 'x' }] }, param: 'messages' },
  { name: 'an image in a system message', route: '/v1/messages', body: { ...anthropic, messages: [{ role: 'user', content: 'x' }, { role: 'system', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }] }] }, param: 'messages.1.content.0.type' },
  { name: 'a message without content', route: '/v1/messages', body: { ...anthropic, messages: [{ role: 'user' }] }, param: 'messages.0.content' },
  { name: 'a block of an unknown type', route: '/v1/messages', body: { ...anthropic, messages: [{ role: 'user', content: [{ type: 'video', source: {} }] }] }, param: 'messages.0.content.0.type' },
  { name: 'a server tool', route: '/v1/messages', body: { ...anthropic, tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 3 }] }, param: 'tools.0.type' },
  { name: 'a tool_use block without an id', route: '/v1/messages', body: { ...anthropic, messages: [{ role: 'assistant', content: [{ type: 'tool_use', name: 'f', input: {} }] }] }, param: 'messages.0.content.0.id' },
  { name: `${MAX_MESSAGES + 1} messages`, route: '/v1/messages', body: { ...anthropic, messages: Array.from({ length: MAX_MESSAGES + 1 }, () => hi[0]) }, param: 'messages' },
  { name: 'temperature above 1', route: '/v1/messages', body: { ...anthropic, temperature: 1.5 }, param: 'temperature' },
  { name: 'top_k negative', route: '/v1/messages', body: { ...anthropic, top_k: -1 }, param: 'top_k' },
  { name: 'stream a string', route: '/v1/messages', body: { ...anthropic, stream: 'yes' }, param: 'stream' },
  { name: 'stop_sequences a string', route: '/v1/messages', body: { ...anthropic, stop_sequences: 'END' }, param: 'stop_sequences' },
  { name: 'a tool without input_schema', route: '/v1/messages', body: { ...anthropic, tools: [{ name: 'f' }] }, param: 'tools.0.input_schema' },
  { name: 'a tool name with spaces', route: '/v1/messages', body: { ...anthropic, tools: [{ name: 'get weather', input_schema: { type: 'object' } }] }, param: 'tools.0.name' },
  { name: 'a tool input_schema nested 100 deep', route: '/v1/messages', body: { ...anthropic, tools: [{ name: 'f', input_schema: deepSchema(100) }] }, param: 'tools.0.input_schema' },
  { name: 'tool_choice naming no tool', route: '/v1/messages', body: { ...anthropic, tool_choice: { type: 'tool', name: 'get_weather' } }, param: 'tool_choice.name' },
  { name: 'tool_choice tool without a name', route: '/v1/messages', body: { ...anthropic, tool_choice: { type: 'tool' } }, param: 'tool_choice.name' },
  { name: 'metadata a string', route: '/v1/messages', body: { ...anthropic, metadata: 'user-1' }, param: 'metadata' },
  { name: 'model with a control character', route: '/v1/messages', body: { ...anthropic, model: 'claude\u0000' }, param: 'model' },
];

const legacyCases: Case[] = [
  { name: 'prompt empty', route: '/api/quick', body: { prompt: '' }, param: 'prompt' },
  { name: 'prompt a number', route: '/api/quick', body: { prompt: 5 }, param: 'prompt' },
  { name: 'an unknown field', route: '/api/quick', body: { prompt: 'x', stream: true }, param: 'stream' },
  { name: 'maxTokens zero', route: '/api/quick', body: { prompt: 'x', maxTokens: 0 }, param: 'maxTokens' },
  { name: 'temperature 5', route: '/api/quick', body: { prompt: 'x', temperature: 5 }, param: 'temperature' },
  { name: 'model with a control character', route: '/api/quick', body: { prompt: 'x', model: 'a\u0000' }, param: 'model' },
  { name: 'a tool role', route: '/api/chat', body: { messages: [{ role: 'tool', content: 'x' }] }, param: 'messages.0.role' },
  { name: 'content a number', route: '/api/chat', body: { messages: [{ role: 'user', content: 5 }] }, param: 'messages.0.content' },
  { name: 'an unknown key in a message', route: '/api/chat', body: { messages: [{ role: 'user', content: 'x', name: 'ann' }] }, param: 'messages.0.name' },
  { name: `${MAX_MESSAGES + 1} messages`, route: '/api/chat', body: { messages: Array.from({ length: MAX_MESSAGES + 1 }, () => hi[0]) }, param: 'messages' },
  { name: 'an unknown capability', route: '/api/route', body: { prompt: 'x', requirements: { capabilities: ['telepathy'] } }, param: 'requirements.capabilities.0' },
  { name: 'explain a string', route: '/api/route', body: { prompt: 'x', explain: 'yes' }, param: 'explain' },
  { name: 'model of 300 characters', route: '/api/route', body: { prompt: 'x', model: long }, param: 'model' },
  { name: 'score above 1', route: '/v1/feedback', body: { request_id: 'req_x', score: 2 }, param: 'score' },
  { name: 'score a string', route: '/v1/feedback', body: { request_id: 'req_x', score: '1' }, param: 'score' },
  { name: 'request_id empty', route: '/v1/feedback', body: { request_id: '', score: 1 }, param: 'request_id' },
  { name: 'an unknown field', route: '/v1/feedback', body: { request_id: 'req_x', score: 1, comment: 'meh' }, param: 'comment' },
];

const CASES = [...everyRoute, ...chatCases, ...completionCases, ...embeddingCases, ...messagesCases, ...legacyCases];

describe('hostile request bodies through serveGateway: a 4xx naming the field, and nothing left behind', () => {
  let h: Harness;
  let served: ServedGateway;
  let secret: string;
  const errors: GatewayLogEntry[] = [];

  beforeAll(async () => {
    h = await createHarness({
      stores: 'memory',
      models: [mockModel('mock')],
      gateway: { limits: { maxBodyBytes: MAX_BODY, maxMessages: MAX_MESSAGES }, log: (e) => void (e.level === 'error' && errors.push(e)) },
    });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 5, period: 'month' }, limits: { rpm: 100_000 } });
    secret = (await h.stores!.tenants.createKey('acme', { name: 'test' })).secret;
    served = await serveGateway(h.gateway, { port: 0 });
  });
  afterAll(async () => {
    await served?.close(1000);
    await h?.close();
  });

  const post = (c: Pick<Case, 'route' | 'body' | 'raw' | 'headers'>) =>
    send(served.url, 'POST', c.route, c.raw ? (c.body as string | Uint8Array) : JSON.stringify(c.body), {
      authorization: `Bearer ${secret}`,
      'content-type': 'application/json',
      ...c.headers,
    });

  it.each(CASES)('$route: $name -> $param', async (c) => {
    const logged = errors.length;
    const answer = await post(c);
    const style = c.route === '/v1/messages' ? 'anthropic' : 'openai';
    const error = expectGatewayError(answer, { status: c.status ?? 400, code: c.code ?? (c.status ? undefined : 'invalid_request'), param: c.param, style }, `${c.route} ${c.name}`);
    // Nothing was recorded or reserved for it, and the server logged no error.
    expect(await h.stores!.ledger.get(error.request_id)).toBeUndefined();
    expect((await h.stores!.budgets.spent('acme', 'month')).reservedUsd).toBe(0);
    expect(errors.slice(logged)).toEqual([]);
  });

  it('after all of them, the ledger holds nothing, and good requests (a BOM, no content type, text/plain, unknown fields) are served', async () => {
    expect(await h.stores!.ledger.query({ tenantId: 'acme' })).toEqual([]);
    const good: Array<Pick<Case, 'route' | 'body' | 'raw' | 'headers'>> = [
      { route: '/v1/chat/completions', body: `${BOM}${JSON.stringify(chat)}`, raw: true },
      { route: '/v1/messages', body: `${BOM}${JSON.stringify(anthropic)}`, raw: true },
      { route: '/v1/chat/completions', body: JSON.stringify(chat), raw: true, headers: { 'content-type': '' } },
      { route: '/v1/chat/completions', body: JSON.stringify(chat), raw: true, headers: { 'content-type': 'text/plain;charset=UTF-8' } },
      { route: '/v1/chat/completions', body: JSON.stringify(chat), raw: true, headers: { 'content-type': 'application/vnd.api+json' } },
      // Unknown fields are ignored on the OpenAI and Anthropic routes (as those APIs do), however deep.
      { route: '/v1/chat/completions', body: `{"model":"mock","messages":[{"role":"user","content":"hi"}],"vendor_extra":${deep(1000)}}`, raw: true },
      { route: '/v1/messages', body: { ...anthropic, metadata: { user_id: 'u1', trace: { a: [1, { b: 2 }] } }, service_tier: 'auto' } },
      // An assistant refusal echoed back from an earlier answer (null content, as the SDKs return it).
      { route: '/v1/chat/completions', body: { ...chat, messages: [...hi, { role: 'assistant', content: null, refusal: 'I cannot help with that.' }, ...hi] } },
      // Duplicate keys: the last one counts (JSON.parse), as in OpenAI's and Anthropic's servers.
      { route: '/v1/chat/completions', body: '{"model":"gpt-17","messages":[{"role":"user","content":"hi"}],"model":"mock"}', raw: true },
    ];
    for (const g of good) {
      const answer = await post(g);
      expect(answer.status, `${g.route} ${String(g.body).slice(0, 80)} -> ${answer.body.slice(0, 200)}`).toBe(200);
    }
    expect(await h.stores!.ledger.query({ tenantId: 'acme' })).toHaveLength(good.length);
    expect((await h.stores!.budgets.spent('acme', 'month')).reservedUsd).toBe(0);
  });

  it('a streamed request with bad input gets a JSON error, not an event stream', async () => {
    for (const [route, body] of [
      ['/v1/chat/completions', { ...chat, stream: true, temperature: 9 }],
      ['/v1/chat/completions', { ...chat, stream: true, model: 'gpt-17' }],
      ['/v1/completions', { model: 'mock', prompt: 'x', stream: true, max_tokens: 0 }],
      ['/v1/messages', { ...anthropic, stream: true, system: 7 }],
    ] as const) {
      const answer = await post({ route, body });
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(answer.body).not.toContain('data:');
    }
  });

  it('an unknown model is a 404 naming model; the refusal is ledgered (by design) and its long or odd name never reaches the ledger', async () => {
    const logged = errors.length;
    const answer = await post({ route: '/v1/chat/completions', body: { ...chat, model: 'gpt-17' } });
    const error = expectGatewayError(answer, { status: 404, code: 'model_not_found', param: 'model' });
    expect(await h.stores!.ledger.get(error.request_id)).toMatchObject({ status: 'error', model: 'gpt-17' });
    // A name of 300 characters used to be echoed back and to fail the ledger write of the refusal (an
    // error in the server log, the refusal unrecorded): it is now refused as bad input.
    const longName = await post({ route: '/v1/chat/completions', body: { ...chat, model: long } });
    expect(expectGatewayError(longName, { status: 400, param: 'model' }).message).not.toContain(long);
    expect(errors.slice(logged)).toEqual([]);
  });
});
