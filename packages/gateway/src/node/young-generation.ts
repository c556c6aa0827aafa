import { totalmem } from 'node:os';

/**
 * The young generation (V8's new space: two semi-spaces) the gateway server runs with, MB per semi-space.
 * V8's default on 64-bit is 16 when node sees more than about 2 GB of memory (the host's, or the container's
 * limit); there, at 8, the gateway's resident set under load is about 15 MB lower (c=64: 131-136 -> 117-123 MB
 * median) for about 3-4% more CPU per request (more scavenges; docs/benchmarks.md, "Memory"). With 2 GB or less
 * V8's default is already 8 or less (4 at 1 GB), so there the flag saves nothing or enlarges the young
 * generation (the server warns at startup, `youngGenerationWarning`; start node without that flag there).
 */
export const GATEWAY_SEMI_SPACE_MB = 8;

/**
 * V8's background threads (concurrent and parallel GC, compilation) the gateway server runs with; node's
 * default is 4. Each such thread that allocates gets its own malloc arena, and the pages it touched stay
 * resident: at 2 the gateway's resident set is 4-8 MB lower under the benchmark's c=64 load (115-117 -> 109-111
 * MB median) and 5-11 MB lower in the load after a 512-stream burst (122-126 -> 115-117), with no CPU difference above
 * the noise (docs/benchmarks.md, "Memory"). Its heap is small (a live heap of 20-30 MB), so two helpers are
 * plenty for its collections on any host.
 */
export const GATEWAY_V8_POOL_SIZE = 2;

/**
 * The node flags the gateway server starts with (its `start` and `serve` scripts pass them; so do the
 * benchmarks that measure it): the young generation's size and V8's background threads. V8 sizes both once,
 * when the process starts: `v8.setFlagsFromString('--max-semi-space-size=...')` later has no effect, so these
 * cannot be runtime settings like `tuneHeapForGateway`. To change them, start node with other values (command
 * line or `NODE_OPTIONS`).
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = [`--max-semi-space-size=${GATEWAY_SEMI_SPACE_MB}`, `--v8-pool-size=${GATEWAY_V8_POOL_SIZE}`];

/**
 * glibc's malloc threshold (bytes) the gateway server starts with: blocks of this size and more are mapped on their
 * own and given back to the system when freed. glibc's default threshold starts at 128 KiB but rises (up to 32 MiB)
 * each time a mapped block is freed, so after a burst of streams the large blocks of node's sockets and buffers come
 * from the arenas and fragment them: the resident set stays 10-20 MB higher (127-132 -> 112-116 MB right after 512
 * concurrent streams; docs/benchmarks.md, "Memory"). A fixed threshold keeps the mapping. It is read by glibc when the
 * process starts, from the environment only (`MALLOC_MMAP_THRESHOLD_`), so the server's scripts set it before node
 * runs (a value already in the environment wins); other C libraries (musl) ignore it.
 */
export const GATEWAY_MALLOC_MMAP_THRESHOLD = 131_072;

/** The environment the gateway server's scripts start node with (and the benchmarks that measure it). */
export const GATEWAY_NODE_ENV: Readonly<Record<string, string>> = Object.freeze({ MALLOC_MMAP_THRESHOLD_: String(GATEWAY_MALLOC_MMAP_THRESHOLD) });

/**
 * The `--max-semi-space-size` (MB) this process was started with, from `NODE_OPTIONS` and then the command
 * line (the later one wins, as in node); undefined when neither sets it (V8's default).
 */
export function semiSpaceSizeMb(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): number | undefined {
  return nodeFlagMb('max-semi-space-size', execArgv, nodeOptions);
}

/** What decides V8's own young generation size in this process (the warning's inputs). */
export interface YoungGenerationHost {
  /** The `--max-semi-space-size` the process runs with (`semiSpaceSizeMb()`). */
  semiSpaceMb: number | undefined;
  /** `v8.getHeapStatistics().heap_size_limit`, bytes. */
  heapLimitBytes: number;
  /** The memory node sizes V8's heap from: the container's limit if lower than the host's, bytes. */
  memoryBytes: number;
  execArgv?: readonly string[];
  nodeOptions?: string;
}

