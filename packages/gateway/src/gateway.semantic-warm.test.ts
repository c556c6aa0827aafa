/**
 * A gateway whose router's semantic cache embeds with local-use loads that embedder's language detector at startup, in
 * the background (`Embedder.prepare`), so the first eligible request's admission (`semanticLookupAsks`) does not pay
 * for it. Its own file: the process's detector is not loaded when it starts.
 */
import { defaultLocalEmbedder } from '@llmrr/core';
import { afterEach, expect, it } from 'vitest';
import { createHarness, mockModel, type Harness } from './test-support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it('loads the local-use language detector at startup, before any request', async () => {
  const german = (): string | undefined => defaultLocalEmbedder().coverage?.('warum ist der himmel blau?', 'Warum ist der Himmel blau?')?.otherLanguage;
  expect(german()).toBeUndefined(); // not loaded yet
  h = await createHarness({ models: [mockModel('main', { reply: 'ok' })], cache: { semantic: { enabled: true } } });
  // Bounded wait (~20 s) for the background load: no request is made.
  for (let i = 0; i < 2_000 && german() === undefined; i++) await new Promise((r) => setTimeout(r, 10));
  expect(german()).toBe('de');
}, 60_000);
