/**
 * A word with its inner decimal or thousands separators ("12", "1.5", "1,000", "0xFF", "5k", "v2.0"), with a leading
 * minus (ASCII or U+2212) when no letter or digit stands before it ("-40", not the hyphen of "GPT-4" or "5-3").
 */
const WORD = /(?:(?<![\p{L}\p{N}])[-\u2212])?[\p{L}\p{N}]+(?:[.,][\p{L}\p{N}]+)*/gu;
const DIGIT = /\p{Nd}/u;
/** A comma between groups of three digits ("1,000,000"): a thousands separator, dropped. */
const THOUSANDS = /(?<=\p{Nd}),(?=\p{Nd}{3}(?!\p{Nd}))/gu;
/** Leading zeros of a number ("007", "-007"), not of "0.5" or "0xFF". */
const LEADING_ZEROS = /^(-?)0+(?=\p{Nd})/u;
/** A version's "v" ("v2.10.0" is "2.10.0"). */
const VERSION_V = /^v(?=\p{Nd})/u;
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The numbers of a text in order, as written once normalised: NFKC first (full-width digits are digits), any decimal
 * digit (`\p{Nd}`), a word holding a digit is one token ("0xFF" is not "0xFE", "5k" is not "5"), a leading minus
 * kept ("-40" is not "40"), thousands separators dropped ("1,000" is "1000") and leading zeros ("007" is "7"; "1.50"
 * stays "1.50"), letters in lower case ("0xFF" is "0xff", "Wiki40b" is "wiki40b") and a version's "v" dropped ("v2.10"
 * is "2.10").
 */
export function numbersOf(text: string): string[] {
  const out: string[] = [];
  if (NON_ASCII.test(text)) text = text.normalize('NFKC');
  for (const m of text.matchAll(WORD)) {
    const w = m[0];
    if (!DIGIT.test(w)) continue;
    out.push(w.toLowerCase().replace('\u2212', '-').replace(VERSION_V, '').replace(THOUSANDS, '').replace(LEADING_ZEROS, '$1'));
  }
  return out;
}

/**
 * Whether two questions name the same numbers in the same order. An embedding puts "Convert 10 miles to km" and
 * "Convert 12 miles to km" almost on top of each other (cosine 0.996 with USE lite), and so does the trigram
 * similarity, but the answer to one is wrong for the other: the semantic cache does not serve such a match
 * unguarded. Numbers spelled out ("two") are not numbers here.
 */
export function sameNumbers(a: string, b: string): boolean {
  return sameNumberList(numbersOf(a), numbersOf(b));
}

/** Whether two lists of `numbersOf` are equal. */
export function sameNumberList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}
