import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { GATEWAY_NODE_FLAGS, GATEWAY_SEMI_SPACE_MB, GATEWAY_V8_POOL_SIZE, nodeMemoryBytes, semiSpaceSizeMb, youngGenerationWarning } from './young-generation.js';

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

describe('youngGenerationWarning', () => {
  const GB = 2 ** 30;
  const base = { semiSpaceMb: 8, execArgv: [] as string[], nodeOptions: '' };

  it('warns on a small heap limit (V8 sized the young generation from it), not on a large one or without the flag', () => {
    expect(youngGenerationWarning({ ...base, heapLimitBytes: 0.5 * GB, memoryBytes: 2 * GB })).toBe(
      "heap limit 512 MB: V8's own young generation here is 8 MB semi-spaces or less, so --max-semi-space-size=8 enlarges it or saves nothing; start node without that flag",
    );
    expect(youngGenerationWarning({ ...base, execArgv: ['--max-heap-size=512'], heapLimitBytes: 0.5 * GB, memoryBytes: 24 * GB })).toMatch(/^heap limit 512 MB:/);
    expect(youngGenerationWarning({ ...base, heapLimitBytes: 4.05 * GB, memoryBytes: 24 * GB })).toBeUndefined();
    expect(youngGenerationWarning({ ...base, semiSpaceMb: undefined, heapLimitBytes: 0.5 * GB, memoryBytes: 2 * GB })).toBeUndefined();
  });

  it('with only --max-old-space-size, judges by the memory node sizes the young generation from', () => {
    const small = { ...base, heapLimitBytes: 0.55 * GB };
    expect(youngGenerationWarning({ ...small, execArgv: ['--max-old-space-size=512'], memoryBytes: 24 * GB })).toBeUndefined();
    expect(youngGenerationWarning({ ...small, nodeOptions: '--max_old_space_size=512', memoryBytes: 24 * GB })).toBeUndefined();
    expect(youngGenerationWarning({ ...small, execArgv: ['--max-old-space-size=512'], memoryBytes: 4 * GB })).toMatch(/^4096 MB of memory: /);
    // --max-heap-size sizes the young generation whatever the memory.
    expect(youngGenerationWarning({ ...small, execArgv: ['--max-old-space-size=400', '--max-heap-size=512'], memoryBytes: 24 * GB })).toMatch(/^heap limit 563 MB:/);
  });
});
