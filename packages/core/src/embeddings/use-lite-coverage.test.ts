import { describe, expect, it, vi } from 'vitest';
import { EMOJI, UseLiteTokenizer, UseLiteTokenizerLoader } from './use-lite-coverage.js';

const tokenizer = new UseLiteTokenizer([['<unk>', 0], ['<s>', 0], ['</s>', 0], ['x1', 0], ['x2', 0], ['x3', 0], ['\u2581hi', -1]]);

// A vocabulary that could not be read made coverage "not known" for the life of the process, silently: the semantic
// cache then skipped no Chinese or emoji-only question (one vector for all) and nobody was told.
describe('UseLiteTokenizerLoader', () => {
  it('an unreadable vocabulary is warned about once, coverage is not known meanwhile, and it is read again a minute later', async () => {
    let t = 0;
    let reads = 0;
    let fail = true;
    const warnings: string[] = [];
    const loader = new UseLiteTokenizerLoader(
      async () => {
        reads++;
        if (fail) throw new Error('/pkg/vocab.json: Unexpected end of JSON input');
        return tokenizer;
      },
      (m) => warnings.push(m),
      () => t,
    );
    await loader.ready();
    expect(loader.get()).toBeNull();
    await loader.ready();
    expect(loader.get()).toBeNull();
    expect(reads).toBe(1);
    expect(warnings).toEqual([expect.stringMatching(/^\[llmrr\] local-use embedder: cannot read the USE lite vocabulary \(\/pkg\/vocab\.json: Unexpected end of JSON input\).*skips none/)]);
    t += 60_000;
    await loader.ready();
    expect(loader.get()).toBeNull();
    expect(reads).toBe(2);
    expect(warnings).toHaveLength(1);
    fail = false;
    t += 60_000;
    // Two callers at once share one read.
    await Promise.all([loader.ready(), loader.ready()]);
    expect(loader.get()).toBe(tokenizer);
    expect(loader.get()).toBe(tokenizer);
    expect(reads).toBe(3);
  });

  // The vocabulary was read with readFileSync inside the first question's coverage call (40-90 ms on 2 busy cores, the
  // event loop held): `get` now never reads; it starts the asynchronous load and says "not known" until it is done.
  it('get() never reads: before the load is done it starts one (shared with ready()) and gives null', async () => {
    let reads = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const loader = new UseLiteTokenizerLoader(
      async () => {
        reads++;
        await held;
        return tokenizer;
      },
      () => {},
    );
    expect(loader.get()).toBeNull();
    expect(loader.get()).toBeNull();
    const ready = loader.ready();
    release();
    await ready;
    expect(reads).toBe(1);
    expect(loader.get()).toBe(tokenizer);
  });

  it('a package that is not installed is not warned about (embedding says what to install) nor looked for again', async () => {
    let reads = 0;
    const warnings: string[] = [];
    const loader = new UseLiteTokenizerLoader(
      async () => {
        reads++;
        return undefined;
      },
      (m) => warnings.push(m),
      () => 10 * 60_000,
    );
    await loader.ready();
    expect(loader.get()).toBeNull();
    await loader.ready();
    expect(loader.get()).toBeNull();
    expect({ reads, warnings }).toEqual({ reads: 1, warnings: [] });
  });

  it('a log that throws fails nothing', async () => {
    const loader = new UseLiteTokenizerLoader(
      () => Promise.reject(new Error('EACCES')),
      () => {
        throw new Error('log down');
      },
    );
    await expect(loader.ready()).resolves.toBeUndefined();
    expect(loader.get()).toBeNull();
  });

  it('build() gives the tokenizer the constructor does, its trie built in slices', async () => {
    const vocabulary: Array<[string, number]> = [['<unk>', 0], ['<s>', 0], ['</s>', 0], ['x1', 0], ['x2', 0], ['x3', 0], ['\u2581hi', -1], ['\u2581h', -2], ['i', -2], ['\u2581the', -1], ['re', -1]];
    const built = await UseLiteTokenizer.build(vocabulary, 2);
    for (const text of ['hi there', 'hi', 'the hi re', 'zz hi']) expect(built.coverage(text)).toEqual(new UseLiteTokenizer(vocabulary).coverage(text));
  });
});

