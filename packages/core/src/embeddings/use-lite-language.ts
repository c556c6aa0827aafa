import { safeWarn } from '../util/safe-warn.js';

/** What the semantic cache needs of a language detector: the language of a text, ISO 639-1 ('' when it cannot tell). */
export interface LanguageDetector {
  detect(text: string): { language: string; isReliable?(): boolean };
}

/** The language USE lite's vectors tell texts apart in: its vocabulary is English word pieces. */
export const USE_LITE_LANGUAGE = 'en';

/** The package that detects the language (`eld`, Apache-2.0, no dependencies), pinned as the model packages are. */
export const LANGUAGE_DETECTOR_PACKAGE = 'eld@2.1.0';

const defaultImport = async (): Promise<LanguageDetector> => {
  // The smallest database (~1 MB of n-grams, ~29 MB of heap, ~0.2-0.3 s to load once): on the GPTCache paraphrase pairs
  // it reads all 1 998 texts as English, as the larger ones do, and every question of the German, French and Spanish
  // fixture as its language (`__fixtures__/other-language-questions.ts`).
  const module = (await import('eld/extrasmall')) as { eld: LanguageDetector };
  return module.eld;
};

/**
 * Loads `eld` once, asynchronously (it is an ES module only: the semantic cache awaits `ready()` before it reads a
 * question, `Embedder.prepare`). Until then, and when it cannot be loaded (not installed, or failing), the language is
 * not known (`detect` gives undefined): the semantic cache then compares questions in other Latin-script languages as
 * it does English ones, which is warned about once (`[llmrr] ...`), and the import is tried again at most every minute.
 * @internal (a class for tests: the process has one, `useLiteLanguage`)
 */
export class UseLiteLanguageLoader {
  #detector: LanguageDetector | undefined;
  #loading: Promise<void> | undefined;
  #retryAt = 0;
  #warned = false;
  readonly #import: () => Promise<LanguageDetector>;
  readonly #warn: (message: string) => void;
  readonly #now: () => number;

  constructor(load: () => Promise<LanguageDetector> = defaultImport, warn: (message: string) => void = CONSOLE_WARN, now: () => number = Date.now) {
    this.#import = load;
    this.#warn = safeWarn(warn);
    this.#now = now;
  }

