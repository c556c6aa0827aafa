/**
 * Reasoning and content chunks read through a learned ContentChunkTemplate: the decoder with its templates
 * against the same decoder that never keeps one (the full JSON.parse path for every chunk), over generated streams:
 * envelopes that change mid-stream (id, model, system_fingerprint, created), content / reasoning_content / reasoning
 * chunks beside each other and beside null / absent / "" text fields, empty texts, finish reasons, usage, tool calls,
 * logprobs, refusals, role deltas, reasoning_details, a second choice, and text literals written as servers write
 * them (JSON.stringify's form, Python's `ensure_ascii` \u escapes of either hex case, `\/`, spaced separators).
 */
import { describe, expect, it } from 'vitest';
import type { StreamPart } from '../../spec/index.js';
import { OpenAIStreamDecoder } from './openai-stream-decoder.js';
import { seededRandom as random } from '../../util/seeded-random.js';


type Rng = () => number;
const pick = <T>(r: Rng, pool: readonly T[]): T => pool[Math.floor(r() * pool.length)]!;

const pieces = [
  'a', ' ', 'word', ' the', 'é', '日本', '🦊', '\ud83d', '\ude00', '"', '\\', '\n', '\t', '\u0000', '\u001f', '\u007f',
  '\u2028', '\u2029', '</script>', '/', '}', ']', ',', ':', 'null', '"content":', '"reasoning_content":"x"', '"reasoning":',
  ',"finish_reason":"stop"', '\\"', '\\u0041',
];

function text(r: Rng): string {
  if (r() < 0.08) return '';
  let s = '';
  const n = 1 + Math.floor(r() * 5);
  for (let i = 0; i < n; i++) s += pick(r, pieces);
  return s;
}

interface Style {
  /** Key/value and item separators. */
  colon: string;
  comma: string;
  /** Non-ASCII as \u escapes (Python's json.dumps default). */
  ascii: boolean;
  /** Some characters \u-escaped anyway, `/` as `\/`. */
  loose: boolean;
  upperHex: boolean;
  /** A broken server: controls other than the newline written raw (not JSON: the full path fails on them). */
  rawControls: boolean;
}

const hex = (c: number, upper: boolean) => {
  const h = c.toString(16).padStart(4, '0');
  return `\\u${upper ? h.toUpperCase() : h}`;
};

/** A JSON string literal for `s` as a server with this style writes it. */
function literal(s: string, style: Style, r: Rng): string {
  if (!style.ascii && !style.loose && !style.rawControls) return JSON.stringify(s);
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const c = s.charCodeAt(i);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c === 0x0a) out += r() < 0.5 ? '\\n' : hex(c, style.upperHex);
    else if (c < 0x20) out += style.rawControls ? ch : hex(c, style.upperHex);
    else if (style.ascii && c > 0x7e) out += hex(c, style.upperHex);
    else if (c >= 0xd800 && c <= 0xdfff) out += hex(c, style.upperHex); // lone or paired: escaped, as JSON allows
    else if (style.loose && ch === '/' && r() < 0.5) out += '\\/';
    else if (style.loose && r() < 0.2) out += hex(c, style.upperHex);
    else out += ch;
  }
  return `${out}"`;
}

