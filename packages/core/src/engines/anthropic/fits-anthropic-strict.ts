/**
 * Whether a JSON schema fits Anthropic's strict mode (strict tool use, structured outputs), which compiles the
 * schema into a grammar and refuses what it cannot compile with a 400 ("tools.0.custom: For 'integer' type,
 * property 'minimum' is not supported"). The rules, from "JSON Schema limitations"
 * (https://platform.claude.com/docs/en/build-with-claude/structured-outputs) and the keywords @anthropic-ai/sdk 1.14
 * keeps when it makes a schema strict (`lib/transform-json-schema`):
 * - keywords: `type` (string or array of JSON types), `description`, `title`, `default`, `enum` and `const` (of
 *   strings, numbers, booleans, null), `anyOf`, `allOf` (without `$ref` in it), local `$ref` (`#/$defs/X`,
 *   `#/definitions/X`), `$defs` / `definitions` at the root, `properties`, `required`, `additionalProperties`
 *   (only `false`), `items` (one schema), `minItems` (0 or 1), `format` (date-time, time, date, duration, email,
 *   hostname, uri, ipv4, ipv6, uuid), `pattern` (no backreferences, lookarounds or word boundaries). Anything else
 *   (`minimum`, `maxLength`, `maxItems`, `oneOf`, `$schema`...) does not fit;
 * - every object has `additionalProperties: false`;
 * - no recursive schema (a `$ref` that leads back to itself).
 * Per request, across its strict schemas: at most 20 strict tools, 24 optional properties (not in `required`) and 16
 * properties with a union type (`anyOf` or a type array): `ANTHROPIC_STRICT_LIMITS`; the result counts the last two.
 * Work is linear in the schema's size; nesting deeper than 64 does not fit.
 */
export type AnthropicStrictFit = { fits: true; optional: number; unions: number } | { fits: false; why: string };

export const ANTHROPIC_STRICT_LIMITS = { tools: 20, optional: 24, unions: 16 } as const;

const MAX_DEPTH = 64;
const KEYWORDS = new Set([
  'type', 'description', 'title', 'default', 'enum', 'const', 'anyOf', 'allOf', '$ref', 'properties', 'required',
  'additionalProperties', 'items', 'minItems', 'format', 'pattern',
]);
const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean', 'null']);
const FORMATS = new Set(['date-time', 'time', 'date', 'duration', 'email', 'hostname', 'uri', 'ipv4', 'ipv6', 'uuid']);
const LOCAL_REF = /^#\/(\$defs|definitions)\/([^/]+)$/;

class Misfit extends Error {}

const isPrimitive = (v: unknown): boolean => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const isSchema = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Walk {
  optional: number;
  unions: number;
  /** Definition (`$defs/X` or `definitions/X`, or `#` for the root) -> the definitions its `$ref`s name. */
  refs: Map<string, Set<string>>;
  defs: Set<string>;
}

