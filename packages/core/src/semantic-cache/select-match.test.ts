import { describe, expect, it } from 'vitest';
import { diceOf, normalizeForLexical, sameText, sameWording, textKey, trigramDice, trigrams } from './lexical-similarity.js';
import { differsInNegation, negationProfile } from './negation-tokens.js';
import { numbersOf, sameNumbers } from './number-tokens.js';
import { selectMatch, type MatchSelectionOptions } from './select-match.js';

const HYBRID: MatchSelectionOptions = { scoring: 'hybrid', lexicalWeight: 0.4, minMargin: 0.015 };
const COSINE: MatchSelectionOptions = { scoring: 'cosine', lexicalWeight: 0.4, minMargin: 0.015 };

describe('trigramDice', () => {
  it('is 1 for the same text up to case and whitespace, 0 for texts sharing no trigram, in between otherwise', () => {
    expect(trigramDice('Load the  Dataset', 'load the dataset')).toBe(1);
    expect(trigramDice('abc', 'xyz')).toBe(0);
    expect(trigramDice('', 'abc')).toBe(0); // an empty text has no trigrams
    const d = trigramDice('Dataset.load_from_disk()', 'Dataset.save_to_disk()');
    expect(d).toBeGreaterThan(0.3);
    expect(d).toBeLessThan(0.8);
  });

  it('counts distinct trigrams: 2|A∩B| / (|A|+|B|)', () => {
    const a = trigrams('abcd'); // " ab", "abc", "bcd", "cd "
    const b = trigrams('abce'); // " ab", "abc", "bce", "ce "
    expect(a.length).toBe(4);
    expect(diceOf(a, b)).toBeCloseTo((2 * 2) / 8, 10);
    expect(diceOf(new Float64Array(0), b)).toBe(0);
  });
});

describe('normalizeForLexical, textKey, sameText, sameWording', () => {
  it('lower-cases, collapses every kind of whitespace run to one space, trims, pads one space each side', () => {
    expect(normalizeForLexical('  Load\tthe \n\u00a0 Dataset  ')).toBe(' load the dataset ');
    expect(normalizeForLexical('')).toBe('  ');
    expect(normalizeForLexical('ÄÖÜ Straße')).toBe(' äöü straße ');
  });

  it('gives the same key to the same text up to case and whitespace, and tells other texts apart', () => {
    expect(textKey('What is  the capital of France?')).toBe(textKey('what is the capital of france?'));
    expect(textKey('what is the capital of france')).not.toBe(textKey('what is the capital of spain'));
    expect(sameText('A  b', 'a B')).toBe(true);
    expect(sameText('a b', 'a c')).toBe(false);
    expect(sameWording(' Open  the file\tREADME.md\n', 'Open the file README.md')).toBe(true);
    expect(sameWording('Open the file README.md', 'Open the file readme.md')).toBe(false);
    expect(sameWording('ab c', 'a bc')).toBe(false);
    expect(sameWording('a b', 'a b c')).toBe(false);
    expect(sameWording('', ' \n')).toBe(true);
  });

  it('trigrams match the normalized text, without building it', () => {
    const text = 'The `field` Method\tselects a schema field';
    const norm = normalizeForLexical(text);
    const expected = [...new Set(Array.from({ length: norm.length - 2 }, (_, i) => norm.slice(i, i + 3)))].length;
    expect(trigrams(text).length).toBe(expected);
    expect(trigramDice(text, norm)).toBe(1);
    // A long text grows the shared buffer and still gives the right answer afterwards.
    const long = 'x'.repeat(5_000) + ' y';
    expect(trigramDice(long, long)).toBe(1);
    expect(trigramDice('abc', 'abc')).toBe(1);
  });
});

