/**
 * The Python literal `text` starts with (Python's `repr` of a JSON body: dicts, lists, tuples, strings quoted with `'`
 * or `"` and their escapes, `None`, `True`, `False`, numbers), as the JSON value it stands for, else undefined (what
 * follows it is left: `. Received Model Group=...`). A real parse, not a search for `'message': '`: Python quotes a
 * string holding `'` with `"`, so such words inside a value (the caller's) are read as that value.
 */
export function leadingPythonLiteral(text: string): unknown {
  const parser = new PythonLiteralParser(text);
  try {
    return parser.value();
  } catch {
    return undefined;
  }
}

const PY_ESCAPES: Readonly<Record<string, string>> = { '\n': '', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
const PY_CONSTANTS: Readonly<Record<string, null | boolean>> = { None: null, True: true, False: false };
/** Deeper than any error body: a bound on recursion for a hostile text. */
const PY_MAX_DEPTH = 32;

class PythonLiteralParser {
  private i = 0;
  constructor(private readonly text: string) {}

  value(depth = 0): unknown {
    if (depth > PY_MAX_DEPTH) throw new SyntaxError('too deep');
    this.space();
    const c = this.text[this.i];
    if (c === '{') return this.dict(depth);
    if (c === '[' || c === '(') return this.list(c === '[' ? ']' : ')', depth);
    if (c === "'" || c === '"') return this.string();
    const word = /^(?:None|True|False)\b/.exec(this.text.slice(this.i, this.i + 6));
    if (word) {
      this.i += word[0].length;
      return PY_CONSTANTS[word[0]];
    }
    const number = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?/.exec(this.text.slice(this.i, this.i + 64));
    if (number) {
      this.i += number[0].length;
      return Number(number[0]);
    }
    throw new SyntaxError(`unexpected ${c ?? 'end'}`);
  }

  private dict(depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.i++;
    for (;;) {
      this.space();
      if (this.eat('}')) return out;
      const key = this.value(depth + 1);
      if (typeof key !== 'string') throw new SyntaxError('a key that is not a string');
      this.space();
      if (!this.eat(':')) throw new SyntaxError('expected :');
      Object.defineProperty(out, key, { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true });
      this.space();
      if (this.eat('}')) return out;
      if (!this.eat(',')) throw new SyntaxError('expected ,');
    }
  }

  private list(close: string, depth: number): unknown[] {
    const out: unknown[] = [];
    this.i++;
    for (;;) {
      this.space();
      if (this.eat(close)) return out;
      out.push(this.value(depth + 1));
      this.space();
      if (this.eat(close)) return out;
      if (!this.eat(',')) throw new SyntaxError('expected ,');
    }
  }

  private string(): string {
    const quote = this.text[this.i++]!;
    let out = '';
    for (;;) {
      const c = this.text[this.i++];
      if (c === undefined || c === '\n') throw new SyntaxError('unterminated string');
      if (c === quote) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.text[this.i++];
      if (e === undefined) throw new SyntaxError('unterminated string');
      const hex = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
      if (hex > 0) {
        const digits = this.text.slice(this.i, this.i + hex);
        if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits)) throw new SyntaxError('bad escape');
        const code = parseInt(digits, 16);
        if (code > 0x10ffff) throw new SyntaxError('bad escape');
        out += String.fromCodePoint(code);
        this.i += hex;
      } else if (/[0-7]/.test(e)) {
        const octal = /^[0-7]{1,3}/.exec(this.text.slice(this.i - 1, this.i + 2))![0];
        out += String.fromCodePoint(parseInt(octal, 8));
        this.i += octal.length - 1;
      } else if (Object.hasOwn(PY_ESCAPES, e)) out += PY_ESCAPES[e];
      // Python keeps an unknown escape as it is (`\d` is a backslash and a d).
      else out += `\\${e}`;
    }
  }

  private space(): void {
    while (this.text[this.i] === ' ' || this.text[this.i] === '\n' || this.text[this.i] === '\t' || this.text[this.i] === '\r') this.i++;
  }

  private eat(c: string): boolean {
    if (this.text[this.i] !== c) return false;
    this.i++;
    return true;
  }
}