  /** Resolves once the detector is loaded or its load failed (never rejects). */
  ready(): Promise<void> {
    if (this.#detector) return Promise.resolve();
    if (this.#loading) return this.#loading;
    if (this.#retryAt !== 0 && this.#now() < this.#retryAt) return Promise.resolve();
    const loading = this.#import().then(
      (detector) => {
        this.#detector = detector;
        this.#retryAt = 0;
      },
      (e: unknown) => {
        this.#retryAt = this.#now() + RETRY_MS;
        if (this.#warned) return;
        this.#warned = true;
        this.#warn(
          `[llmrr] local-use embedder: cannot load the language detector (${LANGUAGE_DETECTOR_PACKAGE}: ${e instanceof Error ? e.message : String(e)}); ` +
            'until it loads, the semantic cache cannot tell German, French, Spanish... questions from English ones and compares them ' +
            `as English (unrelated ones scored up to 0.99 with USE lite): install ${LANGUAGE_DETECTOR_PACKAGE} (tried again every minute)`,
        );
      },
    );
    this.#loading = loading.finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  /** Whether the detector is loaded (a reading taken before may change once it is). */
  get loaded(): boolean {
    return this.#detector !== undefined;
  }

  /** `text`'s language (ISO 639-1) when the detector is loaded and can tell; undefined otherwise. */
  detect(text: string): string | undefined {
    const language = this.#detector?.detect(text).language;
    return language ? language : undefined;
  }

  /**
   * The language `text` is in when it is not English, by two signals (`otherLanguageOf`): the detector's reading and the
   * text's words. Undefined when it reads as English, cannot tell, or is not loaded.
   */
  otherLanguage(text: string): string | undefined {
    if (!this.#detector) return undefined;
    // The question's own words: code (its keywords are English: "for", "if", "not", "and"...) outvoted the German
    // around it, and unrelated German questions about one snippet scored 0.94 and were served each other's answers.
    const prose = withoutCode(text);
    if (prose === text) return this.#otherLanguageOf(text);
    const language = this.#otherLanguageOf(prose);
    if (language !== undefined) return language;
    // An indented block may be prose (an email or a poem pasted under "Please reply to this:"): read with its indented
    // blocks too, and another language either way skips the question (a German email indented under an English request
    // read as English, and two such requests were served each other's answer, 0.965).
    const fencedOut = withoutCode(text, { indented: false });
    if (fencedOut !== prose) {
      const withIndented = this.#otherLanguageOf(fencedOut);
      if (withIndented !== undefined) return withIndented;
    }
    // Each code block's paragraphs (blank lines apart) on their own too: a foreign question fenced with its code, or a
    // German email fenced or indented under an English request, was outvoted by the code's English keywords or by the
    // request (German questions in one fence with their code were served each other's answer at 0.989). A paragraph of
    // code reads as English or not at all; a foreign comment block may skip the question (a miss, not a wrong answer).
    // Only a paragraph with at least two listed foreign words, more than its English function words, is read: data,
    // output and shell lines (a CSV of Spanish names, `ls` of German file names, YAML, log lines) are not prose, and one
    // accented word in them read "reliably" as another language skipped 11 of 18 English questions about such blocks
    // (review of 0e9a5a6). A foreign paragraph in a language without a word list here is not read.
    for (const paragraph of codeParagraphs(text)) {
      if (!foreignProse(paragraph)) continue;
      const language = this.#otherLanguageOf(paragraph);
      if (language !== undefined) return language;
    }
    // No English function word outside the code (a question inside a fence or backticks, "Frage:", "Kurze Frage:" or
    // "Hilfe bei meinem Code:" before one): not trusted as English (it was, and German questions in a
    // fence, 0.96-0.99, were served each other's answer). The whole text is read too then; another language either way
    // skips the question (a skip costs a miss).
    if (readAlone(prose)) return undefined;
    return this.#otherLanguageOf(text);
  }

  #otherLanguageOf(text: string): string | undefined {
    const reading = this.#detector!.detect(text);
    if (!reading.language || reading.language === USE_LITE_LANGUAGE) return undefined;
    return otherLanguageOf(text, reading.language, reading.isReliable?.() ?? false);
  }
}

/**
 * Whether the words outside the code are read alone: one of them is an English function word ("Fix this:", "Why no
 * output?"). Without one, their English reading is not trusted and the whole text is read too: "Kurze Frage:" and
 * "Snelle vraag:" (a-z only, no listed foreign word) read as English, and so did four-word labels ("Hilfe bei meinem
 * Code:", "Frage zum folgenden Skript:"), which let the foreign question inside a fence go unread.
 */
function readAlone(prose: string): boolean {
  const word = /[\p{L}\p{M}]+/gu;
  for (let m = word.exec(prose); m; m = word.exec(prose)) if (ENGLISH_WORDS.has(m[0].toLowerCase())) return true;
  return false;
}

/**
 * Function words and greetings of the languages `eld` confuses with English on short questions (German, French, Spanish,
 * Italian, Portuguese, Dutch, Swedish, Danish, Norwegian; a few Finnish and Polish ones), none of them a common English word
 * or English name part ("von", "de", "la", "los", "del", "come", "die", "was" are left out; "comment" and "sous" are in).
 */
const FOREIGN_WORDS = new Set(
  (
    // de
    'ich wir ihr ist sind nicht und oder der dem ein eine einen einem einer zu auf für wie warum wann wer wo welche welcher ' +
    'welches wieso weshalb kann können kannst muss soll mein meine dein deine unter zwischen bitte danke hallo gibt wird ' +
    'werden habe haben nach auch noch sehr viele wieviel schon dass nur mich dich uns euch ihnen sich heute guten bedeutet heißt wort macht ' +
    // fr
    'je tu elle nous comment sous vous ils elles sont suis une mais avec dans sur que qui quoi quel quelle quels quelles pourquoi quand ' +
    'où combien puis peux peut faut mes tes ses cette ces merci bonjour salut être avoir faire très aussi entre ' +
    // es
    'una unos unas qué quién quiénes cómo cuál cuáles cuándo cuánto cuántos cuántas dónde puedo puedes pero está están ' +
    'gracias hola buenos buenas muy también hacer tengo tiene como cuando donde cual porqué ' +
    // it
    'gli della dei delle nel nella cosa perché perche quale quanto sono è posso puoi grazie ciao buongiorno anche molto ' +
    'mio questo questa essere ' +
    // pt
    'você não são quem onde qual quanto porque meu minha obrigado obrigada olá tudo muito fazer tenho ' +
    // nl
    'het een voor niet maar waar waarom wanneer welke mijn jouw zijn hebben heb heeft bedankt alsjeblieft ook veel naar bij uit deze ' +
    // sv da no
    'jag är och inte det ett att vad hur varför när vem vilken hej jeg ikke hvad hvordan hvorfor hvem hvor takk tak ' +
    // fi pl
    'kiitos mitä miten miksi kuka missä onko jak si\u0119 czy dlaczego dzi\u0119kuj\u0119 jest'
  ).split(' '),
);

/**
 * English function words, counted against the words of `FOREIGN_WORDS` a question has; not those that are also words of
 * those languages ("a", "an", "do", "i", "in", "is", "me", "no", "so", "was").
 */
const ENGLISH_WORDS = new Set(
  (
    'the are were be been does did have has had you he she it we they my your his her its our their ' +
    'what who whom whose which why how when where can could should would will shall may might must of to on at for ' +
    'with from by about and or but not yes this that these those there here if than then him us them'
  ).split(' '),
);

/** At least two of `text`'s words are listed foreign words (`FOREIGN_WORDS`), and more than its English function words. */
function foreignProse(text: string): boolean {
  const words = text.toLowerCase().match(/[\p{L}\p{M}]+/gu) ?? [];
  let foreign = 0;
  let english = 0;
  for (const w of words) {
    if (FOREIGN_WORDS.has(w)) foreign++;
    else if (ENGLISH_WORDS.has(w)) english++;
  }
  return foreign >= 2 && foreign > english;
}

/**
 * Whether a text `eld` reads as `language` (not English; `reliable`: its own confidence) is in another language than
 * English. eld alone reads ~8% of short English questions as another language ("Is a tomato a fruit?" as Dutch, "Java vs
 * Kotlin?" as Dutch, "Define entropy." as Italian), and its confidence alone passes one-word foreign questions ("Warum?")
 * as English. So a second signal, the words: another language when more words are function words or greetings of a
 * language eld confuses with English (`FOREIGN_WORDS`: "Warum?", "Danke!", "Comment installer Node.js sous Windows ?")
 * than English function words ("How to sous vide a steak?" is English), or when eld is sure, no word is an English
 * function word and one has a letter outside a-z (a language with no list here: "Hvad betyder ordet hygge?"). Undefined otherwise: eld sure alone read 13 of 208 English questions as another language
 * ("Define gravity.", "Go vs Rust?"), this rule 0 (`__fixtures__/english-short-questions.ts`).
 */
export function otherLanguageOf(text: string, language: string, reliable: boolean): string | undefined {
  const words = text.toLowerCase().match(/[\p{L}\p{M}]+/gu) ?? [];
  const foreign = words.filter((w) => FOREIGN_WORDS.has(w)).length;
  const english = words.filter((w) => ENGLISH_WORDS.has(w)).length;
  if (foreign > english) return language;
  if (reliable && !words.some((w) => ENGLISH_WORDS.has(w)) && words.some((w) => /[^a-z]/.test(w))) return language;
  return undefined;
}

/**
 * Markdown code: fenced blocks (a line starting with three or more backticks or tildes, up to three spaces in, to a
 * line of the same character at least as long with nothing but spaces after it, or to the end when it is not closed: a
 * line "```python" opens a block, it does not close one), and inline code spans (one backtick, not inside a word, to
 * the next on the same line, not inside a word: backticks as apostrophes, "don`t ... can`t", are no span). Not code:
 * fences indented further in list items, spans of two or more backticks (the words are read as prose). Indented blocks
 * are `indentedCode`'s. The lookaheads keep a long run of backticks from being tried at every length (linear in the text).
 */
const CODE =
  /^[ \t]{0,3}(`{3,})(?!`)[^`\n]*(?=\n|(?![\s\S]))(?:\n(?:[\s\S]*?\n)?[ \t]{0,3}\1`*[ \t]*(?=\n|(?![\s\S]))|[\s\S]*)|^[ \t]{0,3}(~{3,})(?!~)[^\n]*(?:\n(?:[\s\S]*?\n)?[ \t]{0,3}\2~*[ \t]*(?=\n|(?![\s\S]))|[\s\S]*)|(?<![\p{L}\p{N}`])`[^`\n]+`(?![\p{L}\p{N}`])/gmu;

/** What a fenced block is replaced by before the indented blocks are found (a line of its own: what may precede one). */
const FENCE_MARK = '\uE000';
/** A line that may start with four spaces or a tab in: the text may have an indented code block. */
const MAY_INDENT = /^ {0,3}\t| {4}/m;
/** A list item's marker and the spaces after it (CommonMark: "-", "+", "*", or 1-9 digits and "." or ")"). */
const LIST_MARKER = /^([-+*]|\d{1,9}[.)])([ \t]+|$)/;
/** An ATX heading, after which an indented block may start at once. */
const HEADING = /^#{1,6}(?:[ \t]|$)/;

/** The column `line`'s text starts at (a tab to the next multiple of four) and its index. */
function indentOf(line: string): { column: number; at: number } {
  let column = 0;
  let at = 0;
  for (; at < line.length; at++) {
    if (line[at] === ' ') column++;
    else if (line[at] === '\t') column += 4 - (column % 4);
    else break;
  }
  return { column, at };
}

/**
 * `lines` (a text's, its fenced blocks each a `FENCE_MARK` line) with each indented code block one space, as CommonMark
 * reads them: non-blank lines four columns or more in past the open list item's text (a tab to the next multiple of
 * four), the first after a blank line, a fenced block or a heading or at the start (an indented line right after a
 * paragraph's continues it), blank lines between them included. A list item ("- ", "1. ") stays open for lines as far
 * in as its text, and for lines right after its own: its paragraphs indented four are prose ("1. Step\n\n    More of
 * step one"). Not a blockquote's inside (read as prose).
 */
function indentedCode(text: string, blocks?: string[][]): string {
  const lines = text.split('\n');
  const out: string[] = [];
  // The columns the open list items' text starts at, innermost last.
  const lists: number[] = [];
  // Whether the previous line lets an indented block start (blank, a fence, a heading, the start) or is one's.
  let open = true;
  let blank = true;
  let inCode = false;
  // Blank lines seen since the last code line (part of the block when another code line follows).
  let pending: string[] = [];
  // The open indented block's lines, their leading spaces and tabs taken off (for `blocks`).
  let block: string[] = [];
  for (const line of lines) {
    const { column, at } = indentOf(line);
    if (at === line.length) {
      (inCode ? pending : out).push(line);
      blank = true;
      open = true;
      continue;
    }
    // After a blank line, a line less far in than an open item's text closes it (right after a line, it continues it).
    if (blank) while (lists.length > 0 && column < lists[lists.length - 1]!) lists.pop();
    const base = lists[lists.length - 1] ?? 0;
    if (column - base >= 4 && (open || inCode)) {
      if (!inCode) out.push(' ');
      if (blocks) {
        if (!inCode) blocks.push((block = []));
        for (let i = 0; i < pending.length; i++) block.push('');
        block.push(line.slice(at));
      }
      pending = [];
      inCode = true;
      blank = false;
      continue;
    }
    if (inCode) for (const b of pending) out.push(b);
    out.push(line);
    pending = [];
    inCode = false;
    blank = false;
    const rest = line.slice(at);
    open = rest === FENCE_MARK || HEADING.test(rest);
    const marker = LIST_MARKER.exec(rest);
    if (marker) {
      while (lists.length > 0 && column < lists[lists.length - 1]!) lists.pop();
      // The text starts one past the marker when the spaces after it are five or more (or none: an empty item).
      const after = indentOf(marker[2]!).column;
      lists.push(column + marker[1]!.length + (after >= 1 && after <= 4 ? after : 1));
    }
  }
  if (inCode) for (const b of pending) out.push(b);
  return out.join('\n');
}

/**
 * `text` without its Markdown code (`CODE`, `indentedCode`; each block or span a space): the words a language is read
 * from. `spans: false`: blocks only, inline spans kept (the semantic cache's words outside code, `proseOf`).
 * `indented: false`: fenced blocks and spans only, indented blocks kept (they may be prose: an email, a poem).
 */
export function withoutCode(text: string, { spans = true, indented = true }: { spans?: boolean; indented?: boolean } = {}): string {
  const fenced =
    text.includes('`') || text.includes('~~~') ? text.replace(CODE, (m: string, backticks?: string, tildes?: string) => (backticks ?? tildes ? FENCE_MARK : spans ? ' ' : m)) : text;
  const prose = indented && MAY_INDENT.test(fenced) ? indentedCode(fenced) : fenced;
  return prose === text ? text : prose.replaceAll(FENCE_MARK, ' ');
}

/** A closing fence line at the end of a fenced block's text. */
const CLOSING_FENCE = /(?:^|\n)[ \t]{0,3}(?:`{3,}|~{3,})[ \t]*$/;
/** The most paragraphs of code blocks read (a text of many blank lines is not read once per line past them). */
const MAX_PARAGRAPHS = 64;

/**
 * A line of code: with `;`, `{`, `}`, `=`, `<` or `>`, a call (`name(x`), or starting with a keyword that starts
 * statements (lower-case: "If it rains" is prose).
 */
const CODE_LINE =
  /[;{}=<>]|[\w\])]\((?!\))|^[ \t]*(?:def|class|import|from|return|if|elif|else|for|while|try|except|const|let|var|function|fn|pub|public|private|static|int|void|select|SELECT|FROM|WHERE|#include|echo|done|do)\b/;

/**
 * Whether a paragraph of a code block is code: a third or more of its lines are `CODE_LINE`s. Its comments are then not
 * read alone ("// Lee el archivo" over two lines of JavaScript read as Spanish); a paragraph of comments only is.
 */
function isCode(paragraph: string): boolean {
  let lines = 0;
  let code = 0;
  for (const line of paragraph.split('\n')) {
    if (!line.trim()) continue;
    lines++;
    if (CODE_LINE.test(line)) code++;
  }
  return code * 3 >= lines;
}

/**
 * The paragraphs (split at blank lines) of `text`'s fenced and indented code blocks, each with letters, at most
 * `MAX_PARAGRAPHS`: what may be prose in another language inside a block.
 */
function codeParagraphs(text: string): string[] {
  const blocks: string[] = [];
  let fenced = text;
  if (text.includes('`') || text.includes('~~~')) {
    fenced = text.replace(CODE, (m: string, backticks?: string, tildes?: string) => {
      if (!(backticks ?? tildes)) return ' ';
      const nl = m.indexOf('\n');
      if (nl >= 0) blocks.push(m.slice(nl + 1).replace(CLOSING_FENCE, ''));
      return FENCE_MARK;
    });
  }
  if (MAY_INDENT.test(fenced)) {
    const indented: string[][] = [];
    indentedCode(fenced, indented);
    for (const lines of indented) blocks.push(lines.join('\n'));
  }
  const paragraphs: string[] = [];
  // Prose in them (a question fenced with its code, an email), not code: `isCode`.
  for (const block of blocks) {
    for (const paragraph of block.split(/\n[ \t]*(?:\n|$)/)) {
      if (!/\p{L}/u.test(paragraph) || isCode(paragraph)) continue;
      paragraphs.push(paragraph);
      if (paragraphs.length >= MAX_PARAGRAPHS) return paragraphs;
    }
  }
  return paragraphs;
}

/** After a detector that could not be loaded, how long before it is tried again. */
const RETRY_MS = 60_000;

/** `console.warn`, looked up when called (a test may replace it). */
const CONSOLE_WARN = (message: string): void => console.warn(message);

let shared: UseLiteLanguageLoader | undefined;

/** The process's language detector for USE lite questions (`UseLiteLanguageLoader`), made on first use. */
export function useLiteLanguage(): UseLiteLanguageLoader {
  return (shared ??= new UseLiteLanguageLoader());
}