describe('selectMatch', () => {
  it('returns undefined without candidates', () => {
    expect(selectMatch('q', [], HYBRID)).toBeUndefined();
  });

  it('cosine: keeps the vector order; the margin is the lead over the runner-up', () => {
    const s = selectMatch('q', [{ score: 0.93, prompt: 'a' }, { score: 0.9, prompt: 'b' }], COSINE)!;
    expect(s.best.candidate.prompt).toBe('a');
    expect(s.best.rank).toBe(0.93);
    expect(s.best.lexical).toBeUndefined();
    expect(s.margin).toBeCloseTo(0.03, 10);
    expect(s.ambiguous).toBe(false);
    expect(selectMatch('q', [{ score: 0.93, prompt: 'a' }, { score: 0.92, prompt: 'b' }], COSINE)!.ambiguous).toBe(true);
  });

  it('hybrid: a stored question with the same identifier beats a slightly closer vector with another one', () => {
    const question = 'How do I read a saved dataset back with Dataset.load_from_disk()?';
    const candidates = [
      { score: 0.93, prompt: 'Serialized datasets can be saved to cloud storage using Dataset.save_to_disk().' },
      { score: 0.926, prompt: 'Serialized datasets can be loaded back with Dataset.load_from_disk().' },
    ];
    expect(selectMatch(question, candidates, COSINE)!.best.candidate).toBe(candidates[0]);
    const s = selectMatch(question, candidates, HYBRID)!;
    expect(s.best.candidate).toBe(candidates[1]);
    expect(s.best.rank).toBeCloseTo(0.6 * 0.926 + 0.4 * trigramDice(question, candidates[1]!.prompt), 10);
    expect(s.ranked.map((r) => r.candidate)).toEqual([candidates[1], candidates[0]]);
    expect(s.margin).toBeGreaterThan(0.015);
  });

  it('calls two different stored questions that fit about equally well ambiguous', () => {
    const question = 'which method selects a schema field';
    const close = [
      { score: 0.955, prompt: 'which method selects a schema field by kilo' },
      { score: 0.95, prompt: 'which method selects a schema field by mega' },
    ];
    const s = selectMatch(question, close, HYBRID)!;
    expect(s.margin).toBeLessThan(0.015);
    expect(s.ambiguous).toBe(true);
    expect(selectMatch(question, [close[0]!, { ...close[1]!, score: 0.9 }], HYBRID)!.ambiguous).toBe(false);
  });

  it('does not count the same question stored twice (up to case and whitespace) as a rival', () => {
    const s = selectMatch('what is the capital of france', [
      { score: 0.95, prompt: 'What is the capital of France?' },
      { score: 0.95, prompt: 'what is the  capital of france?' },
    ], HYBRID)!;
    expect(s.margin).toBe(Infinity);
    expect(s.ambiguous).toBe(false);
    const withRival = selectMatch('what is the capital of france', [
      { score: 0.95, prompt: 'What is the capital of France?' },
      { score: 0.95, prompt: 'what is the capital of france?' },
      { score: 0.5, prompt: 'how do I bake bread' },
    ], HYBRID)!;
    expect(withRival.margin).toBeGreaterThan(0.2);
  });

  it('uses a precomputed lexical similarity when given', () => {
    const s = selectMatch('q', [{ score: 0.9, prompt: 'x', lexical: 0 }, { score: 0.85, prompt: 'y', lexical: 1 }], HYBRID)!;
    expect(s.best.candidate.prompt).toBe('y');
    expect(s.best.rank).toBeCloseTo(0.6 * 0.85 + 0.4, 10);
    expect(s.margin).toBeCloseTo(0.6 * 0.85 + 0.4 - 0.6 * 0.9, 10);
  });

  it('calls a chosen question that names other numbers a conflict (the answer is the other number\'s), not one with the same numbers', () => {
    expect(selectMatch('Convert 12 miles to kilometers', [{ score: 0.996, prompt: 'Convert 10 miles to kilometers' }], HYBRID)!.conflict).toBe(true);
    expect(selectMatch('What is 2+3?', [{ score: 0.985, prompt: 'What is 2+2?' }], COSINE)!.conflict).toBe(true);
    expect(selectMatch('How far is 10 miles in km?', [{ score: 0.9, prompt: 'Convert 10 miles to kilometers' }], HYBRID)!.conflict).toBe(false);
    expect(selectMatch('what is the capital of france', [{ score: 0.95, prompt: 'What is the capital of France?' }], HYBRID)!.conflict).toBe(false);
    // A number on one side only is another question too ("the top 5 films" vs "the top films").
    expect(selectMatch('list the top films', [{ score: 0.95, prompt: 'list the top 5 films' }], HYBRID)!.conflict).toBe(true);
    // A stored question naming other numbers is no rival: it is never served for this question.
    const twelve = selectMatch('convert 12 Miles to kilometers', [
      { score: 0.997, prompt: 'Convert 10 miles to kilometers' },
      { score: 0.996, prompt: 'Convert 12 miles to kilometers' },
    ], HYBRID)!;
    expect([twelve.best.candidate.prompt, twelve.conflict, twelve.ambiguous, twelve.margin]).toEqual(['Convert 12 miles to kilometers', false, false, Infinity]);
    expect(selectMatch('convert 12 Miles to kilometers', [{ score: 0.997, prompt: 'Convert 10 miles to kilometers' }, { score: 0.996, prompt: 'Convert 12 miles to kilometers' }], { ...HYBRID, numbers: false })!.margin).toBeLessThan(0.1);
    // Measuring the rule: off, nothing is a conflict.
    expect(selectMatch('What is 2+3?', [{ score: 0.985, prompt: 'What is 2+2?' }], { ...COSINE, numbers: false })!.conflict).toBe(false);
  });

  it('chooses the best-ranked candidate naming the same numbers, passing over closer ones naming others', () => {
    const candidates = [
      { score: 0.99, prompt: 'Convert 10 meters to feet' },
      { score: 0.95, prompt: 'Convert 12 meters into feet' },
      { score: 0.9, prompt: 'Convert 12 meters in feet please' },
    ];
    const s = selectMatch('Convert 12 meters to feet', candidates, COSINE)!;
    expect([s.best.candidate.prompt, s.best.cosine, s.conflict]).toEqual(['Convert 12 meters into feet', 0.95, false]);
    expect(s.margin).toBeCloseTo(0.05, 10); // the runner-up names 12 too
    expect(s.ranked[0]!.candidate.prompt).toBe('Convert 10 meters to feet');
    // None names the same numbers: the top one, a conflict.
    const none = selectMatch('Convert 14 meters to feet', candidates, COSINE)!;
    expect([none.best.candidate.prompt, none.conflict, none.margin]).toEqual(['Convert 10 meters to feet', true, Infinity]);
    // Without the rule the top one, whatever its numbers.
    expect(selectMatch('Convert 12 meters to feet', candidates, { ...COSINE, numbers: false })!.best.candidate.prompt).toBe('Convert 10 meters to feet');
  });

  it('minMargin 0 never calls a match ambiguous', () => {
    expect(selectMatch('q', [{ score: 0.9, prompt: 'a' }, { score: 0.9, prompt: 'b' }], { ...COSINE, minMargin: 0 })!.ambiguous).toBe(false);
  });
});

