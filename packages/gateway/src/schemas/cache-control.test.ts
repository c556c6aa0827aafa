import { describe, expect, it } from 'vitest';
import { CacheControlSchema, isCacheControlWire, toCacheControl } from './cache-control.js';
import { wireJsonSchema } from './json-schema.js';

describe('cache_control on the wire', () => {
  it('takes { type: "ephemeral", ttl?: "5m" | "1h" } (other keys ignored) and null; refuses anything else', () => {
    for (const ok of [{ type: 'ephemeral' }, { type: 'ephemeral', ttl: '5m' }, { type: 'ephemeral', ttl: '1h', scope: 'x' }, null]) {
      expect(isCacheControlWire(ok)).toBe(true);
      expect(CacheControlSchema.safeParse(ok).success).toBe(true);
    }
    expect(CacheControlSchema.safeParse(undefined).success).toBe(true);
    for (const bad of [{}, { type: 'Ephemeral' }, { type: 'ephemeral', ttl: '1H' }, { type: 'ephemeral', ttl: null }, [], 'ephemeral', true, 0]) {
      expect(isCacheControlWire(bad)).toBe(false);
      expect(CacheControlSchema.safeParse(bad).success).toBe(false);
    }
  });

  it('names the field at fault', () => {
    const issues = (v: unknown) => CacheControlSchema.safeParse(v).error?.issues.map((i) => i.path.join('.'));
    expect(issues({ type: 'x', ttl: '2h' })).toEqual(['type', 'ttl']);
    expect(issues('yes')).toEqual(['']);
    const long = CacheControlSchema.safeParse({ type: 'ephemeral', ttl: 'x'.repeat(10_000) }).error!.issues[0]!.message;
    expect(long).toBe(`must be "5m" or "1h", not "${'x'.repeat(39)}...`);
    expect(CacheControlSchema.safeParse({ ttl: '5m' }).error!.issues[0]!.message).toMatch(/not missing$/);
  });

  it('as the core breakpoint: only type and ttl; none for null or undefined', () => {
    expect(toCacheControl({ type: 'ephemeral', ttl: '1h', scope: 'x' })).toEqual({ type: 'ephemeral', ttl: '1h' });
    expect(toCacheControl({ type: 'ephemeral' })).toEqual({ type: 'ephemeral' });
    expect(toCacheControl(null)).toBeUndefined();
    expect(toCacheControl(undefined)).toBeUndefined();
  });

  it('is described in the exported JSON Schema', () => {
    const schema = wireJsonSchema('AnthropicMessagesRequest') as { properties: Record<string, unknown> };
    expect(schema.properties.cache_control).toMatchObject({ anyOf: [{ type: 'null' }, { type: 'object', properties: { type: { const: 'ephemeral' }, ttl: { enum: ['5m', '1h'] } }, required: ['type'] }] });
  });
});
