import { LLMError } from '../../errors/llm-error.js';
import type { JSONSchema } from '../../spec/messages.js';

/** Keywords Gemini's `Schema` (an OpenAPI 3.0 subset) accepts; everything else is dropped. */
const KEPT = [
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'maxItems',
  'minItems',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'default',
  'example',
  'propertyOrdering',
] as const;

const MAX_DEPTH = 32;

type Schema = Record<string, unknown>;

function isObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * JSON Schema (as tools and `json_schema` response formats give it) -> the OpenAPI 3.0 subset that
 * Gemini's `parameters` and `responseSchema` accept: local `$ref`s are inlined (recursive schemas are
 * refused), `type: [x, 'null']` and `anyOf` with `null` become `nullable`, `const` becomes a one-value
 * `enum`, `oneOf` becomes `anyOf`, one-element `allOf` is inlined, and unsupported keywords
 * (`additionalProperties`, `$schema`, ...) are dropped. Throws `unsupported` naming `param` for what
 * cannot be expressed.
 */
export function convertJsonSchemaToGeminiSchema(schema: JSONSchema, param: string, provider = 'gemini'): Schema {
  const root = schema;
  const defs: Schema = { ...(isObject(root.definitions) ? root.definitions : {}), ...(isObject(root.$defs) ? root.$defs : {}) };

  const fail = (where: string, message: string): never => {
    throw new LLMError({ code: 'unsupported', message: `${provider}: ${where}: ${message}`, param: where, provider });
  };

  function resolve(ref: string, where: string, seen: ReadonlySet<string>): Schema {
    const m = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref);
    if (!m) return fail(where, `only local $refs into $defs/definitions are supported, not "${ref}"`);
    const name = decodeURIComponent(m[1]!.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (seen.has(name)) return fail(where, `recursive schema ("${ref}") cannot be expressed for Gemini`);
    // An own entry only: "#/$defs/__proto__" must not find Object.prototype (it would read as an empty schema).
    const target = Object.hasOwn(defs, name) ? defs[name] : undefined;
    if (!isObject(target)) return fail(where, `$ref "${ref}" points nowhere`);
    return target;
  }

  function convert(node: unknown, where: string, seen: ReadonlySet<string>, depth: number): Schema {
    if (depth > MAX_DEPTH) return fail(where, `schema nested deeper than ${MAX_DEPTH} levels`);
    if (node === true || node === undefined) return {};
    if (!isObject(node)) return fail(where, 'schema must be an object');
    if (typeof node.$ref === 'string') {
      const name = node.$ref.replace(/^#\/(?:\$defs|definitions)\//, '');
      const { $ref: _ref, ...siblings } = node;
      return convert({ ...resolve(node.$ref, where, seen), ...siblings }, where, new Set([...seen, name]), depth + 1);
    }
    const out: Schema = {};
    for (const key of KEPT) if (node[key] !== undefined) out[key] = node[key];
    if (node.const !== undefined) out.enum = [node.const];

    const type = node.type;
    if (Array.isArray(type)) {
      const real = type.filter((t) => t !== 'null');
      if (real.length < type.length) out.nullable = true;
      if (real.length === 1) out.type = real[0];
      else if (real.length > 1) out.anyOf = real.map((t) => ({ type: t }));
    } else if (type !== undefined && type !== 'null') {
      out.type = type;
    } else if (type === 'null') {
      out.nullable = true;
    }

    if (isObject(node.properties)) {
      // fromEntries defines own properties: a parameter named "__proto__" stays a property, not the object's prototype.
      out.properties = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, convert(v, `${where}.properties.${k}`, seen, depth + 1)]));
      if (out.type === undefined) out.type = 'object';
    }
    if (Array.isArray(node.required)) out.required = node.required;
    if (node.items !== undefined) {
      if (Array.isArray(node.items)) return fail(`${where}.items`, 'tuple schemas (items as an array) are not supported');
      out.items = convert(node.items, `${where}.items`, seen, depth + 1);
    }

    const alternatives = [...(Array.isArray(node.anyOf) ? node.anyOf : []), ...(Array.isArray(node.oneOf) ? node.oneOf : [])];
    if (alternatives.length > 0) {
      const nonNull = alternatives.filter((s) => !(isObject(s) && s.type === 'null'));
      if (nonNull.length < alternatives.length) out.nullable = true;
      const converted = nonNull.map((s, i) => convert(s, `${where}.anyOf.${i}`, seen, depth + 1));
      if (converted.length === 1) Object.assign(out, converted[0]);
      else if (converted.length > 1) out.anyOf = converted;
    }
    if (Array.isArray(node.allOf)) {
      if (node.allOf.length !== 1) return fail(`${where}.allOf`, 'allOf with more than one schema is not supported');
      Object.assign(out, convert(node.allOf[0], `${where}.allOf.0`, seen, depth + 1));
    }
    return out;
  }

  return convert(schema, param, new Set(), 0);
}

/** True for `{ type: 'object' }` with no properties: Gemini wants such `parameters` left out. */
export function isEmptyObjectSchema(schema: JSONSchema | undefined): boolean {
  if (!schema) return true;
  const props = schema.properties;
  return (schema.type === undefined || schema.type === 'object') && (!isObject(props) || Object.keys(props).length === 0) && schema.$ref === undefined && schema.anyOf === undefined;
}
