import { describe, expect, it } from 'vitest';
import type { CachedAnswer } from '../cache/exact-cache.js';
import { LocalUseEmbedder } from '../embeddings/local-use-embedder.js';
import { UseLiteLanguageLoader } from '../embeddings/use-lite-language.js';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { SemanticCache } from './semantic-cache.js';

const scope = { models: ['m1'], tenant: 'acme' };
const ask = (content: string): GenerateRequest => ({ messages: [{ role: 'user', content }], temperature: 0 });
const answer = (text: string): Omit<CachedAnswer, 'createdAt'> => ({ text, toolCalls: [], finishReason: 'stop', usage: makeUsage(7, 2), deployment: 'm1', model: 'mock-1', provider: 'mock' });

// English questions about data and output blocks (review of 0e9a5a6: the language check read their paragraphs as
// prose, and one accented word skipped the question): stored, and a paraphrase served.
const ENGLISH: Record<string, string> = {
  'ls output with German file names': 'Why are these files listed in this order?\n```\n$ ls -1\n\u00dcbersicht_2024.pdf\nPr\u00e4sentation_Entwurf.pptx\nRechnungen_M\u00e4rz.xlsx\nLebenslauf_M\u00fcller.docx\n```',
  'CSV of Spanish names': 'How do I parse this CSV with pandas?\n```\nnombre,ciudad,pa\u00eds\nJos\u00e9 Garc\u00eda,Bogot\u00e1,Colombia\nMar\u00eda L\u00f3pez,M\u00e9dico,M\u00e9xico\nSof\u00eda Ram\u00edrez,C\u00f3rdoba,Argentina\n```',
  'JSON object (braces on 2 of 7 lines)': 'Why does JSON.parse throw on this?\n```json\n{\n  "nombre": "Jos\u00e9 Garc\u00eda",\n  "ciudad": "Bogot\u00e1",\n  "pa\u00eds": "Colombia",\n  "profesi\u00f3n": "M\u00e9dico",\n  "tel\u00e9fono": "555 1234"\n}\n```',
  'SQL INSERT ... VALUES rows': "Why does this insert fail?\n```sql\nINSERT INTO clientes (nombre, ciudad)\nVALUES\n  ('Jos\u00e9 Garc\u00eda', 'Bogot\u00e1'),\n  ('Mar\u00eda L\u00f3pez', 'M\u00e9xico'),\n  ('Sof\u00eda Ram\u00edrez', 'C\u00f3rdoba');\n```",
  'three shell commands': 'Why does this fail?\n```bash\ncd ~/T\u00e9l\u00e9chargements\nls -la\ntar xzf archive.tar.gz\n```',
  'names to sort': 'Why does sorting put these in the wrong order?\n```\n\u00c5sa\n\u00d6rjan\n\u00c4rlig\nZo\u00eb\n```',
};

describe('semantic cache: English questions about data blocks with foreign names are cached', () => {
  it.each(Object.entries(ENGLISH))('%s', async (_, q) => {
    const cache = new SemanticCache({ config: { enabled: true }, embedder: new LocalUseEmbedder() });
    try {
      expect(await cache.store(ask(q), scope, answer('A'))).toBe(true);
      expect((await cache.lookup(ask(q.replace('?', ' ?')), scope))?.answer.text).toBe('A');
    } finally {
      await cache.close();
    }
  }, 60_000);
});

describe('the language check on a fenced block with a long backtick run', () => {
  // The closing-fence pattern was not anchored: each position of a run of backticks scanned the rest of the run (8,000
  // characters: 114 ms against 0.1). At 80,000 a quadratic check takes seconds; a linear one a few milliseconds.
  it('is linear in the run (80,000 backticks well under a second)', async () => {
    const l = new UseLiteLanguageLoader();
    await l.ready();
    const t0 = performance.now();
    l.otherLanguage('Why?\n```\nx' + '`'.repeat(80_000) + 'y\n```');
    l.otherLanguage('Why?\n~~~\nx' + '~'.repeat(80_000) + 'y\n~~~');
    expect(performance.now() - t0).toBeLessThan(1_000);
  }, 60_000);
});
