import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChatMessage, GenerateRequest, ToolDefinition } from '../spec/index.js';
import { seededRandom } from '../util/seeded-random.js';
import { estimateRequestTokens, estimateTokens } from './estimate-tokens.js';

/**
 * The estimate feeds budgets, rate limits, routing and the usage of calls without provider usage, so the
 * faster implementation must give the same number as the plain definition for every input. This file keeps
 * that definition (the implementation before the fast paths, verbatim) and compares both on generated
 * inputs: texts of every interesting kind of code unit, and requests whose tools and schemas hold every
 * kind of value JSON.stringify treats specially (escapes, lone surrogates, -0, 1e21, NaN, undefined in
 * objects and arrays, holes, toJSON, class instances, bigint, cycles, deep nesting).
 */
const OLD_CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;
function oldEstimateTokens(text: string): number {
  if (!text) return 0;
  const cjk = text.match(OLD_CJK)?.length ?? 0;
  const rest = Math.max(0, text.length - cjk);
  return cjk + Math.ceil(rest / 4);
}
function oldMessageTokens(message: ChatMessage): number {
  let n = 4;
  const content = message.content;
  if (typeof content === 'string') n += oldEstimateTokens(content);
  else if (Array.isArray(content)) {
    for (const part of content) n += part.type === 'text' ? oldEstimateTokens(part.text) : 85;
  }
  // Added with the fast paths' successor: a tool result's images count as a user message's do.
  if (message.role === 'tool' && message.parts) n += 85 * message.parts.filter((p) => p.type === 'image').length;
  if ('name' in message && message.name) n += oldEstimateTokens(message.name);
  if (message.role === 'assistant' && message.toolCalls) {
    for (const call of message.toolCalls) n += 4 + oldEstimateTokens(call.name) + oldEstimateTokens(call.arguments);
  }
  return n;
}
function oldEstimateRequestTokens(request: GenerateRequest): number {
  let n = 3;
  for (const message of request.messages) n += oldMessageTokens(message);
  for (const tool of request.tools ?? []) {
    n += 8 + oldEstimateTokens(JSON.stringify({ name: tool.name, description: tool.description, parameters: tool.parameters }));
  }
  if (request.responseFormat?.type === 'json_schema') n += oldEstimateTokens(JSON.stringify(request.responseFormat.schema));
  return n;
}

/** Code units and code points at the edges that matter: escapes, the U+1100 bound, script blocks, surrogates. */
const PIECES = [
  'a', 'Z', '0', ' ', '{', '"', '\\', '/', '\b', '\t', '\n', '\f', '\r', '\u0000', '\u0001', '\u000b', '\u001f', '\u007f',
  '\u00e9', '\u00ff', '\u0100', '\u0416', '\u10ff', '\u1100', '\u11ff', '\u1200', '\u2014', '\u201c', '\u2026', '\u2028',
  '\u2029', '\u2e80', '\u2e9a', '\u3000', '\u3005', '\u3006', '\u3007', '\u3041', '\u3097', '\u30a1', '\u30fb', '\u3131',
  '\u3400', '\u4e00', '\u9fff', '\ua960', '\uac00', '\ud7a3', '\ud7a4', '\uf900', '\ufa6e', '\uff66', '\uff70', '\uffa0',
  '\ufffd', '\uffff', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude80', '\u{1f200}', '\u{1f201}', '\u{16fe2}',
  '\u{1b000}', '\u{1b123}', '\u{20000}', '\u{2a6df}', '\u{2a6e0}', '\u{2ebf0}', '\u{30000}', '\u{3134a}', '\u{10ffff}',
  '\u{1d11e}', '\u65e5\u672c\u8a9e', '\u30ab\u30bf\u30ab\u30ca', '\ud55c\uad6d\uc5b4', 'plain ascii words ',
];

const WORDS = ['the ', 'quick ', 'file ', 'path, ', 'relative ', 'to ', 'workspace ', 'root. ', 'Reads ', '(a) ', 'lines: ', '1-2 ', '{x} ', '\u00e9t\u00e9 ', '\u0416 '];

