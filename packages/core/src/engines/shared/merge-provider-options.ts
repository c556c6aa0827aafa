/**
 * Merges a caller's `providerOptions[provider]` over a wire body: each own enumerable field, as a field of the
 * body, except the `kept` ones (fields the engine controls). An assignment (`Object.assign`) would not do: a field
 * named `__proto__` (JSON.parse makes it an own field) replaces the body's prototype instead of being sent, and
 * the body then reads that object's fields as its own. Returns the `kept` fields the options set (not undefined),
 * or undefined when none (no allocation then).
 */
export function mergeProviderOptions(body: Record<string, unknown>, options: unknown, kept: readonly string[] = []): string[] | undefined {
  if (typeof options !== 'object' || options === null) return undefined;
  let skipped: string[] | undefined;
  for (const key of Object.keys(options)) {
    const value = (options as Record<string, unknown>)[key];
    if (kept.includes(key)) {
      if (value !== undefined) (skipped ??= []).push(key);
    } else if (key === '__proto__') {
      Object.defineProperty(body, key, { value, writable: true, enumerable: true, configurable: true });
    } else {
      body[key] = value;
    }
  }
  return skipped;
}
