import { safeWarn } from '../util/safe-warn.js';

/** What the semantic cache needs of a language detector: the language of a text, ISO 639-1 ('' when it cannot tell). */
export interface LanguageDetector {
  detect(text: string): { language: string };
}

/** The language USE lite's vectors tell texts apart in: its vocabulary is English word pieces. */
export const USE_LITE_LANGUAGE = 'en';

/** The package that detects the language (`eld`, Apache-2.0, no dependencies), pinned as the model packages are. */
export const LANGUAGE_DETECTOR_PACKAGE = 'eld@2.1.0';

const defaultImport = async (): Promise<LanguageDetector> => {
  // The smallest database (~1 MB of n-grams, ~35 MB of heap, ~0.3 s to load once): on the GPTCache paraphrase pairs
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

  /** `text`'s language (ISO 639-1) when the detector is loaded and can tell; undefined otherwise. */
  detect(text: string): string | undefined {
    const language = this.#detector?.detect(text).language;
    return language ? language : undefined;
  }
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