/** JSON text of `v` in this style (key order as given; `undefined` values left out, as JSON.stringify does). */
function ser(v: unknown, style: Style, r: Rng): string {
  if (typeof v === 'string') return literal(v, style, r);
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => ser(x, style, r)).join(style.comma)}]`;
  const entries = Object.entries(v).filter(([, x]) => x !== undefined);
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}${style.colon}${ser(x, style, r)}`).join(style.comma)}}`;
}

/** Beside a reasoning field: the answer's `content` as servers send it there. */
const besideReasoning = [null, undefined, ''] as const;

function delta(r: Rng, kind: number, profile: { beside: null | undefined | ''; role: boolean; otherNull: boolean }): Record<string, unknown> {
  const role = profile.role ? { role: 'assistant' } : {};
  switch (kind) {
    case 0:
      return { ...role, content: text(r), ...(profile.otherNull ? { reasoning_content: null } : {}) };
    case 1:
      return { ...role, content: profile.beside, reasoning_content: text(r) };
    case 2:
      return { ...role, content: profile.beside, reasoning: text(r), ...(profile.otherNull ? { reasoning_content: null } : {}) };
    case 3:
      return { content: text(r), reasoning_content: text(r) };
    case 4:
      return { reasoning_content: text(r), reasoning: pick(r, [text(r), null, '']) };
    case 5:
      return { refusal: text(r) };
    case 6:
      return { tool_calls: [{ index: 0, ...(r() < 0.3 ? { id: 'call_1', type: 'function' } : {}), function: { ...(r() < 0.3 ? { name: 'f' } : {}), arguments: text(r) } }] };
    case 7: {
      const t = text(r);
      return { content: '', reasoning: t, reasoning_details: [{ type: 'reasoning.text', text: t, index: 0 }] };
    }
    case 8:
      return {};
    default:
      return { role: 'assistant', content: pick(r, ['', null]) };
  }
}

function logprobs(r: Rng): unknown {
  if (r() < 0.9) return pick(r, [null, undefined]);
  return { content: [{ token: 'x', logprob: -0.5, bytes: [120], top_logprobs: [] }], refusal: null };
}

/** One generated stream: its `data:` payloads (the last `[DONE]` most of the time). */
function stream(r: Rng): string[] {
  const style: Style = {
    colon: r() < 0.3 ? ': ' : ':',
    comma: r() < 0.3 ? ', ' : ',',
    ascii: r() < 0.25,
    loose: r() < 0.2,
    upperHex: r() < 0.3,
    rawControls: r() < 0.05,
  };
  const env: Record<string, unknown> = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1754123456, model: 'm', system_fingerprint: r() < 0.5 ? 'fp_1' : undefined };
  const profile = { beside: pick(r, besideReasoning), role: r() < 0.2, otherNull: r() < 0.3 };
  // Phases: mostly reasoning first, then the answer, with any other kind mixed in now and then.
  const phase = [pick(r, [1, 2, 1, 2, 7, 4]), 0];
  const out: string[] = [];
  // Most servers keep their envelope; some change it mid-stream.
  const drift = r() < 0.4 ? 1 : 0;
  const n = 4 + Math.floor(r() * 28);
  for (let i = 0; i < n; i++) {
    if (r() < 0.06 * drift) env.model = pick(r, ['m', 'm2', 'reasoning_content', 'content']);
    if (r() < 0.04 * drift) env.id = pick(r, ['chatcmpl-1', 'chatcmpl-2']);
    if (r() < 0.04 * drift) env.system_fingerprint = pick(r, ['fp_1', 'fp_2', null, undefined]);
    if (r() < 0.04 * drift) env.created = (env.created as number) + 1;
    const kind = r() < 0.8 ? phase[i < n / 2 ? 0 : 1]! : Math.floor(r() * 10);
    const choice: Record<string, unknown> = {
      index: r() < 0.03 ? 1 : r() < 0.1 ? undefined : 0,
      delta: delta(r, kind, profile),
      logprobs: logprobs(r),
      finish_reason: r() < 0.04 ? pick(r, ['stop', 'length', 'tool_calls']) : null,
    };
    const choices = r() < 0.03 ? [choice, { index: 1, delta: { reasoning_content: text(r) }, finish_reason: null }] : [choice];
    const usage = r() < 0.03 ? { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } : r() < 0.2 ? null : undefined;
    out.push(ser({ ...env, choices, usage }, style, r));
  }
  if (r() < 0.9) out.push('[DONE]');
  return out;
}

/** Parts as compared: an error by its code and message. */
function plain(parts: StreamPart[]): unknown[] {
  return parts.map((p) => (p.type === 'error' ? { type: 'error', code: p.error.code, message: p.error.message } : p));
}

interface Internals {
  template: unknown;
  reasoningTemplate: unknown;
  templateHits: number;
}

describe('OpenAIStreamDecoder templates against the full parse', () => {
  it('give the parts of the full JSON.parse path for every chunk of 3000 generated streams', () => {
    const r = random(2711);
    let hits = 0;
    let reasoningHits = 0;
    for (let s = 0; s < 3000; s++) {
      const events = stream(r);
      const readLogprobs = r() < 0.3;
      const fast = new OpenAIStreamDecoder({ provider: 'p', estimateInputTokens: () => 5, logprobs: readLogprobs });
      const full = new OpenAIStreamDecoder({ provider: 'p', estimateInputTokens: () => 5, logprobs: readLogprobs });
      const fi = fast as unknown as Internals;
      const ri = full as unknown as Internals;
      for (const data of events) {
        const before = fi.templateHits;
        const got = fast.decode(data);
        // The reference never keeps a template: every chunk takes the full path.
        const want = full.decode(data);
        ri.template = undefined;
        ri.reasoningTemplate = undefined;
        if (fi.templateHits > before) {
          hits++;
          if (got.some((p) => p.type === 'reasoning-delta')) reasoningHits++;
        }
        expect(plain(got), `stream ${s}: ${data}`).toEqual(plain(want));
      }
      expect(plain(fast.end()), `stream ${s} end`).toEqual(plain(full.end()));
      expect(fast.chunkCount).toBe(full.chunkCount);
    }
    // The fast path was taken, for reasoning chunks too.
    expect(hits).toBeGreaterThan(1500);
    expect(reasoningHits).toBeGreaterThan(600);
  });
});