describe('UseLiteTokenizer: accented letters the vocabulary lacks (folded)', () => {
  const t = new UseLiteTokenizer([['<unk>', 0], ['<s>', 0], ['</s>', 0], ['x1', 0], ['x2', 0], ['x3', 0], ['\u2581na', -1], ['ve', -1], ['i', -2], ['n', -2], ['a', -2], ['v', -2], ['e', -2], ['z', -2], ['\u2581is', -1], ['\u2581', -3]]);

  it('gives a run of accented letters inside a word, whose folded letters the vocabulary has, with its word folded; the run stays in `unknown`', () => {
    expect(t.coverage('is na\u00efve')).toEqual({ characters: 7, covered: 6, unknown: ['\u00ef'], folded: [{ run: 0, word: 'naive' }] });
    // Each word its own; a run that is not foldable keeps its place in `unknown` (indexes are into it).
    expect(t.coverage('\u0142 na\u00efve na\u00efve')).toMatchObject({ unknown: ['\u0142', '\u00ef', '\u00ef'], folded: [{ run: 1, word: 'naive' }, { run: 2, word: 'naive' }] });
  });

  it('folds no letter on its own, none without an accent to fold (U+0142), none whose folded letter it lacks (U+00FF: y)', () => {
    expect(t.coverage('is \u00ef')).toEqual({ characters: 3, covered: 2, unknown: ['\u00ef'] });
    expect(t.coverage('na\u0142ve')).toEqual({ characters: 5, covered: 4, unknown: ['\u0142'] });
    expect(t.coverage('na\u00ffve')).toEqual({ characters: 5, covered: 4, unknown: ['\u00ff'] });
  });
});

// An accented letter the vocabulary has only as a piece of its own (U+00FC here) folded its whole word once per such
// letter: a word of n of them was walked, copied and folded n times (n^2: 15 s for 8 000, 64 MB of copies).
describe('UseLiteTokenizer: words with accented letters the vocabulary has on their own (foldedWords)', () => {
  const t = new UseLiteTokenizer([['<unk>', 0], ['<s>', 0], ['</s>', 0], ['x1', 0], ['x2', 0], ['x3', 0], ['\u2581mu', -1], ['ll', -1], ['er', -1], ['\u00fc', -2], ['u', -2], ['m', -2], ['l', -2], ['e', -2], ['r', -2], ['\u2581is', -1], ['\u2581', -3], ['i', -2], ['n', -2], ['a', -2], ['v', -2]]);

  it('gives each such word once, folded, in text order; `folded` keeps a required run for each unknown run', () => {
    expect(t.coverage('is m\u00fcller')).toEqual({ characters: 8, covered: 6, unknown: [], foldedWords: ['muller'] });
    // Three such letters in one word: the word once; two words: each.
    expect(t.coverage('m\u00fc\u00fcl\u00fcer m\u00fcller')).toMatchObject({ unknown: [], foldedWords: ['muuluer', 'muller'] });
    // `run` is a number wherever `folded` has an entry (an index into `unknown`, as callers use it).
    const runs: number[] = (t.coverage('is na\u00efve m\u00fcller').folded ?? []).map((f) => f.run);
    expect(runs).toEqual([0]);
  });

  it('folds no word longer than 64 letters (compared as it is) and does linear work on a word of 8 000 such letters', () => {
    expect(t.coverage('\u00fc'.repeat(65)).foldedWords).toBeUndefined();
    expect(t.coverage('\u00fc'.repeat(64)).foldedWords).toEqual(['u'.repeat(64)]);
    const normalize = vi.spyOn(String.prototype, 'normalize');
    try {
      const text = 'is ' + '\u00fc'.repeat(8_000);
      const c = t.coverage(text);
      expect(c.foldedWords).toBeUndefined();
      // Characters normalized in all: the text once, each letter once at most (8 000 x 8 000 = 64 M before).
      const normalized = normalize.mock.contexts.reduce<number>((n, s) => n + String(s).length, 0);
      expect(normalized).toBeLessThan(5 * text.length);
    } finally {
      normalize.mockRestore();
    }
  });
});

