import { describe, expect, it } from 'vitest';
import { LocalUseEmbedder } from './local-use-embedder.js';
import { UseLiteLanguageLoader } from './use-lite-language.js';

describe('UseLiteLanguageLoader', () => {
  it('a detector that cannot be loaded is warned about once, the language is not known meanwhile, and it is tried again a minute later', async () => {
    let t = 0;
    let loads = 0;
    let fail = true;
    const warnings: string[] = [];
    const loader = new UseLiteLanguageLoader(
      async () => {
        loads++;
        if (fail) throw new Error("Cannot find package 'eld'");
        return { detect: (text: string) => ({ language: text.startsWith('Wie') ? 'de' : '' }) };
      },
      (m) => warnings.push(m),
      () => t,
    );
    await loader.ready();
    await loader.ready();
    expect(loader.detect('Wie geht es?')).toBeUndefined();
    expect(loads).toBe(1);
    expect(warnings).toEqual([expect.stringMatching(/^\[llmrr\] local-use embedder: cannot load the language detector \(eld@2\.1\.0: Cannot find package 'eld'\).*install eld@2\.1\.0/)]);
    fail = false;
    t += 60_000;
    // Two callers at once share one load.
    await Promise.all([loader.ready(), loader.ready()]);
    expect(loads).toBe(2);
    expect(warnings).toHaveLength(1);
    expect(loader.detect('Wie geht es?')).toBe('de');
    // '' (no language told) is not known.
    expect(loader.detect('42')).toBeUndefined();
    await loader.ready();
    expect(loads).toBe(2);
  });

  it('a log that throws fails nothing', async () => {
    const loader = new UseLiteLanguageLoader(
      () => Promise.reject(new Error('EACCES')),
      () => {
        throw new Error('log down');
      },
    );
    await expect(loader.ready()).resolves.toBeUndefined();
  });
});

describe('LocalUseEmbedder: the language of a text (eld)', () => {
  it('reports a German, French or Spanish text as another language once prepared; English, code and formulas as none', async () => {
    const use = new LocalUseEmbedder();
    await use.prepare();
    const other = (text: string): string | undefined => use.coverage(text.toLowerCase(), text)?.otherLanguage;
    expect(other('Wie kann ich eine Datei in Python öffnen?')).toBe('de');
    expect(other('Comment puis-je ouvrir un fichier en Python ?')).toBe('fr');
    expect(other('¿Cómo puedo abrir un archivo en Python?')).toBe('es');
    expect(other('How can I open a file in Python?')).toBeUndefined();
    expect(other('def add(a, b):\n    return a + b')).toBeUndefined();
    expect(other('2 + 2')).toBeUndefined();
  });
});
