import { describe, expect, it } from 'vitest';
import { geminiRefusesJsonWithTools } from './gemini-json-with-tools-models.js';

describe('geminiRefusesJsonWithTools', () => {
  it('Gemini 1.5, 2.0 and 2.5 (and the moving aliases, which may name a 2.5 model) refuse JSON mode beside tools', () => {
    for (const id of ['gemini-2.5-flash', 'models/gemini-2.5-pro', 'Gemini-2.0-Flash-001', 'gemini-2.5-flash-lite-preview-09-2025', 'gemini-1.5-pro-002', 'gemini-flash-latest', 'gemini-pro-latest']) {
      expect(geminiRefusesJsonWithTools(id), id).toBe(true);
    }
  });

  it('Gemini 3 and later, and unknown ids, are sent as asked', () => {
    for (const id of ['gemini-3-pro-preview', 'gemini-3-flash-preview', 'models/gemini-3.1-pro', 'gemini-exp-1206', 'my-tuned-model', undefined]) {
      expect(geminiRefusesJsonWithTools(id), String(id)).toBe(false);
    }
  });
});
