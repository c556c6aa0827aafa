/**
 * A copy of an error's `details` that the router can add its own keys to (the symbol keys of a spend: `REFUSED_ANSWER`,
 * the guard call's cost), keeping every key the original has, symbol keys included (a spend another step put there
 * stays): an object's own fields (a spread copies own enumerable symbol keys), a list's entries and symbol keys
 * (`Object.assign` onto a new array; an array spread would keep only its entries), `{}` for none, and a single value
 * (a provider's error body that is a JSON string or number) as `body`.
 */
export function detailsCopy(details: unknown): Record<PropertyKey, unknown> {
  if (details === undefined) return {};
  if (Array.isArray(details)) return Object.assign([], details) as unknown as Record<PropertyKey, unknown>;
  return typeof details === 'object' && details !== null ? { ...details } : { body: details };
}
