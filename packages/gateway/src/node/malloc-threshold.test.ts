import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cLibrary, mallocMmapThreshold, mallocMmapThresholdSetting, mallocSummary } from './malloc-threshold.js';
import { GATEWAY_MALLOC_MMAP_THRESHOLD, GATEWAY_NODE_ENV } from './young-generation.js';

const GLIBC_236 = { name: 'glibc', version: '2.36' } as const;
const GLIBC_239 = { name: 'glibc', version: '2.39' } as const;

describe('mallocMmapThreshold', () => {
  it('reads MALLOC_MMAP_THRESHOLD_ as glibc does: decimal, 0x hex, 0 octal, leading blanks and a sign; empty is 0', () => {
    for (const libc of [GLIBC_236, GLIBC_239]) {
      expect(mallocMmapThreshold({ ...GATEWAY_NODE_ENV }, libc)).toBe(GATEWAY_MALLOC_MMAP_THRESHOLD);
      expect(mallocMmapThreshold({ MALLOC_MMAP_THRESHOLD_: '0x20000' }, libc)).toBe(131_072);
      expect(mallocMmapThreshold({ MALLOC_MMAP_THRESHOLD_: '0X20000' }, libc)).toBe(131_072);
      expect(mallocMmapThreshold({ MALLOC_MMAP_THRESHOLD_: '0400000' }, libc)).toBe(131_072);
      expect(mallocMmapThreshold({ MALLOC_MMAP_THRESHOLD_: ' \t+65536' }, libc)).toBe(65_536);
      expect(mallocMmapThreshold({ MALLOC_MMAP_THRESHOLD_: '' }, libc)).toBe(0);
      expect(mallocMmapThreshold({ MALLOC_MMAP_THRESHOLD_: '-1' }, libc)).toBe(2 ** 64 - 1);
      expect(mallocMmapThreshold({}, libc)).toBeUndefined();
    }
  });

  it('a value with something after the number: glibc before 2.39 reads the number in front ("abc" is 0), 2.39 and later ignore it', () => {
    expect(mallocMmapThreshold({ MALLOC_MMAP_THRESHOLD_: '128k' }, GLIBC_236)).toBe(128);
    expect(mallocMmapThreshold({ MALLOC_MMAP_THRESHOLD_: '65536 ' }, GLIBC_236)).toBe(65_536);
    expect(mallocMmapThreshold({ MALLOC_MMAP_THRESHOLD_: '08' }, GLIBC_236)).toBe(0);
    expect(mallocMmapThreshold({ MALLOC_MMAP_THRESHOLD_: 'abc' }, GLIBC_236)).toBe(0);
    // Past 2^64 - 1 the reading stops at the digit that overflows: UINT64_MAX before 2.39, ignored from 2.39.
    expect(mallocMmapThreshold({ MALLOC_MMAP_THRESHOLD_: '99999999999999999999999' }, GLIBC_236)).toBe(2 ** 64 - 1);
    for (const v of ['128k', '65536 ', '08', 'abc', '1e5', '99999999999999999999999']) expect(mallocMmapThreshold({ MALLOC_MMAP_THRESHOLD_: v }, GLIBC_239), v).toBeUndefined();
  });

  it('GLIBC_TUNABLES glibc.malloc.mmap_threshold wins over MALLOC_MMAP_THRESHOLD_, and says so', () => {
    const env = { MALLOC_MMAP_THRESHOLD_: '131072', GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=1:glibc.malloc.mmap_threshold=0x8000' };
    expect(mallocMmapThresholdSetting(env, GLIBC_236)).toEqual({ bytes: 32_768, from: 'GLIBC_TUNABLES' });
    expect(mallocMmapThresholdSetting({ MALLOC_MMAP_THRESHOLD_: '131072' }, GLIBC_239)).toEqual({ bytes: 131_072, from: 'MALLOC_MMAP_THRESHOLD_' });
    // 2.39 and later: an ill-formed tunable is ignored, and the variable applies.
    expect(mallocMmapThresholdSetting({ ...env, GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=32k' }, GLIBC_239)).toEqual({ bytes: 131_072, from: 'MALLOC_MMAP_THRESHOLD_' });
  });

  it('GLIBC_TUNABLES that glibc 2.39 and later ignore as a whole (the variable applies); before 2.39 the pairs apply one by one', () => {
    const withVariable = { MALLOC_MMAP_THRESHOLD_: '131072' };
    for (const tunables of [
      'glibc.malloc.mmap_threshold=65536:', // a trailing ":"
      'glibc.malloc.mmap_threshold=65536:glibc.malloc.check', // a last tunable without "="
      'glibc.malloc.check=1=2:glibc.malloc.mmap_threshold=65536', // a value holding "=" (the CVE-2023-4911 form)
      'glibc.malloc.mmap_threshold=65536=1',
    ]) {
      expect(mallocMmapThresholdSetting({ ...withVariable, GLIBC_TUNABLES: tunables }, GLIBC_239), tunables).toEqual({ bytes: 131_072, from: 'MALLOC_MMAP_THRESHOLD_' });
      expect(mallocMmapThresholdSetting({ GLIBC_TUNABLES: tunables }, GLIBC_239), tunables).toBeUndefined();
      expect(mallocSummary({ GLIBC_TUNABLES: tunables }, GLIBC_239), tunables).toMatch(/^glibc's moving threshold/);
      expect(mallocMmapThresholdSetting({ ...withVariable, GLIBC_TUNABLES: tunables }, GLIBC_236), tunables).toEqual({ bytes: 65_536, from: 'GLIBC_TUNABLES' });
    }
    // Well formed: empty parts skipped, the last value of a tunable counts; invalid from 2.39, it is ignored.
    expect(mallocMmapThresholdSetting({ ...withVariable, GLIBC_TUNABLES: '::glibc.malloc.mmap_threshold=9::glibc.malloc.check=0' }, GLIBC_239)).toEqual({ bytes: 9, from: 'GLIBC_TUNABLES' });
    expect(mallocMmapThresholdSetting({ ...withVariable, GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=1:glibc.malloc.mmap_threshold=abc' }, GLIBC_236)).toEqual({ bytes: 0, from: 'GLIBC_TUNABLES' });
    expect(mallocMmapThresholdSetting({ ...withVariable, GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=1:glibc.malloc.mmap_threshold=abc' }, GLIBC_239)).toEqual({ bytes: 131_072, from: 'MALLOC_MMAP_THRESHOLD_' });
    expect(mallocMmapThresholdSetting({ ...withVariable, GLIBC_TUNABLES: '' }, GLIBC_239)).toEqual({ bytes: 131_072, from: 'MALLOC_MMAP_THRESHOLD_' });
    // From 2.40, glibc.rtld.enable_secure=1 ignores every tunable and alias.
    expect(mallocMmapThresholdSetting({ ...withVariable, GLIBC_TUNABLES: 'glibc.rtld.enable_secure=1:glibc.malloc.mmap_threshold=9' }, { name: 'glibc', version: '2.40' })).toBeUndefined();
  });

  it("glibc's overflow check is stricter than overflow: a number whose last step passes (2^64 - 1 - digit) / base reads 2^64 - 1 (ignored from 2.39)", () => {
    for (const v of ['18446744073709551606', '18446744073709551614', '0xfffffffffffffff0']) {
      expect(mallocSummary({ MALLOC_MMAP_THRESHOLD_: v }, GLIBC_236), v).toBe('blocks of 18446744073709551615 bytes and more mapped on their own (MALLOC_MMAP_THRESHOLD_)');
      expect(mallocMmapThreshold({ MALLOC_MMAP_THRESHOLD_: v }, GLIBC_239), v).toBeUndefined();
    }
    // Just under: read exactly, and printed with every digit.
    expect(mallocSummary({ MALLOC_MMAP_THRESHOLD_: '18446744073709551605' }, GLIBC_239)).toBe('blocks of 18446744073709551605 bytes and more mapped on their own (MALLOC_MMAP_THRESHOLD_)');
    expect(mallocSummary({ MALLOC_MMAP_THRESHOLD_: '0x1fffffffffffffff' }, GLIBC_239)).toBe('blocks of 2305843009213693951 bytes and more mapped on their own (MALLOC_MMAP_THRESHOLD_)');
  });

  it('under musl (or another C library) nothing reads it: undefined', () => {
    expect(mallocMmapThreshold({ ...GATEWAY_NODE_ENV }, { name: 'musl' })).toBeUndefined();
    expect(mallocMmapThreshold({ ...GATEWAY_NODE_ENV }, { name: 'other' })).toBeUndefined();
  });

  // What the dynamic loader itself reads, for the forms above (`ld.so --list-tunables` prints the value it took).
  const ld = ['/lib64/ld-linux-x86-64.so.2', '/lib/ld-linux-aarch64.so.1'].find((p) => existsSync(p));
  it.runIf(ld !== undefined && cLibrary().name === 'glibc')('agrees with this machine\'s glibc (ld.so --list-tunables)', () => {
    const libc = cLibrary();
    for (const v of ['131072', '0x20000', '0400000', ' 65536', '+65536', '', '128k', 'abc', '65536 ', '-1', '0x', '08']) {
      const listed = spawnSync(ld!, ['--list-tunables'], { env: { MALLOC_MMAP_THRESHOLD_: v }, encoding: 'utf8' }).stdout;
      const taken = /glibc\.malloc\.mmap_threshold: 0x([0-9a-f]+)/.exec(listed)?.[1];
      const ours = mallocMmapThreshold({ MALLOC_MMAP_THRESHOLD_: v }, libc);
      // A value glibc ignores leaves the tunable at 0 in the listing (malloc keeps its own moving threshold).
      expect(ours ?? 0, `"${v}"`).toBe(Number(BigInt(`0x${taken}`)));
    }
    // GLIBC_TUNABLES beside the variable (131072 = 0x20000), well formed or not, and numbers at glibc's overflow check.
    for (const t of [
      'glibc.malloc.mmap_threshold=65536',
      'glibc.malloc.mmap_threshold=65536:',
      'glibc.malloc.mmap_threshold=65536:glibc.malloc.check',
      'glibc.malloc.check=1=2:glibc.malloc.mmap_threshold=65536',
      'glibc.malloc.mmap_threshold=65536=7',
      'glibc.malloc.mmap_threshold=1:glibc.malloc.mmap_threshold=abc',
      '::glibc.malloc.mmap_threshold=9::',
      'foo:glibc.malloc.mmap_threshold=5',
      'glibc.malloc.mmap_threshold',
      'glibc.malloc.mmap_threshold=',
      'glibc.malloc.mmap_threshold=18446744073709551605',
      'glibc.malloc.mmap_threshold=18446744073709551606',
      'glibc.malloc.mmap_threshold=0xfffffffffffffff0',
    ]) {
      const env = { MALLOC_MMAP_THRESHOLD_: '131072', GLIBC_TUNABLES: t };
      const listed = spawnSync(ld!, ['--list-tunables'], { env, encoding: 'utf8' }).stdout;
      const taken = /glibc\.malloc\.mmap_threshold: 0x([0-9a-f]+)/.exec(listed)?.[1];
      expect(mallocSummary(env, libc), `"${t}"`).toContain(`blocks of ${BigInt(`0x${taken}`).toString()} bytes`);
    }
  });
});

describe('mallocSummary (the startup log\'s malloc: line)', () => {
  it('says the threshold and its source under glibc, and that the setting does nothing under musl or another C library', () => {
    expect(mallocSummary({ MALLOC_MMAP_THRESHOLD_: '0x20000' }, GLIBC_236)).toBe('blocks of 131072 bytes and more mapped on their own (MALLOC_MMAP_THRESHOLD_)');
    expect(mallocSummary({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536' }, GLIBC_236)).toBe('blocks of 65536 bytes and more mapped on their own (GLIBC_TUNABLES)');
    expect(mallocSummary({}, GLIBC_236)).toMatch(/^glibc's moving threshold \(start node with MALLOC_MMAP_THRESHOLD_=131072/);
    expect(mallocSummary({ MALLOC_MMAP_THRESHOLD_: '131072' }, { name: 'musl' })).toBe("musl's allocator (MALLOC_MMAP_THRESHOLD_ is glibc's setting: ignored here, though set)");
    expect(mallocSummary({}, { name: 'musl' })).toBe("musl's allocator (MALLOC_MMAP_THRESHOLD_ is glibc's setting: ignored here)");
    expect(mallocSummary({}, { name: 'other' })).toBe("the C library's own allocator (MALLOC_MMAP_THRESHOLD_ is glibc's setting: ignored here)");
  });
});

describe('cLibrary', () => {
  it('glibc with its version when node reports one; on Linux without one, musl', () => {
    expect(cLibrary({ glibcVersionRuntime: '2.36' }, 'linux')).toEqual({ name: 'glibc', version: '2.36' });
    expect(cLibrary({}, 'linux')).toEqual({ name: 'musl' });
    expect(cLibrary({}, 'darwin')).toEqual({ name: 'other' });
    if (process.platform === 'linux') expect(['glibc', 'musl']).toContain(cLibrary().name);
  });
});