describe('numbersOf, sameNumbers', () => {
  it('reads digit runs with their decimal separators, in order, without thousands separators or leading zeros; a word with a digit is one token', () => {
    expect(numbersOf('Convert 1,000.50 m to ft, then 007 and 3.14 and 42km')).toEqual(['1000.50', '7', '3.14', '42km']);
    expect(sameNumbers('How many seconds in 1,000 minutes?', 'How many seconds in 1000 minutes?')).toBe(true);
    expect(sameNumbers('10,000,000 people', '10000000 people')).toBe(true);
    expect(numbersOf('1,5 litres and 1,0000')).toEqual(['1,5', '1,0000']); // not groups of three: kept as written
    // A leading minus (ASCII or U+2212) is the number's; a hyphen after a letter or digit is not.
    expect(numbersOf('Convert -40 degrees, (\u221240) and -007')).toEqual(['-40', '-40', '-7']);
    expect(numbersOf('GPT-4 costs 5-3 and x-5 on 2024-01-05')).toEqual(['4', '5', '3', '5', '2024', '1', '5']);
    expect(sameNumbers('Convert -40 F to C', 'Convert 40 F to C')).toBe(false);
    // Any decimal digit, full-width ones as their ASCII forms (NFKC).
    expect(numbersOf('Convert \uFF11\uFF10 kilograms')).toEqual(['10']);
    expect(sameNumbers('Convert \uFF11\uFF10 kilograms', 'Convert \uFF11\uFF12 kilograms')).toBe(false);
    expect(numbersOf('\u0661\u0662 items')).toEqual(['\u0661\u0662']);
    // Hex numbers and magnitudes: the whole word.
    expect(sameNumbers('hex 0xFF to decimal', 'hex 0xFE to decimal')).toBe(false);
    expect(sameNumbers('5k US dollars', '5 US dollars')).toBe(false);
    // Letters in lower case, a version's "v" dropped.
    expect(sameNumbers('hex 0xFF', 'hex 0xff')).toBe(true);
    expect(sameNumbers('wikipedia and wiki40b', 'Wikipedia and Wiki40b')).toBe(true);
    expect(sameNumbers('not in v2.10.0', 'not in version 2.10.0')).toBe(true);
    expect(numbersOf('no numbers here, two of them')).toEqual([]);
    expect(sameNumbers('2+2', '2 plus 2')).toBe(true);
    expect(sameNumbers('2+2', '2+3')).toBe(false);
    expect(sameNumbers('from 5 to 3', 'from 3 to 5')).toBe(false);
    expect(sameNumbers('1.5 litres', '1.50 litres')).toBe(false); // as written: "1.50" may say something "1.5" does not
    expect(sameNumbers('load 07', 'load 7')).toBe(true);
  });
});

