import type { CallWarning } from '@llmrr/core';
import { parseList, Token } from 'structured-headers';
import { describe, expect, it } from 'vitest';
import { WARNINGS_HEADER_MAX, sfString, warningsHeader } from './warnings-header.js';

/** The header as an RFC 8941 client reads it (structured-headers' parser): code, field, message of each member. */
function read(value: string): Array<{ code: string; params: Record<string, unknown> }> {
  return parseList(value).map(([item, params]) => {
    expect(Array.isArray(item)).toBe(false); // items, never inner lists
    const code = item instanceof Token ? item.toString() : (item as string);
    return { code, params: Object.fromEntries(params) };
  });
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

describe('warningsHeader', () => {
  it('no warnings, no header', () => {
    expect(warningsHeader([])).toBeUndefined();
  });

  it('a List of tokens with field and message parameters, as RFC 8941 parsers read it', () => {
    const warnings: CallWarning[] = [
      { code: 'system_message_hoisted', field: 'messages.3', message: 'The system message was joined into the system prompt.' },
      { code: 'setting_not_sent', field: 'seed', message: 'seed: no equivalent' },
      { code: 'cache_control_changed', message: 'no field' },
    ];
    const value = warningsHeader(warnings)!;
    expect(value).toBe(
      'system_message_hoisted;field="messages.3";message="The system message was joined into the system prompt.", setting_not_sent;field="seed";message="seed: no equivalent", cache_control_changed;message="no field"',
    );
    expect(read(value)).toEqual([
      { code: 'system_message_hoisted', params: { field: 'messages.3', message: 'The system message was joined into the system prompt.' } },
      { code: 'setting_not_sent', params: { field: 'seed', message: 'seed: no equivalent' } },
      { code: 'cache_control_changed', params: { message: 'no field' } },
    ]);
  });

  it('escapes " and \\ in strings; anything outside printable ASCII becomes ?', () => {
    const value = warningsHeader([{ code: 'odd', field: 'a"b\\c', message: 'caf\u00e9 \u{1f600} line\nbreak\ttab "q" \\' }])!;
    expect(value).toMatch(PRINTABLE_ASCII);
    expect(read(value)).toEqual([{ code: 'odd', params: { field: 'a"b\\c', message: 'caf? ? line?break?tab "q" \\' } }]);
    expect(sfString('plain')).toBe('"plain"');
    expect(sfString('\u0000\u007f\u0080\u00ff\u0100')).toBe('"?????"');
  });

  it('a code that is not an sf-token is sent as an sf-string, so the header still parses', () => {
    const value = warningsHeader([{ code: '9lives', message: 'm' }, { code: 'has space', message: 'm' }, { code: 'ok:with/chars.*', message: 'm' }, { code: '\u00e9t\u00e9', message: 'm' }])!;
    expect(value).toMatch(PRINTABLE_ASCII);
    expect(read(value).map((w) => w.code)).toEqual(['9lives', 'has space', 'ok:with/chars.*', '?t?']);
    expect(value.startsWith('"9lives"')).toBe(true);
    expect(value).toContain(', ok:with/chars.*;');
  });

  it('leaves out a message longer than 200 characters (the code and field stay)', () => {
    const value = warningsHeader([{ code: 'setting_not_sent', field: 'seed', message: 'x'.repeat(300) }])!;
    expect(read(value)).toEqual([{ code: 'setting_not_sent', params: { field: 'seed' } }]);
  });

  it('bounded: messages go first, then warnings from the end, with a last member truncated;omitted=N', () => {
    const many = Array.from({ length: 60 }, (_, i): CallWarning => ({ code: 'setting_not_sent', field: `f${i}`, message: 'm'.repeat(150) }));
    // Without the messages all 60 fit in 4 KiB: every field, no message.
    const bare = warningsHeader(many)!;
    expect(bare.length).toBeLessThanOrEqual(WARNINGS_HEADER_MAX);
    expect(read(bare)).toEqual(many.map((w) => ({ code: w.code, params: { field: w.field } })));

    const lots = Array.from({ length: 500 }, (_, i): CallWarning => ({ code: 'setting_not_sent', field: `field${i}`, message: 'm' }));
    const cut = warningsHeader(lots)!;
    expect(cut.length).toBeLessThanOrEqual(WARNINGS_HEADER_MAX);
    const members = read(cut);
    const last = members.at(-1)!;
    expect(last.code).toBe('truncated');
    const kept = members.length - 1;
    expect(kept).toBeGreaterThan(50);
    expect(last.params).toEqual({ omitted: 500 - kept });
    expect(members.slice(0, -1)).toEqual(lots.slice(0, kept).map((w) => ({ code: w.code, params: { field: w.field } })));
  });

  it('a warning too long for the bound alone is left out, the ones after it still go, in order, counted in the marker', () => {
    const value = warningsHeader([{ code: 'setting_not_sent', field: 'f'.repeat(5000), message: 'm' }])!;
    expect(read(value)).toEqual([{ code: 'truncated', params: { omitted: 1 } }]);
    expect(warningsHeader([{ code: 'a', message: 'b' }, { code: 'c', message: 'd' }], 45)).toBe('a;message="b", c;message="d"');
    expect(warningsHeader([{ code: 'a', field: 'x'.repeat(40), message: 'b' }, { code: 'c', message: 'd' }], 50)).toBe('c, truncated;omitted=1');
    const mixed: CallWarning[] = [
      { code: 'first', field: 'seed', message: 'm' },
      { code: 'huge_field', field: 'f'.repeat(100_000), message: 'm' },
      { code: 'huge_code_'.repeat(10_000), message: 'm' },
      { code: 'second', field: 'stop', message: 'm' },
    ];
    const cut = warningsHeader(mixed)!;
    expect(cut.length).toBeLessThanOrEqual(WARNINGS_HEADER_MAX);
    expect(read(cut)).toEqual([
      { code: 'first', params: { field: 'seed' } },
      { code: 'second', params: { field: 'stop' } },
      { code: 'truncated', params: { omitted: 2 } },
    ]);
  });

  it('a 100 KB message (of any characters) is left out, the warning stays', () => {
    for (const message of ['x'.repeat(100_000), '\u{1f600}'.repeat(50_000), '"'.repeat(100_000)]) {
      expect(read(warningsHeader([{ code: 'setting_not_sent', field: 'seed', message }])!)).toEqual([{ code: 'setting_not_sent', params: { field: 'seed' } }]);
    }
    // Up to 200 characters quoted, whatever the raw length: 150 emoji (300 UTF-16 units) are 150 `?`.
    expect(read(warningsHeader([{ code: 'a', message: '\u{1f600}'.repeat(150) }])!)).toEqual([{ code: 'a', params: { message: '?'.repeat(150) } }]);
  });

  it('an empty message is not sent', () => {
    expect(warningsHeader([{ code: 'a', field: 'seed', message: '' }])).toBe('a;field="seed"');
  });
});
