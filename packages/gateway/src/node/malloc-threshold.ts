import { GATEWAY_NODE_ENV } from './young-generation.js';

/** The C library node runs on, as far as it decides what the malloc threshold settings do. */
export type CLibrary = { name: 'glibc'; version: string } | { name: 'musl' } | { name: 'other' };

let ownLibrary: CLibrary | undefined;

/**
 * glibc (with its version) when node reports one (`process.report`'s `glibcVersionRuntime`); on Linux without one,
 * musl (Alpine's), whose malloc reads no environment; elsewhere another C library. Read once (a report takes a few
 * ms): call it at startup, not per request.
 */
export function cLibrary(header?: { glibcVersionRuntime?: string }, platform: string = process.platform): CLibrary {
  if (header === undefined) {
    ownLibrary ??= cLibrary((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header ?? {}, platform);
    return ownLibrary;
  }
  if (typeof header.glibcVersionRuntime === 'string') return { name: 'glibc', version: header.glibcVersionRuntime };
  return platform === 'linux' ? { name: 'musl' } : { name: 'other' };
}

const UINT64_MAX = 2n ** 64n - 1n;

/**
 * A number as glibc's loader reads a tunable (`_dl_strtoul`, elf/dl-misc.c): blanks and tabs first, a sign, then
 * `0x` hex, `0` octal or decimal; no digit reads 0, overflow UINT64_MAX, a minus wraps. `whole`: nothing follows.
 */
function glibcNumber(text: string): { value: bigint; whole: boolean } {
  let i = 0;
  while (text[i] === ' ' || text[i] === '\t') i++;
  const negative = text[i] === '-';
  if (text[i] === '-' || text[i] === '+') i++;
  if (!(text[i]! >= '0' && text[i]! <= '9')) return { value: 0n, whole: i === text.length };
  let base = 10n;
  let digits = /[0-9]/;
  if (text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) {
    base = 16n;
    digits = /[0-9a-fA-F]/;
    i += 2;
  } else if (text[i] === '0') {
    base = 8n;
    digits = /[0-7]/;
  }
  let value = 0n;
  for (; i < text.length && digits.test(text[i]!); i++) {
    value = value * base + BigInt(parseInt(text[i]!, 16));
    if (value > UINT64_MAX) return { value: UINT64_MAX, whole: false };
  }
  if (negative && value !== 0n) value = 2n ** 64n - value;
  return { value, whole: i === text.length };
}

/**
 * A tunable's value as this glibc takes it, or undefined when it ignores it: before 2.39 the number in front of
 * anything else (`128k` is 128, `abc` 0); from 2.39 (the tunables parser rewrite) a value with anything after its
 * number is ignored, with a warning on stderr.
 */
function tunableValue(text: string, version: string): bigint | undefined {
  const { value, whole } = glibcNumber(text);
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return whole || major < 2 || (major === 2 && minor < 39) ? value : undefined;
}

/**
 * glibc's malloc threshold this process was started with and where it came from: `GLIBC_TUNABLES`'
 * `glibc.malloc.mmap_threshold` (which wins) or `MALLOC_MMAP_THRESHOLD_`, read as glibc reads them; undefined when
 * neither sets one (glibc's own, which moves) or the C library is not glibc (musl ignores both). Set but empty,
 * glibc reads 0: every block mapped on its own, several times slower (the scripts' `${...:-}` default replaces an
 * empty value).
 */
export function mallocMmapThresholdSetting(env: NodeJS.ProcessEnv = process.env, libc: CLibrary = cLibrary()): { bytes: number; from: 'GLIBC_TUNABLES' | 'MALLOC_MMAP_THRESHOLD_' } | undefined {
  if (libc.name !== 'glibc') return undefined;
  // `name=value` pairs separated by `:`; the last one for a tunable counts.
  const tunable = (env.GLIBC_TUNABLES ?? '').split(':').filter((p) => p.startsWith('glibc.malloc.mmap_threshold=')).at(-1);
  const fromTunables = tunable === undefined ? undefined : tunableValue(tunable.slice(tunable.indexOf('=') + 1), libc.version);
  if (fromTunables !== undefined) return { bytes: Number(fromTunables), from: 'GLIBC_TUNABLES' };
  const raw = env.MALLOC_MMAP_THRESHOLD_;
  const value = raw === undefined ? undefined : tunableValue(raw, libc.version);
  return value === undefined ? undefined : { bytes: Number(value), from: 'MALLOC_MMAP_THRESHOLD_' };
}

/** The malloc threshold (bytes) this process was started with (`mallocMmapThresholdSetting`), or undefined. */
export function mallocMmapThreshold(env: NodeJS.ProcessEnv = process.env, libc: CLibrary = cLibrary()): number | undefined {
  return mallocMmapThresholdSetting(env, libc)?.bytes;
}

/**
 * The startup log's `malloc:` line (after the label): the threshold glibc runs with and where it came from; glibc's
 * moving one, with the setting that fixes it; or, under musl or another C library, that the setting does nothing.
 */
export function mallocSummary(env: NodeJS.ProcessEnv = process.env, libc: CLibrary = cLibrary()): string {
  if (libc.name === 'musl') return `musl's allocator (MALLOC_MMAP_THRESHOLD_ is glibc's setting: ignored here${env.MALLOC_MMAP_THRESHOLD_ !== undefined ? ', though set' : ''})`;
  if (libc.name === 'other') return `the C library's own allocator (MALLOC_MMAP_THRESHOLD_ is glibc's setting: ignored here)`;
  const setting = mallocMmapThresholdSetting(env, libc);
  if (setting) return `blocks of ${setting.bytes} bytes and more mapped on their own (${setting.from})`;
  return `glibc's moving threshold (start node with MALLOC_MMAP_THRESHOLD_=${GATEWAY_NODE_ENV.MALLOC_MMAP_THRESHOLD_} in the environment for less memory after bursts, as pnpm start does)`;
}
