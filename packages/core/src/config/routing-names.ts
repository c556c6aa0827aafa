/**
 * The model names a request uses to let the gateway choose (`@llmrr/gateway`: `model: "auto"`, routed over every
 * model the caller may use): no model, alias or cascade may be named so, as a request naming it would never reach it.
 */
export const ROUTING_MODEL_NAMES: readonly string[] = Object.freeze(['auto', 'llmrr/auto']);

/** Why a model, alias or cascade may not be named `name` (one of `ROUTING_MODEL_NAMES`): the config's and `setTenant`'s message. */
export function reservedMessage(name: string): string {
  return `"${name}" is reserved: a gateway request naming it lets the router choose among all models, so nothing named so could be reached (reserved: ${ROUTING_MODEL_NAMES.join(', ')})`;
}

/**
 * `model`'s fields (`name`, then `alias`) named like a routing name: what the config schema, `setTenant` and
 * `LLMRouter.load()` refuse (`reservedMessage`).
 */
export function reservedNameFields(model: { readonly name: string; readonly alias?: string | undefined }): Array<'name' | 'alias'> {
  const fields: Array<'name' | 'alias'> = [];
  if (ROUTING_MODEL_NAMES.includes(model.name)) fields.push('name');
  if (model.alias !== undefined && ROUTING_MODEL_NAMES.includes(model.alias)) fields.push('alias');
  return fields;
}