/**
 * A warning when `--max-semi-space-size` enlarges the young generation or saves nothing, else undefined:
 * when V8's own semi-space size for this process would be the flag's or smaller (`v8DefaultSemiSpaceMb`).
 */
export function youngGenerationWarning(host: YoungGenerationHost): string | undefined {
  const { semiSpaceMb } = host;
  if (!semiSpaceMb) return undefined;
  const own = v8DefaultSemiSpaceMb(host);
  if (own.mb > semiSpaceMb) return undefined;
  return `${own.from}: V8's own young generation here would be ${own.mb} MB semi-spaces, so --max-semi-space-size=${semiSpaceMb} enlarges it or saves nothing; start node without that flag (e.g. node --v8-pool-size=${GATEWAY_V8_POOL_SIZE} dist/main.js)`;
}

/**
 * The semi-space size (MB) V8 would choose without `--max-semi-space-size`, and what it follows. As node 20
 * (V8 11.3, 64-bit, no pointer compression) sizes its heap, checked in memory-limited cgroups of 1-16 GB: with
 * both `--max-heap-size` and `--max-old-space-size` the young generation is the difference (a third of it per
 * semi-space); with `--max-heap-size` only it is sized from that heap; otherwise from the old generation node
 * takes from memory (half of it, at most 2 GB, or 4 GB from about 15 GB of memory), even when
 * `--max-old-space-size` sets the old generation itself. A semi-space is the old generation / 128, between 1
 * and 16 MB, rounded up to a power of two: 4 MB at 1 GB of memory, 8 at 2 GB, 16 from 3 GB.
 */
export function v8DefaultSemiSpaceMb(host: Omit<YoungGenerationHost, 'semiSpaceMb'>): { mb: number; from: string } {
  const execArgv = host.execArgv ?? process.execArgv;
  const nodeOptions = host.nodeOptions ?? process.env.NODE_OPTIONS ?? '';
  const heapFlag = nodeFlagMb('max-heap-size', execArgv, nodeOptions);
  const oldFlag = nodeFlagMb('max-old-space-size', execArgv, nodeOptions);
  if (heapFlag !== undefined && oldFlag !== undefined) {
    return { mb: Math.max(1, Math.floor((heapFlag - oldFlag) / 3)), from: `--max-heap-size=${heapFlag} with --max-old-space-size=${oldFlag}` };
  }
  if (heapFlag !== undefined) {
    const heapLimitMb = Math.round(host.heapLimitBytes / MB);
    // old + 3 semi-spaces = the heap, with a semi-space of old / 128.
    return { mb: semiSpaceForOldGeneration((heapLimitMb * 128) / 131), from: `heap limit ${heapLimitMb} MB` };
  }
  const memoryMb = Math.round(host.memoryBytes / MB);
  const oldGeneration = Math.min(memoryMb / 2, memoryMb >= 15 * 1024 ? 4096 : 2048);
  return { mb: semiSpaceForOldGeneration(oldGeneration), from: `${memoryMb} MB of memory` };
}

function semiSpaceForOldGeneration(oldMb: number): number {
  const mb = Math.min(16, Math.max(1, oldMb / 128));
  return 2 ** Math.ceil(Math.log2(mb) - 1e-9);
}

/** The memory node sizes V8's heap from: the container's limit when there is one below the host's memory. */
export function nodeMemoryBytes(): number {
  const total = totalmem();
  const constrained = process.constrainedMemory?.() ?? 0;
  return constrained > 0 ? Math.min(total, constrained) : total;
}

const MB = 2 ** 20;

/** A node flag's numeric value (MB) from `NODE_OPTIONS`, then the command line (the later one wins, as in node). */
function nodeFlagMb(name: string, execArgv: readonly string[], nodeOptions: string): number | undefined {
  const flag = new RegExp(`^--${name.replaceAll('-', '[-_]')}(?:=(.*))?$`);
  let found: number | undefined;
  for (const args of [nodeOptions.split(/\s+/).filter(Boolean), execArgv]) {
    for (let i = 0; i < args.length; i++) {
      const m = flag.exec(args[i]!);
      if (!m) continue;
      const value = Number(m[1] ?? args[++i]);
      if (Number.isFinite(value) && value > 0) found = value;
    }
  }
  return found;
}
