/**
 * The table behind CACHED_QUESTION_FACTOR (core's model guard shows the cached question up to that many times the live
 * prompt's UTF-8 bytes, `shownCachedQuestion`): on the GPTCache paraphrase pairs, each pair taken as a semantic match
 * both ways (one side cached, the other the live prompt), for each factor k the share of matches whose cached question
 * is cut, and how much of a cut question is hidden (median, p90, max of the hidden bytes' share). The last line checks
 * the shipped factor with `shownCachedQuestion` itself.
 *
 *   cd tools/bench && npx tsx --conditions=@llmrr/source guard-cut-rate.ts [--shared ../../../shared]
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CACHED_QUESTION_FACTOR, shownCachedQuestion } from '@llmrr/core';

const arg = process.argv.indexOf('--shared');
const shared = resolve(arg > 0 ? process.argv[arg + 1]! : (process.env['LLMRR_SHARED_DIR'] ?? '../../../shared'));
const pairs = JSON.parse(await readFile(join(shared, 'data/cache/gptcache_paraphrase_pairs.json'), 'utf8')) as Array<{ origin: string; similar: string }>;
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const matches = pairs.flatMap((p) => [
  { cached: p.origin, live: p.similar, way: 'origin cached' },
  { cached: p.similar, live: p.origin, way: 'similar cached' },
]);
const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(2)}%`;
const at = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0);

console.log(`${pairs.length} pairs, ${matches.length} matches`);
console.log('k     matches cut          hidden of a cut question: median   p90   max   (origin cached / similar cached)');
for (const k of [1, 1.25, 1.5, 2, 3]) {
  const hidden: number[] = [];
  const byWay = new Map<string, number>();
  for (const m of matches) {
    const room = Math.floor(k * bytes(m.live));
    const b = bytes(m.cached);
    if (b <= room) continue;
    hidden.push((b - Math.max(0, room - 3)) / b); // `...` takes 3 bytes of the room
    byWay.set(m.way, (byWay.get(m.way) ?? 0) + 1);
  }
  hidden.sort((a, b) => a - b);
  const row = [
    String(k).padEnd(5),
    `${hidden.length} (${pct(hidden.length, matches.length)})`.padEnd(20),
    `${pct(at(hidden, 0.5), 1)}   ${pct(at(hidden, 0.9), 1)}   ${pct(hidden.at(-1) ?? 0, 1)}`.padEnd(30),
    `(${pct(byWay.get('origin cached') ?? 0, pairs.length)} / ${pct(byWay.get('similar cached') ?? 0, pairs.length)})`,
  ];
  console.log(row.join(' '));
}
const cut = matches.filter((m) => shownCachedQuestion({ question: m.live, cachedQuestion: m.cached, promptBytes: bytes(m.live) }) !== m.cached).length;
console.log(`shownCachedQuestion (CACHED_QUESTION_FACTOR ${CACHED_QUESTION_FACTOR}): ${cut} of ${matches.length} cut (${pct(cut, matches.length)})`);