function generators(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;

  function text(maxPieces = 24): string {
    const n = random() < 0.05 ? int(400) : int(maxPieces);
    // Prose: long runs with nothing to escape and no script character, now and then one.
    const prose = random() < 0.4;
    let s = '';
    for (let i = 0; i < n; i++) {
      const r = random();
      if (prose) s += r < 0.04 ? pick(PIECES) : pick(WORDS);
      else if (r < 0.6) s += pick(PIECES);
      else if (r < 0.8) s += String.fromCharCode(int(0x10000)); // any code unit, lone surrogates included
      else if (r < 0.9) s += String.fromCodePoint(int(0x110000));
      else s += String.fromCharCode(0x20 + int(0x5f));
    }
    return s;
  }

  const NUMBERS = [
    0, -0, 1, -1, 7, 10, 99, 100, -100, 1e21, 1e20, -1e21, 1e-7, 1e-6, 0.1, 0.1 + 0.2, 1.5, -2.5e-8, 2147483647, -2147483648,
    2147483648, -2147483649, 4294967296, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE,
    Number.EPSILON, NaN, Infinity, -Infinity, 123456789012, 5e-324,
  ];
  function number(): number {
    const r = random();
    if (r < 0.5) return pick(NUMBERS);
    if (r < 0.75) return int(2_000_000_000) - 1_000_000_000;
    return (random() - 0.5) * 10 ** (int(60) - 30);
  }

  class Point {
    constructor(
      public x = 1,
      public y = 2,
    ) {}
  }
  /** Values JSON.stringify treats specially (the walk hands these to it). */
  function exotic(): unknown {
    switch (int(12)) {
      case 0:
        return new Date(int(2_000_000_000_000));
      case 1:
        return new String(text(4));
      case 2:
        return new Number(number());
      case 3:
        return new Boolean(random() < 0.5);
      case 4:
        return new Map([['a', 1]]);
      case 5:
        return new Point();
      case 6: {
        const replaced = random() < 0.5 ? text(6) : { nested: number() };
        return { toJSON: () => replaced };
      }
      case 7:
        return { toJSON: text(4), other: 1 }; // not callable: a plain property
      case 8:
        return BigInt(int(1000)); // JSON.stringify throws a TypeError
      case 9:
        return Object.assign(() => 1, { toJSON: () => 'fn' });
      case 10:
        return [1, 2, 3].map(String) as unknown as Record<string, unknown>;
      default:
        return new Uint8Array([1, 2]);
    }
  }

  function value(depth: number): unknown {
    const r = random();
    if (depth > 4 || r < 0.3) return text();
    if (r < 0.45) return number();
    if (r < 0.5) return random() < 0.5;
    if (r < 0.55) return null;
    if (r < 0.6) return pick([undefined, () => 0, Symbol('s')]);
    if (r < 0.62) return exotic();
    if (r < 0.8) {
      const n = int(6);
      const a: unknown[] = random() < 0.1 ? new Array<unknown>(n) : [];
      for (let i = 0; i < n; i++) if (a.length === n ? random() < 0.5 : true) a[i] = value(depth + 1);
      return a;
    }
    return object(depth);
  }

  function object(depth: number): Record<string, unknown> {
    const o: Record<string, unknown> = random() < 0.05 ? Object.create(null) : {};
    const n = int(6);
    for (let i = 0; i < n; i++) {
      const key = random() < 0.2 ? pick(['1', '10', '2', '-1', '01', '1.5', 'type', '__proto__', 'toString']) : text(6);
      if (key === '__proto__') Object.defineProperty(o, key, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
      else o[key] = value(depth + 1);
    }
    if (random() < 0.03) Object.defineProperty(o, 'hidden', { value: 'not enumerable', enumerable: false });
    return o;
  }

  function message(): ChatMessage {
    switch (int(4)) {
      case 0:
        return { role: 'system', content: text() };
      case 1: {
        const content =
          random() < 0.5 ? text() : Array.from({ length: int(4) }, () => (random() < 0.7 ? { type: 'text' as const, text: text() } : { type: 'image' as const, url: 'https://x/y.png' }));
        return random() < 0.3 ? { role: 'user', content, name: text(3) } : { role: 'user', content };
      }
      case 2:
        return {
          role: 'assistant',
          content: random() < 0.3 ? null : text(),
          ...(random() < 0.5 ? { toolCalls: Array.from({ length: int(3) }, (_, i) => ({ id: `c${i}`, name: text(3), arguments: text(8) })) } : {}),
        };
      default:
        return {
          role: 'tool',
          toolCallId: 'c0',
          content: text(),
          ...(random() < 0.3 ? { name: text(3) } : {}),
          ...(random() < 0.3 ? { parts: Array.from({ length: int(4) }, () => (random() < 0.5 ? { type: 'text' as const, text: text() } : { type: 'image' as const, url: 'https://x/y.png' })) } : {}),
        };
    }
  }

  function tool(): ToolDefinition {
    const t: Record<string, unknown> = { name: random() < 0.97 ? text(4) : undefined, parameters: random() < 0.9 ? object(0) : value(0) };
    if (random() < 0.7) t.description = random() < 0.9 ? text() : value(3);
    if (random() < 0.2) t.cacheControl = { type: 'ephemeral' };
    return t as unknown as ToolDefinition;
  }

  function request(): GenerateRequest {
    const req: GenerateRequest = { messages: Array.from({ length: int(5) }, message) };
    if (random() < 0.6) req.tools = Array.from({ length: int(5) }, tool);
    const r = random();
    if (r < 0.3) req.responseFormat = { type: 'json_schema', schema: (random() < 0.9 ? object(0) : value(0)) as Record<string, unknown> };
    else if (r < 0.35) req.responseFormat = { type: 'json_object' };
    return req;
  }

  return { text, value, object, request, int };
}

/** The outcome of a call: its number, or the class of what it threw. */
function outcome(f: () => number): { value: number } | { threw: string } {
  try {
    return { value: f() };
  } catch (e) {
    return { threw: e instanceof Error ? e.constructor.name : typeof e };
  }
}

const ROUNDS = 20_000;

describe('estimateTokens equals the plain definition', () => {
  it('for every code point (Unicode-property regex against the block table)', () => {
    let checked = 0;
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      // 8 repetitions tell a script character (8, or 10 when astral) from anything else (2, or 4 when astral).
      const s = String.fromCodePoint(cp).repeat(8);
      const got = estimateTokens(s);
      const want = oldEstimateTokens(s);
      if (got !== want) expect({ cp: cp.toString(16), got }).toEqual({ cp: cp.toString(16), got: want });
      checked++;
    }
    expect(checked).toBe(0x110000);
  });

  it(`on ${ROUNDS} generated texts (escapes, script edges, lone and paired surrogates)`, () => {
    const g = generators(seededRandom(1));
    let withCjk = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const s = g.text(40);
      const want = oldEstimateTokens(s);
      if (estimateTokens(s) !== want) expect({ i, s: JSON.stringify(s), got: estimateTokens(s) }).toEqual({ i, s: JSON.stringify(s), got: want });
      if (want !== Math.ceil(s.length / 4)) withCjk++;
    }
    // The inputs do exercise the script count, not only the Latin path.
    expect(withCjk).toBeGreaterThan(ROUNDS / 4);
  });

  it('on long texts of each kind (100 B to 100 KB: ASCII prose, code, JSON, CJK, typographic punctuation, emoji)', () => {
    const kinds = [
      'The quick brown fox jumps over the lazy dog. ',
      'function f(a, b) { return a + b; }\n\tconst x = "y";\n',
      '{"type":"object","properties":{"path":{"type":"string"}}}',
      '\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3067\u3059\u3002\u3053\u308c\u306f\u9577\u3044\u6587\u7ae0\u306e\u4f8b\u3067\u3042\u308a\u3001\ud55c\uad6d\uc5b4 \ubb38\uc7a5\ub3c4 \uc788\uc2b5\ub2c8\ub2e4\u3002',
      'It\u2019s \u201cquoted\u201d \u2014 and so on\u2026 ',
      'Done \u{1f389} shipped \u{1f680} ok \u{20000}. ',
    ];
    for (const kind of kinds) {
      for (const size of [100, 1_000, 10_000, 100_000]) {
        const s = kind.repeat(Math.ceil(size / kind.length)).slice(0, size);
        expect(estimateTokens(s)).toBe(oldEstimateTokens(s));
      }
    }
  });
});

