import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { GATEWAY_MALLOC_MMAP_THRESHOLD, GATEWAY_NODE_ENV, GATEWAY_NODE_FLAGS, GATEWAY_SEMI_SPACE_MB, GATEWAY_V8_POOL_SIZE, nodeMemoryBytes, semiSpaceSizeMb, v8DefaultSemiSpaceMb, youngGenerationWarning } from './young-generation.js';

describe('semiSpaceSizeMb', () => {
  it('reads --max-semi-space-size from the command line in its spellings, else undefined', () => {
    expect(semiSpaceSizeMb([], '')).toBeUndefined();
    expect(semiSpaceSizeMb(['--conditions=x', '--import', 'tsx'], '--max-old-space-size=512')).toBeUndefined();
    expect(semiSpaceSizeMb(['--max-semi-space-size=8'], '')).toBe(8);
    expect(semiSpaceSizeMb(['--max_semi_space_size=4'], '')).toBe(4);
    expect(semiSpaceSizeMb(['--max-semi-space-size', '16'], '')).toBe(16);
  });

  it('takes NODE_OPTIONS, and the command line over it (node applies the command line last)', () => {
    expect(semiSpaceSizeMb([], '--max-semi-space-size=4 --trace-gc')).toBe(4);
    expect(semiSpaceSizeMb(['--max-semi-space-size=8'], '--max-semi-space-size=4')).toBe(8);
  });

  it('ignores a value that is not a positive number', () => {
    expect(semiSpaceSizeMb(['--max-semi-space-size=big'], '')).toBeUndefined();
    expect(semiSpaceSizeMb(['--max-semi-space-size'], '')).toBeUndefined();
  });
});

