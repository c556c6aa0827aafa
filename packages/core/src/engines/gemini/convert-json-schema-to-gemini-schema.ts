import { LLMError } from '../../errors/llm-error.js';
import type { JSONSchema } from '../../spec/messages.js';
import type { CallWarning } from '../../spec/warnings.js';

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

/** The `format`s Gemini takes, by type (its Schema reference); another is a 400 ("only 'enum' and 'date-time' are supported for STRING type"). */
const FORMATS: Readonly<Record<string, readonly string[]>> = { string: ['enum', 'date-time'], number: ['float', 'double'], integer: ['int32', 'int64'] };

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
 *
 * What Gemini refuses with a 400 is changed, each change a `setting_changed` warning pushed onto `warnings`
 * (named by its path under `param`):
 * - a `format` Gemini does not take for the type (`FORMATS`: `uri`, `email`, `uuid` on a string) goes into the
 *   description (`(format: uri)`), which the model reads;
 * - `null` in an `enum` (OpenAI strict mode's nullable enum) becomes `nullable` (no warning: the same meaning);
 * - an `enum` (or `const`) with values that are not strings (Gemini's enum is a list of strings) goes into the
 *   description (`(one of: 1, 2, 3)`); a type-less enum gets the type of its values (`string`, `integer`, ...);
 * - an object with no properties (a free-form object: MCP's `{ type: 'object', properties: {} }`, `z.record()`), which
 *   Gemini's schema cannot express ("properties: should be non-empty for OBJECT type"), nor an array of them, is left
 *   out: a property out of its parent's `properties` and `required`, an `anyOf` member out of the union (a union of
 *   nothing else is itself left out). The caller checks the root with `isFreeFormGeminiSchema` (a tool's
 *   `parameters` left out when every property went).
 */
export function convertJsonSchemaToGeminiSchema(schema: JSONSchema, param: string, provider = 'gemini', warnings?: CallWarning[]): Schema {
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

    if (out.enum !== undefined) enumForGemini(out, where);
    if (typeof out.format === 'string' && !FORMATS[out.type as string]?.includes(out.format)) {
      warnings?.push({ code: 'setting_changed', field: `${where}.format`, message: `${where}.format "${out.format}" was sent in the description: Gemini takes no such format for a ${out.type ?? 'value'}.` });
      noteInDescription(out, `(format: ${out.format})`);
      delete out.format;
    }

    let freeForm: string[] | undefined;
    if (isObject(node.properties)) {
      // fromEntries defines own properties: a parameter named "__proto__" stays a property, not the object's prototype.
      out.properties = Object.fromEntries(
        Object.entries(node.properties).flatMap(([k, v]) => {
          const field = `${where}.properties.${k}`;
          const converted = convert(v, field, seen, depth + 1);
          if (!isFreeFormGeminiSchema(converted)) return [[k, converted]];
          leftOut(field, converted);
          (freeForm ??= []).push(k);
          return [];
        }),
      );
      if (out.type === undefined) out.type = 'object';
    }
    if (Array.isArray(node.required)) out.required = freeForm === undefined ? node.required : node.required.filter((k) => !freeForm!.includes(k as string));
    if (node.items !== undefined) {
      if (Array.isArray(node.items)) return fail(`${where}.items`, 'tuple schemas (items as an array) are not supported');
      out.items = convert(node.items, `${where}.items`, seen, depth + 1);
    }

    // Each member named by the caller's keyword and index (`oneOf.0`, `anyOf.2` after a null member).
    const alternatives: { schema: unknown; field: string }[] = [];
    for (const keyword of ['anyOf', 'oneOf'] as const) {
      const list = node[keyword];
      if (Array.isArray(list)) list.forEach((s, i) => alternatives.push({ schema: s, field: `${where}.${keyword}.${i}` }));
    }
    if (alternatives.length > 0) {
      const nonNull = alternatives.filter((a) => !(isObject(a.schema) && a.schema.type === 'null'));
      if (nonNull.length < alternatives.length) out.nullable = true;
      const converted = nonNull.map((a) => convert(a.schema, a.field, seen, depth + 1));
      // Free-form members leave the union; a union of nothing else stays free-form (its parent leaves it out).
      const kept = converted.filter((s) => !isFreeFormGeminiSchema(s));
      if (kept.length > 0 && kept.length < converted.length) {
        converted.forEach((s, i) => {
          if (isFreeFormGeminiSchema(s)) leftOut(nonNull[i]!.field, s);
        });
      }
      const members = kept.length > 0 ? kept : converted.slice(0, 1);
      if (members.length === 1) Object.assign(out, members[0]);
      else if (members.length > 1) out.anyOf = members;
    }
    if (Array.isArray(node.allOf)) {
      if (node.allOf.length !== 1) return fail(`${where}.allOf`, 'allOf with more than one schema is not supported');
      Object.assign(out, convert(node.allOf[0], `${where}.allOf.0`, seen, depth + 1));
    }
    return out;
  }

  function leftOut(field: string, schema: Schema): void {
    const what = schema.type === 'array' ? 'an array of objects with no properties (free-form objects)' : 'an object with no properties (a free-form object)';
    warnings?.push({ code: 'setting_changed', field, message: `${field} was left out: Gemini's schema cannot express ${what}.` });
  }

  /** `out.enum` as Gemini takes it: `null` as `nullable`; values that are not all strings into the description. */
  function enumForGemini(out: Schema, where: string): void {
    const values = out.enum;
    if (!Array.isArray(values)) return;
    let strings = true;
    let hasNull = false;
    for (const v of values) {
      if (v === null) hasNull = true;
      else if (typeof v !== 'string') strings = false;
    }
    const kept = hasNull ? values.filter((v) => v !== null) : values;
    if (hasNull) out.nullable = true;
    if (kept.length === 0) {
      delete out.enum;
    } else if (strings) {
      out.enum = kept;
      if (out.type === undefined) out.type = 'string';
    } else {
      warnings?.push({ code: 'setting_changed', field: `${where}.enum`, message: `${where}.enum was sent in the description: Gemini takes only strings as enum values.` });
      noteInDescription(out, `(one of: ${kept.map((v) => JSON.stringify(v)).join(', ')})`);
      delete out.enum;
      if (out.type === undefined) {
        if (kept.every((v) => typeof v === 'boolean')) out.type = 'boolean';
        else if (kept.every((v) => typeof v === 'number')) out.type = kept.every((v) => Number.isInteger(v)) ? 'integer' : 'number';
      }
    }
  }

  return convert(schema, param, new Set(), 0);
}

/** Appends `note` to the schema's description (which the model reads). */
function noteInDescription(out: Schema, note: string): void {
  out.description = typeof out.description === 'string' && out.description !== '' ? `${out.description} ${note}` : note;
}

/**
 * A converted schema Gemini refuses: an object with no properties ("properties: should be non-empty for OBJECT type";
 * Gemini's Schema is a protobuf message, where no `properties` and `{}` are the same), or an array of them.
 */
export function isFreeFormGeminiSchema(schema: Schema): boolean {
  if (schema.type === 'array') return isObject(schema.items) && isFreeFormGeminiSchema(schema.items);
  return schema.type === 'object' && (!isObject(schema.properties) || Object.keys(schema.properties).length === 0) && schema.anyOf === undefined;
}

/** True for `{ type: 'object' }` with no properties: Gemini wants such `parameters` left out. */
export function isEmptyObjectSchema(schema: JSONSchema | undefined): boolean {
  if (!schema) return true;
  const props = schema.properties;
  return (schema.type === undefined || schema.type === 'object') && (!isObject(props) || Object.keys(props).length === 0) && schema.$ref === undefined && schema.anyOf === undefined;
}
