import type { StreamPart, ToolCall } from '@llmrr/core';

// Seeded random tool-call streams for the stream encoders' fuzz tests: OpenAI-wire orders (calls' pieces
// interleaved at random, split at random points, optionally text pieces between them, the whole calls at the
// finish in index order). Some calls come only whole (no pieces), some only as pieces (no whole part: the
// result has them), some only in the router result (no part at all).

/** A seeded linear congruential generator in [0, 1). */
export function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const samples = ['{"city":"Oslo"}', '{"a":[1,2,{"b":"}"}],"c":"]"}', '{}', ' {"x": "y z"} ', '{"n":-1.5e3,"t":true,"u":null}', '{"s":"\\"}\\\\"}', '[1,2]'];

export interface ToolStreamCase {
  parts: StreamPart[];
  /** The router result's calls, as core's stream accumulator builds them. */
  finals: ToolCall[];
  args: string[];
  /** `t<k>` for the k-th text piece (its text is `<k>`), `c<i>` for call i, in the order they first arrived. */
  arrival: string[];
}

export function makeToolStreamCase(r: () => number, withText: boolean): ToolStreamCase {
  const n = 1 + Math.floor(r() * 3);
  const args = Array.from({ length: n }, () => samples[Math.floor(r() * samples.length)]!);
  // How each call comes: pieces and whole part (most), whole part only, pieces only, result only.
  const mode = args.map(() => {
    const x = r();
    return x < 0.6 ? 'both' : x < 0.75 ? 'whole' : x < 0.9 ? 'pieces' : 'result';
  });
  // Split each call's arguments into pieces, first piece carries id/name (maybe empty args).
  const queues: StreamPart[][] = args.map((a, i) => {
    if (mode[i] === 'whole' || mode[i] === 'result') return [];
    const cuts: string[] = [];
    let rest = a;
    if (r() < 0.5) cuts.push('');
    while (rest.length > 0) {
      const len = 1 + Math.floor(r() * 4);
      cuts.push(rest.slice(0, len));
      rest = rest.slice(len);
    }
    return cuts.map((c, j) => ({ type: 'tool-call-delta', index: i, ...(j === 0 ? { id: `c${i}`, name: `f${i}` } : {}), argumentsDelta: c }) as StreamPart);
  });
  const parts: StreamPart[] = [];
  const arrival: string[] = [];
  let texts = 0;
  const addText = () => {
    parts.push({ type: 'text-delta', delta: `<${texts}>` });
    arrival.push(`t${texts++}`);
  };
  if (r() < 0.3) addText();
  // Calls start in any order, their pieces interleaved at random; text pieces between them.
  const started = new Set<number>();
  while (queues.some((q) => q.length > 0)) {
    if (withText && r() < 0.25) addText();
    const live = queues.map((q, i) => i).filter((i) => queues[i]!.length > 0 && (started.has(i) || r() < 0.7));
    const pool = live.length > 0 ? live : queues.map((q, j) => j).filter((j) => queues[j]!.length > 0);
    const i = pool[Math.floor(r() * pool.length)]!;
    if (!started.has(i)) arrival.push(`c${i}`);
    started.add(i);
    parts.push(queues[i]!.shift()!);
  }
  if (withText && r() < 0.3) addText();
  const finals: ToolCall[] = [];
  args.forEach((a, i) => {
    if (mode[i] !== 'both' && mode[i] !== 'whole') return;
    if (!started.has(i)) arrival.push(`c${i}`);
    parts.push({ type: 'tool-call', index: i, toolCall: { id: `c${i}`, name: `f${i}`, arguments: a } });
    finals.push({ id: `c${i}`, name: `f${i}`, arguments: a });
  });
  // Calls without a whole part: the accumulator adds them after the whole ones (by first piece).
  args.forEach((a, i) => {
    if (mode[i] === 'pieces') finals.push({ id: `c${i}`, name: `f${i}`, arguments: a });
  });
  args.forEach((a, i) => {
    if (mode[i] === 'result') {
      finals.push({ id: `c${i}`, name: `f${i}`, arguments: a });
      arrival.push(`c${i}`);
    }
  });
  return { parts, finals, args, arrival };
}
