/**
 * Why OpenAI's strict mode (`function.strict: true`, `json_schema.strict: true`) would refuse a schema, or undefined
 * when it takes it: every object schema needs `additionalProperties: false` and a `required` listing every key of its
 * `properties` ("All fields must be required", "additionalProperties: false must always be set in objects":
 * https://platform.openai.com/docs/guides/structured-outputs#supported-schemas). OpenAI checks more (unsupported
 * keywords, sizes); these two rules are the ones where other providers' strict modes differ (Anthropic's takes
 * optional properties), so a schema written for them is not sent strict to OpenAI. Walks `properties`, `items`,
 * `anyOf`, `$defs` and `definitions`; linear in the schema's size; nesting deeper than 64 counts as a problem.
 * The place is named as a path from the schema (`schema.properties.where`).
 */
export function openAIStrictSchemaProblem(schema: unknown): string | undefined {
  return problemAt(schema, 'schema', 0);
}

const MAX_DEPTH = 64;

function problemAt(schema: unknown, at: string, depth: number): string | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return undefined;
  if (depth > MAX_DEPTH) return `the schema nests deeper than ${MAX_DEPTH}`;
  const node = schema as Record<string, unknown>;
  const props = typeof node.properties === 'object' && node.properties !== null ? (node.properties as Record<string, unknown>) : undefined;
  if (node.type === 'object' || (Array.isArray(node.type) && node.type.includes('object')) || props !== undefined) {
    if (node.additionalProperties !== false) return `${at} is an object without additionalProperties: false`;
    const required = new Set(Array.isArray(node.required) ? node.required : []);
    const missing = Object.keys(props ?? {}).find((k) => !required.has(k));
    if (missing !== undefined) return `${at}.properties.${missing} is optional (strict mode takes only required properties; make it nullable instead)`;
  }
  for (const [key, sub] of Object.entries(props ?? {})) {
    const problem = problemAt(sub, `${at}.properties.${key}`, depth + 1);
    if (problem) return problem;
  }
  const problem = problemAt(node.items, `${at}.items`, depth + 1);
  if (problem) return problem;
  if (Array.isArray(node.anyOf)) {
    for (let i = 0; i < node.anyOf.length; i++) {
      const found = problemAt(node.anyOf[i], `${at}.anyOf.${i}`, depth + 1);
      if (found) return found;
    }
  }
  for (const group of ['$defs', 'definitions'] as const) {
    const defs = node[group];
    if (typeof defs !== 'object' || defs === null) continue;
    for (const [key, sub] of Object.entries(defs)) {
      const found = problemAt(sub, `${at}.${group}.${key}`, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

/** The parameters OpenAI checks for a function without `parameters`: an empty object, which strict mode refuses. */
export const EMPTY_PARAMETERS = { type: 'object', properties: {} } as const;