describe('negationProfile, differsInNegation', () => {
  it('counts negations (words, "n\'t" contractions with or without the apostrophe) and keeps the other words, a contraction as its verb', () => {
    expect(negationProfile("Why doesn't it work? It can\u2019t, won't, cannot; dont worry")).toEqual({
      negations: 5,
      words: new Set(['why', 'does', 'it', 'work', 'can', 'will', 'do', 'worry']),
    });
    expect(negationProfile('no one has never had none, nothing, nobody, nowhere, neither nor without').negations).toBe(9);
    // A leading "No," answers a yes/no question: not a negation of what follows ("no" inside a sentence is).
    expect(negationProfile('No, it is there.').negations).toBe(0);
    expect(negationProfile('No dataset script is needed').negations).toBe(1);
    expect(negationProfile('Is it safe? No, it is not.').negations).toBe(2);
  });

  it('reads a contraction typed with another apostrophe (U+00B4, backtick, U+2018, U+02BC, U+FF07) as with \', and one with a further contraction', () => {
    const base = 'Why does my Python script work on Linux?';
    for (const apostrophe of ['\u00b4', '`', '\u2018', '\u02bc', '\uff07']) {
      const flipped = `Why doesn${apostrophe}t my Python script work on Linux?`;
      expect({ flipped, profile: negationProfile(flipped), flip: differsInNegation(base, flipped) }).toEqual({
        flipped,
        profile: { negations: 1, words: new Set(['why', 'does', 'my', 'python', 'script', 'work', 'on', 'linux']) },
        flip: true,
      });
    }
    // Every apostrophe of a word, not only its first.
    expect(negationProfile("Shouldn't've I done it?")).toEqual({ negations: 1, words: new Set(['should', 'i', 'done', 'it']) });
    expect(negationProfile('Shouldn\u2019t\u2019ve I done it?').negations).toBe(1);
    expect(negationProfile('Shouldn\u00b4t`ve I done it?').negations).toBe(1);
    // Only between two letters: quote marks around words are not part of them.
    expect(negationProfile('Is `no` a \u2018not\u2019 here?')).toEqual({ negations: 2, words: new Set(['is', 'a', 'here']) });
  });

  it('a different number of negations in otherwise much the same words is a flip; a rewording with a negation is not', () => {
    const flips: Array<[string, string]> = [
      ['Is it safe to eat raw eggs?', 'Is it not safe to eat raw eggs?'],
      ['Is it safe to eat raw eggs?', 'Is eating raw eggs not safe?'],
      ['Why does my Python script work on Linux?', "Why doesn't my Python script work on Linux?"],
      ['What foods contain gluten?', "Which foods don't contain gluten?"],
      ['How do I run the tests with coverage?', 'How do I run the tests without coverage?'],
      ['Who can vote in US elections?', 'Who cannot vote in US elections?'],
      ['When should you water succulents?', 'When should you never water succulents?'],
      // The number, not its parity.
      ['Is it safe to swim after eating?', 'Is it never not safe to swim after eating?'],
    ];
    for (const [a, b] of flips) expect({ a, b, flip: differsInNegation(a, b) }).toEqual({ a, b, flip: true });
    const same: Array<[string, string]> = [
      // The same negations, another wording.
      ["Why doesn't my script run?", 'Why does my script not run?'],
      ["I can't log in", 'I cannot log in'],
      // A leading "No," is an answer's interjection.
      ['No, it does not exist in version 2.10.0.', 'Version 2.10.0 does not have it.'],
      // A negation in a rewording that changes more than it: "optional" for "not mandatory" (GPTCache paraphrase pairs).
      [
        'The `with_details` parameter is optional and defaults to `False`. It is used to return the full details on the datasets instead of only the short name.',
        'The `with_details` parameter is not mandatory and is set to `False` by default. It can be used to get the full information about the datasets rather than just the short name.',
      ],
      ['The `slice` method computes a zero-copy slice of the table.', 'The `slice` method produces a slice of the table without any copying.'],
    ];
    for (const [a, b] of same) expect({ a, b, flip: differsInNegation(a, b) }).toEqual({ a, b, flip: false });
    // Where little else changes the rewording looks like a flip (a miss by default: the guard decides).
    expect(differsInNegation('The parameter is optional and defaults to False.', 'The parameter is not mandatory and defaults to False.')).toBe(true);
  });

  it('selectMatch calls a chosen question that differs in negation a conflict, and chooses no other one in its place', () => {
    const s = selectMatch('Is it not safe to eat raw eggs?', [{ score: 0.977, prompt: 'Is it safe to eat raw eggs?' }, { score: 0.8, prompt: 'Is it not safe to eat raw fish?' }], HYBRID)!;
    expect([s.best.candidate.prompt, s.conflict]).toEqual(['Is it safe to eat raw eggs?', true]);
    expect(selectMatch('Is it not safe to eat raw eggs?', [{ score: 0.98, prompt: 'Is it not safe to eat raw eggs?' }], HYBRID)!.conflict).toBe(false);
    // Measuring the rule: off, no conflict.
    expect(selectMatch('Is it not safe to eat raw eggs?', [{ score: 0.977, prompt: 'Is it safe to eat raw eggs?' }], { ...HYBRID, negation: false })!.conflict).toBe(false);
  });
});
