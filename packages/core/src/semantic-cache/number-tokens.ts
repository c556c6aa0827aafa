/** A number as written: a run of digits with its decimal or thousands separators ("12", "1.5", "1,000"). */
const NUMBER = /\d+(?:[.,]\d+)*/g;

/** The numbers of a text in order, leading zeros dropped ("007" is "7"; "1.50" stays "1.50"). */
export function numbersOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(NUMBER)) out.push(m[0].replace(/^0+(?=\d)/, ''));
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