describe('GATEWAY_NODE_FLAGS', () => {
  it('are the semi-space size and V8 thread pool the server is meant to run with', () => {
    expect(GATEWAY_NODE_FLAGS).toEqual([`--max-semi-space-size=${GATEWAY_SEMI_SPACE_MB}`, `--v8-pool-size=${GATEWAY_V8_POOL_SIZE}`]);
  });

  // Churns short-lived objects until the new space has grown as far as it may, then prints its size (MB).
  const script = `
    const v8 = require('node:v8');
    if (process.argv[1] === 'late') v8.setFlagsFromString('--max-semi-space-size=${GATEWAY_SEMI_SPACE_MB}');
    let keep = [];
    for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20000) keep = []; }
    const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    // Not console.log: it colors a number when FORCE_COLOR is set (as Nx sets it for its tasks).
    process.stdout.write(String(ns.space_size / 2 ** 20));`;
  const newSpace = (flags: readonly string[], arg: string) =>
    Number(spawnSync(process.execPath, [...flags, '-e', script, arg], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' }, timeout: 30_000 }).stdout.trim());

  it('sizes the young generation when given to node at start, which setFlagsFromString at run time does not', () => {
    const atStart = newSpace(GATEWAY_NODE_FLAGS, 'start');
    // V8's default shrinks with the heap limit node takes from the host's memory (8 MB semi-spaces at about 1 GB):
    // a 4 GB heap pins the 16 MB default whatever this machine has.
    const late = newSpace(['--max-heap-size=4096'], 'late');
    // Two semi-spaces: at most 2 x the flag when given at start; V8's larger default when set late.
    expect(atStart).toBeGreaterThan(0);
    expect(atStart).toBeLessThanOrEqual(2 * GATEWAY_SEMI_SPACE_MB);
    expect(late).toBeGreaterThan(2 * GATEWAY_SEMI_SPACE_MB);
  });

  it("halves nothing on a small heap: V8's own default there is already the flag or less (why the server warns)", () => {
    const smallDefault = newSpace(['--max-heap-size=512'], 'default');
    expect(smallDefault).toBeGreaterThan(0);
    expect(smallDefault).toBeLessThan(2 * GATEWAY_SEMI_SPACE_MB);
    expect(newSpace(['--max-heap-size=1024'], 'default')).toBeLessThanOrEqual(2 * GATEWAY_SEMI_SPACE_MB);
    expect(newSpace(['--max-heap-size=512', ...GATEWAY_NODE_FLAGS], 'start')).toBeGreaterThan(smallDefault);
  });

  it('keeps V8\'s default young generation under --max-old-space-size alone: it is sized from the memory, not that limit', () => {
    // On a host with more than about 4 GB: the 16 MB default, although the heap limit is about 560 MB.
    if (nodeMemoryBytes() <= 5 * 2 ** 30) return;
    expect(newSpace(['--max-old-space-size=512'], 'default')).toBeGreaterThan(2 * GATEWAY_SEMI_SPACE_MB);
  });
});

describe('v8DefaultSemiSpaceMb and youngGenerationWarning', () => {
  const GB = 2 ** 30;
  const none = { execArgv: [] as string[], nodeOptions: '' };
  const own = (host: Partial<Parameters<typeof v8DefaultSemiSpaceMb>[0]>) => v8DefaultSemiSpaceMb({ heapLimitBytes: 4144 * 2 ** 20, memoryBytes: 24 * GB, ...none, ...host }).mb;

  it("follows node 20's sizing from memory (measured in memory-limited cgroups: 1 GB -> 4, 2 GB -> 8, 3 GB and up -> 16)", () => {
    expect(own({ memoryBytes: 1 * GB })).toBe(4);
    expect(own({ memoryBytes: 2 * GB })).toBe(8);
    expect(own({ memoryBytes: 3 * GB })).toBe(16);
    expect(own({ memoryBytes: 4 * GB })).toBe(16);
    expect(own({ memoryBytes: 24 * GB })).toBe(16);
    // --max-old-space-size alone does not change it.
    expect(own({ memoryBytes: 24 * GB, execArgv: ['--max-old-space-size=512'] })).toBe(16);
  });

  it('follows --max-heap-size, and the difference when --max-old-space-size is given too', () => {
    expect(own({ execArgv: ['--max-heap-size=512'], heapLimitBytes: 512 * 2 ** 20 })).toBe(4);
    expect(own({ execArgv: ['--max-heap-size=1024'], heapLimitBytes: 1024 * 2 ** 20 })).toBe(8);
    expect(own({ execArgv: ['--max-heap-size=2048'], heapLimitBytes: 2048 * 2 ** 20 })).toBe(16);
    // Measured: --max-old-space-size=400 --max-heap-size=512 gives a 592 MB limit (400 + 3 x 64).
    expect(own({ nodeOptions: '--max-old-space-size=400', execArgv: ['--max-heap-size=512'] })).toBe(37);
  });

  it('matches the semi-space V8 grows to on this machine, for heap flags and for its memory', () => {
    // Churns short-lived objects until the new space has grown as far as it may; prints it and the heap limit (MB).
    const script = `
      const v8 = require('node:v8');
      let keep = [];
      for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20000) keep = []; }
      const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
      process.stdout.write(ns.space_size / 2 ** 20 + ' ' + v8.getHeapStatistics().heap_size_limit / 2 ** 20);`;
    for (const flags of [['--max-heap-size=512'], ['--max-heap-size=2048'], ['--max-old-space-size=512'], []]) {
      const out = spawnSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' }, timeout: 30_000 }).stdout.trim();
      const [newSpaceMb, limitMb] = out.split(' ').map(Number) as [number, number];
      // Two semi-spaces make the new space.
      expect(newSpaceMb / 2, `${flags.join(' ')}: ${out}`).toBe(own({ execArgv: flags, heapLimitBytes: limitMb * 2 ** 20, memoryBytes: nodeMemoryBytes() }));
    }
  });

  it('warns only when V8 would choose the flag or less', () => {
    const base = { semiSpaceMb: 8, heapLimitBytes: 4144 * 2 ** 20, ...none };
    expect(youngGenerationWarning({ ...base, memoryBytes: 2 * GB })).toBe(
      "2048 MB of memory: V8's own young generation here would be 8 MB semi-spaces, so --max-semi-space-size=8 enlarges it or saves nothing; start node without that flag (e.g. node --v8-pool-size=2 dist/main.js)",
    );
    expect(youngGenerationWarning({ ...base, memoryBytes: 4 * GB })).toBeUndefined();
    expect(youngGenerationWarning({ ...base, memoryBytes: 24 * GB, execArgv: ['--max-old-space-size=512'], heapLimitBytes: 560 * 2 ** 20 })).toBeUndefined();
    expect(youngGenerationWarning({ ...base, memoryBytes: 24 * GB, execArgv: ['--max-heap-size=512'], heapLimitBytes: 512 * 2 ** 20 })).toMatch(/^heap limit 512 MB: .* would be 4 MB semi-spaces/);
    expect(youngGenerationWarning({ ...base, semiSpaceMb: 4, memoryBytes: 24 * GB, execArgv: ['--max-heap-size=1024'], heapLimitBytes: 1024 * 2 ** 20 })).toBeUndefined();
    expect(youngGenerationWarning({ ...base, memoryBytes: 24 * GB, execArgv: ['--max-heap-size=512', '--max-old-space-size=400'] })).toBeUndefined();
    expect(youngGenerationWarning({ ...base, semiSpaceMb: undefined, memoryBytes: 1 * GB })).toBeUndefined();
  });
});