function node(schema: unknown, at: string, owner: string, depth: number, walk: Walk): void {
  if (!isSchema(schema)) throw new Misfit(`${at} is not a schema object`);
  if (depth > MAX_DEPTH) throw new Misfit(`the schema nests deeper than ${MAX_DEPTH}`);
  for (const key of Object.keys(schema)) {
    if (!KEYWORDS.has(key) && !(depth === 0 && (key === '$defs' || key === 'definitions'))) throw new Misfit(`${at} uses ${key}, which strict mode does not take`);
  }
  const { type } = schema;
  const types = Array.isArray(type) ? type : type === undefined ? [] : [type];
  if (types.some((t) => typeof t !== 'string' || !TYPES.has(t))) throw new Misfit(`${at}.type is not a JSON type`);
  if (Array.isArray(type) && type.length > 1) walk.unions++;
  if (schema.enum !== undefined && (!Array.isArray(schema.enum) || !schema.enum.every(isPrimitive))) throw new Misfit(`${at}.enum holds a value that is not a string, number, boolean or null`);
  if (schema.const !== undefined && !isPrimitive(schema.const)) throw new Misfit(`${at}.const is not a string, number, boolean or null`);
  const ref = schema.$ref;
  if (ref !== undefined) {
    const m = typeof ref === 'string' ? LOCAL_REF.exec(ref) : null;
    if (ref === '#') throw new Misfit(`${at}.$ref "#" makes the schema recursive`);
    if (!m) throw new Misfit(`${at}.$ref is not a local definition (#/$defs/... or #/definitions/...)`);
    let named = walk.refs.get(owner);
    if (!named) walk.refs.set(owner, (named = new Set()));
    named.add(`${m[1]}/${m[2]}`);
  }
  if (schema.additionalProperties !== undefined && schema.additionalProperties !== false) throw new Misfit(`${at}.additionalProperties is not false`);
  const isObject = types.includes('object') || schema.properties !== undefined;
  if (isObject && schema.additionalProperties !== false) throw new Misfit(`${at} is an object without additionalProperties: false`);
  if (schema.minItems !== undefined && schema.minItems !== 0 && schema.minItems !== 1) throw new Misfit(`${at}.minItems is neither 0 nor 1`);
  if (schema.format !== undefined && (typeof schema.format !== 'string' || !FORMATS.has(schema.format))) throw new Misfit(`${at}.format ${JSON.stringify(schema.format)} is not one strict mode takes`);
  if (schema.pattern !== undefined && (typeof schema.pattern !== 'string' || patternUsesUnsupported(schema.pattern))) {
    throw new Misfit(`${at}.pattern uses a backreference, lookaround or word boundary`);
  }
  if (schema.properties !== undefined) {
    if (!isSchema(schema.properties)) throw new Misfit(`${at}.properties is not an object`);
    const required = new Set(Array.isArray(schema.required) ? schema.required : []);
    for (const [key, sub] of Object.entries(schema.properties)) {
      if (!required.has(key)) walk.optional++;
      node(sub, `${at}.properties.${key}`, owner, depth + 1, walk);
    }
  }
  if (schema.items !== undefined) node(schema.items, `${at}.items`, owner, depth + 1, walk);
  for (const key of ['anyOf', 'allOf'] as const) {
    const list = schema[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new Misfit(`${at}.${key} is not an array`);
    if (key === 'anyOf') walk.unions++;
    list.forEach((sub, i) => {
      if (key === 'allOf' && isSchema(sub) && sub.$ref !== undefined) throw new Misfit(`${at}.allOf.${i} uses $ref, which strict mode does not take in allOf`);
      node(sub, `${at}.${key}.${i}`, owner, depth + 1, walk);
    });
  }
}

/**
 * True when the pattern uses a backreference (`\1`, `\k<name>`), a lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`) or a word
 * boundary (`\b`, `\B`): read token by token, so an escaped character (`\\b` is a backslash then "b", `\(?=` a
 * literal) and anything inside a character class (`[\b]` is a backspace, `[(?=]` three characters) is not one.
 */
export function patternUsesUnsupported(pattern: string): boolean {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (!inClass && (/[1-9bB]/.test(next) || (next === 'k' && pattern[i + 2] === '<'))) return true;
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
      if (pattern[i + 1] === ']') i++;
    } else if (c === '(' && pattern[i + 1] === '?' && (pattern[i + 2] === '=' || pattern[i + 2] === '!' || (pattern[i + 2] === '<' && (pattern[i + 3] === '=' || pattern[i + 3] === '!')))) {
      return true;
    }
  }
  return false;
}

/**
 * A definition that reaches itself through `$ref`s, or undefined: depth-first with an explicit stack (each
 * definition visited once), so a long chain of definitions costs no call stack.
 */
function recursive(refs: Map<string, Set<string>>): string | undefined {
  const state = new Map<string, 'open' | 'done'>();
  for (const start of refs.keys()) {
    if (state.has(start)) continue;
    state.set(start, 'open');
    const stack: Array<{ name: string; next: Iterator<string> }> = [{ name: start, next: (refs.get(start) ?? new Set<string>()).values() }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const step = top.next.next();
      if (step.done) {
        state.set(top.name, 'done');
        stack.pop();
        continue;
      }
      const name = step.value;
      const seen = state.get(name);
      if (seen === 'open') return name;
      if (seen === 'done') continue;
      state.set(name, 'open');
      stack.push({ name, next: (refs.get(name) ?? new Set<string>()).values() });
    }
  }
  return undefined;
}

/** See `AnthropicStrictFit`: fits (with its optional and union counts), or why not, naming the place (`schema.properties.a`). */
export function fitsAnthropicStrict(schema: unknown): AnthropicStrictFit {
  const walk: Walk = { optional: 0, unions: 0, refs: new Map(), defs: new Set() };
  try {
    node(schema, 'schema', '#', 0, walk);
    const root = schema as Record<string, unknown>;
    for (const group of ['$defs', 'definitions'] as const) {
      const defs = root[group];
      if (defs === undefined) continue;
      if (!isSchema(defs)) throw new Misfit(`schema.${group} is not an object`);
      for (const [name, sub] of Object.entries(defs)) {
        walk.defs.add(`${group}/${name}`);
        node(sub, `schema.${group}.${name}`, `${group}/${name}`, 1, walk);
      }
    }
    for (const named of walk.refs.values()) {
      for (const name of named) if (!walk.defs.has(name)) throw new Misfit(`$ref #/${name} names no definition`);
    }
    const loop = recursive(walk.refs);
    if (loop) throw new Misfit(`#/${loop} is recursive`);
  } catch (e) {
    if (e instanceof Misfit) return { fits: false, why: e.message };
    throw e;
  }
  return { fits: true, optional: walk.optional, unions: walk.unions };
}