describe('estimateRequestTokens equals the plain definition', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it(`on ${ROUNDS} generated requests (tools and JSON schemas of every kind of JSON value)`, () => {
    const g = generators(seededRandom(2));
    let threw = 0;
    let walked = 0;
    let fellBack = 0;
    const spy = vi.spyOn(JSON, 'stringify');
    for (let i = 0; i < ROUNDS; i++) {
      const req = g.request();
      const want = outcome(() => oldEstimateRequestTokens(req));
      spy.mockClear();
      const got = outcome(() => estimateRequestTokens(req));
      const hasJson = (req.tools !== undefined && req.tools.length > 0) || req.responseFormat?.type === 'json_schema';
      if (spy.mock.calls.length > 0) fellBack++;
      else if (hasJson) walked++;
      if ('threw' in want) threw++;
      if (JSON.stringify(got) !== JSON.stringify(want)) expect({ i, got }).toEqual({ i, got: want });
    }
    // Every path is exercised: the walk alone on most requests with tools or a schema, JSON.stringify for
    // the values the walk hands on, and throwing inputs (bigint).
    expect(walked).toBeGreaterThan(ROUNDS / 3);
    expect(fellBack).toBeGreaterThan(ROUNDS / 20);
    expect(threw).toBeGreaterThan(0);
    expect(threw).toBeLessThan(fellBack);
  });

  it('on values JSON.stringify treats specially', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    let deep: unknown = 'bottom';
    for (let i = 0; i < 300; i++) deep = i % 2 ? { d: deep } : [deep];
    const sparse: unknown[] = [];
    sparse[5] = 'x';
    const cases: unknown[] = [
      { n: [1e21, -0, NaN, Infinity, -Infinity, 1e-7, 0.000001, 5e-324, -2147483648, 2147483648] },
      { u: undefined, f: () => 1, s: Symbol('x'), a: [undefined, () => 1, Symbol('y'), null] },
      { q: '"\\\b\f\n\r\t\u0000\u001f\u007f\u2028\u2029', lone: '\ud800x\udc00\udbff', pair: '\ud840\udc00\ud83d\ude80' },
      { date: new Date(0), boxed: [new String('s'), new Number(-0), new Boolean(false)] },
      { toJSON: () => ({ replaced: '\u65e5\u672c' }) },
      { p: { toJSON: 'not callable' } },
      { sparse, holes: new Array(3) },
      Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, 2: 'b', 1: 'c' }),
      { deep },
      { big: 1n },
      { cycle },
    ];
    for (const parameters of cases) {
      const req: GenerateRequest = {
        messages: [],
        tools: [{ name: 'f', parameters: parameters as Record<string, unknown> }],
        responseFormat: { type: 'json_schema', schema: parameters as Record<string, unknown> },
      };
      expect(outcome(() => estimateRequestTokens(req))).toEqual(outcome(() => oldEstimateRequestTokens(req)));
    }
    const schemaOnly = (schema: unknown): GenerateRequest => ({ messages: [], responseFormat: { type: 'json_schema', schema: schema as Record<string, unknown> } });
    for (const schema of [undefined, null, 'str\u4e00', 0, -0, true, Symbol('s'), () => 1, [undefined], {}, []]) {
      expect(estimateRequestTokens(schemaOnly(schema))).toBe(oldEstimateRequestTokens(schemaOnly(schema)));
    }
  });

  it('follows a toJSON put on Object.prototype or Array.prototype as JSON.stringify does', () => {
    const req: GenerateRequest = { messages: [], tools: [{ name: 'f', parameters: { a: [1, 2], b: { c: 'd' } } }] };
    const proto = Array.prototype as unknown as Record<string, unknown>;
    try {
      proto.toJSON = () => 'array';
      expect(estimateRequestTokens(req)).toBe(oldEstimateRequestTokens(req));
    } finally {
      delete proto.toJSON;
    }
    expect(estimateRequestTokens(req)).toBe(oldEstimateRequestTokens(req));
  });

  it('measures plain tool definitions without JSON.stringify (the fast path is taken)', () => {
    const req: GenerateRequest = {
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ name: 'read', description: 'Reads "a" file\\n', parameters: { type: 'object', properties: { path: { type: 'string', description: '\u8def\u5f84' } }, required: ['path'] } }],
      responseFormat: { type: 'json_schema', schema: { type: 'object', properties: { n: { type: 'number', minimum: -0.5 } } } },
    };
    const want = oldEstimateRequestTokens(req);
    const spy = vi.spyOn(JSON, 'stringify');
    expect(estimateRequestTokens(req)).toBe(want);
    expect(spy).not.toHaveBeenCalled();
  });
});