// Coverage counted every `Extended_Pictographic` character as an emoji: that class also has U+00A9, U+00AE, U+2122,
// U+203C, arrows (U+2194), the heavy check mark U+2714, U+2665..., text symbols in English prose, so an English prompt
// with them was measured as if it had emoji, and they lowered its coverage as unknown words do.
describe('UseLiteTokenizer: what counts as an emoji', () => {
  /** Emoji: shown as emoji by default, a pictograph from U+1F000 on, or a pictograph with U+FE0F after it. */
  const MUST = ['\u{1F600}', '\u2705', '\u274C', '\u2B50', '\u231A', '\u{1F389}', '\u2764\uFE0F', '\u2600\uFE0F', '\u2714\uFE0F', '\u{1F1E9}\u{1F1EA}', '\u{1F321}'];
  /** Text symbols that are pictographs too (copyright, registered, trade mark, double exclamation, arrows, check marks, suits, play). */
  const MUST_NOT = ['\u00A9', '\u00AE', '\u2122', '\u2139', '\u203C', '\u2190', '\u2192', '\u2194', '\u21A9', '\u21D2', '\u2713', '\u2714', '\u2611', '\u2665', '\u2600', '\u25B6', '\u2702'];

  it('EMOJI matches emoji and not the text symbols', () => {
    expect(MUST.filter((c) => !EMOJI.test(c))).toEqual([]);
    expect(MUST_NOT.filter((c) => EMOJI.test(c))).toEqual([]);
  });

  it('coverage counts emoji as characters (a flag is one), not the text symbols', () => {
    // No piece of this vocabulary covers them: each counted one is a character, none covered.
    expect(MUST.map((c) => tokenizer.coverage(c).characters)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    // U+2122 and U+2139 are letters after NFKC ("TM", "i"): counted as letters.
    expect(MUST_NOT.map((c) => tokenizer.coverage(c).characters)).toEqual(MUST_NOT.map((c) => (c === '\u2122' ? 2 : c === '\u2139' ? 1 : 0)));
    expect(tokenizer.coverage('hi \u2192 hi \u00A9 \u2714').characters).toBe(4);
  });

  // Skin-tone modifiers (U+1F3FB-U+1F3FF) are emoji shown as such: a thumbs-up with one counted as two emoji, a family
  // joined with U+200D as three, a flag's two regional indicators as two. One emoji, modifiers and sequence included.
  it('counts an emoji with its skin-tone modifier, a U+200D sequence and a flag as one', () => {
    const one = ['\u{1F44D}\u{1F3FB}', '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}', '\u{1F469}\u{1F3FD}\u200D\u{1F4BB}', '\u2764\uFE0F\u200D\u{1F525}', '\u{1F1E9}\u{1F1EA}', '\u{1F3F3}\uFE0F\u200D\u{1F308}'];
    expect(one.map((c) => tokenizer.coverage(c).characters)).toEqual(one.map(() => 1));
    // A text-default base shown as an emoji by its modifier (U+261D, U+270C, U+270D, U+26F9; one with U+200D and a sign):
    // one emoji (the modifier counted nothing as the continuation of a base not counted: 0).
    const based = ['\u261D\u{1F3FB}', '\u270C\u{1F3FD}', '\u270D\u{1F3FF}', '\u26F9\u{1F3FB}', '\u26F9\u{1F3FB}\u200D\u2640\uFE0F'];
    expect(based.map((c) => tokenizer.coverage(c).characters)).toEqual(based.map(() => 1));
    // Two flags are two, three regional indicators two (a pair and one alone); a modifier alone is an emoji.
    expect(['\u{1F1E9}\u{1F1EA}\u{1F1EB}\u{1F1F7}', '\u{1F1E9}\u{1F1EA}\u{1F1EB}', '\u{1F3FB}', '\u{1F44D} \u{1F3FB}'].map((c) => tokenizer.coverage(c).characters)).toEqual([2, 2, 1, 2]);
  });

  // A keycap (a digit, "#" or "*", U+FE0F, U+20E3: none of them a letter or an emoji on its own) counted 0: a question
  // of keycaps only ("1\uFE0F\u20E3 or 2\uFE0F\u20E3?") had no character, so it was never skipped as uncovered.
  it('counts a keycap as one emoji, with or without U+FE0F, never as covered', () => {
    const keycaps = ['1\uFE0F\u20E3', '#\uFE0F\u20E3', '*\uFE0F\u20E3', '0\u20E3', '\u{1F51F}'];
    expect(keycaps.filter((c) => !EMOJI.test(c))).toEqual([]);
    expect(keycaps.map((c) => tokenizer.coverage(c)).map((c) => [c.characters, c.covered])).toEqual(keycaps.map(() => [1, 0]));
    // Two keycaps are two; beside a word, the word's letters and the keycap; a digit, a lone U+20E3 or "a" U+20E3 is none.
    expect(['1\uFE0F\u20E32\uFE0F\u20E3', 'hi 3\uFE0F\u20E3', '3', '\u20E3', 'x\u20E3', '1\uFE0F'].map((c) => tokenizer.coverage(c).characters)).toEqual([2, 3, 0, 0, 1, 0]);
    expect(['3', '\u20E3', '1\uFE0F', '#'].filter((c) => EMOJI.test(c))).toEqual([]);
  });
});
