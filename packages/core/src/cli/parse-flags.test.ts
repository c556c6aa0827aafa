import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './__fixtures__/cli-harness.js';
import { CliUsageError } from './cli-usage-error.js';
import { intFlag, numberFlag, parseFlags } from './parse-flags.js';

const SPECS = { model: { type: 'string', short: 'm' }, json: { type: 'boolean' }, explain: { type: 'boolean', short: 'e' } } as const;

function usageError(fn: () => unknown): CliUsageError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CliUsageError) return e;
    throw e;
  }
  throw new Error('expected a CliUsageError');
}

describe('parseFlags', () => {
  it('reads short, long and inline values, booleans and positionals in any order', () => {
    const r = parseFlags(['hello', '-m', 'a', '--json', 'world', '--model=b', '-e'], SPECS);
    expect(r.values).toEqual({ model: 'b', json: true, explain: true });
    expect(r.positionals).toEqual(['hello', 'world']);
  });

  it('keeps arguments after -- as positionals, even when they look like flags', () => {
    expect(parseFlags(['--', '-m', '--json'], SPECS).positionals).toEqual(['-m', '--json']);
  });

  it('names an unknown flag', () => {
    const e = usageError(() => parseFlags(['--modle', 'x'], SPECS));
    expect(e.message).toBe('unknown option --modle');
    expect(e.flag).toBe('--modle');
    expect(usageError(() => parseFlags(['-x'], SPECS)).message).toBe('unknown option -x');
  });

  it('refuses a string flag without a value, at the end or followed by another flag', () => {
    expect(usageError(() => parseFlags(['-m'], SPECS)).message).toBe('option -m/--model needs a value');
    const e = usageError(() => parseFlags(['-m', '--json'], SPECS));
    expect(e.message).toContain('option -m/--model needs a value');
    expect(e.flag).toBe('-m');
  });

  it('accepts a negative number as a value, and --flag=-x written inline', () => {
    expect(parseFlags(['-m', '-1.5'], SPECS).values.model).toBe('-1.5');
    expect(parseFlags(['--model=-x'], SPECS).values.model).toBe('-x');
  });

  it('takes a bare - only for a flag whose spec opts in (dash: router eval/train --out), else refuses it naming the flag', () => {
    const specs = { ...SPECS, out: { type: 'string', short: 'o', dash: true } } as const;
    expect(parseFlags(['--out', '-'], specs).values).toEqual({ out: '-' });
    expect(parseFlags(['-o', '-'], specs).values).toEqual({ out: '-' });
    const e = usageError(() => parseFlags(['--model', '-'], specs));
    expect({ message: e.message, flag: e.flag }).toEqual({ message: 'option -m/--model needs a value (got the option "-"; write --model=- if you mean it)', flag: '--model' });
    expect(parseFlags(['--model=-'], specs).values).toEqual({ model: '-' });
  });

  it('refuses a value on a boolean flag', () => {
    expect(usageError(() => parseFlags(['--json=yes'], SPECS)).message).toBe('option --json takes no value (got "yes")');
  });
});

describe('number flags', () => {
  it('parses whole numbers in range and names the flag otherwise', () => {
    expect(intFlag('42', '--max-tokens', 1)).toBe(42);
    expect(intFlag(undefined, '--max-tokens', 1)).toBeUndefined();
    for (const bad of ['0', '1.5', 'ten', '', '1e3']) {
      expect(usageError(() => intFlag(bad, '--max-tokens', 1)).message).toBe(`option --max-tokens expects a whole number >= 1, got "${bad}"`);
    }
  });

  it('parses decimals in range', () => {
    expect(numberFlag('0.7', '--temperature', 0, 2)).toBe(0.7);
    expect(numberFlag('.5', '--temperature', 0, 2)).toBe(0.5);
    for (const bad of ['2.5', '-0.1', 'hot', 'NaN', 'Infinity']) {
      expect(usageError(() => numberFlag(bad, '--temperature', 0, 2)).message).toBe(`option --temperature expects a number from 0 to 2, got "${bad}"`);
    }
  });
});

describe('a bare - on a command flag that does not take it', () => {
  const t = tempDir();
  afterAll(() => t.remove());
  it('llmrr audit verify --write-anchor - is a usage error naming --write-anchor (exit 2), no file named "-"', async () => {
    const r = await runCli(['audit', 'verify', '--write-anchor', '-'], { cwd: t.dir });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: expect.stringContaining('option --write-anchor needs a value (got the option "-"') });
    expect(existsSync(join(t.dir, '-'))).toBe(false);
  });
});
