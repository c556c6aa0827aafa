import { describe, expect, it } from 'vitest';
import { anthropicModelTakesStrictTools, anthropicStrictToolsBeta } from './anthropic-strict-tools.js';

describe('anthropicModelTakesStrictTools', () => {
  it('the models of the structured-outputs GA list and later ones take it', () => {
    for (const id of [
      'claude-sonnet-4-5',
      'claude-sonnet-4-5-20250929',
      'claude-opus-4-5',
      'claude-haiku-4-5-20251001',
      'claude-opus-4-6',
      'claude-sonnet-4-6',
      'claude-opus-4-7',
      'claude-opus-4-8-20260528',
      'claude-opus-4.5',
      'anthropic.claude-sonnet-4-5-20250929-v1:0',
      'claude-sonnet-4-6@default',
      'claude-opus-4-7@20260101',
      'claude-test-1',
    ]) {
      expect(anthropicModelTakesStrictTools(id), id).toBe(true);
    }
  });

  it('Claude 3.x, Opus 4 / 4.1 and Sonnet 4 do not, nor the Vertex AI ids of the 4.5 models', () => {
    for (const id of [
      'claude-3-5-haiku-latest',
      'claude-3-7-sonnet-20250219',
      'claude-3-opus-20240229',
      'claude-2.1',
      'claude-instant-1.2',
      'claude-opus-4-20250514',
      'claude-opus-4-0',
      'claude-opus-4-1',
      'claude-opus-4-1-20250805',
      'claude-sonnet-4-20250514',
      'claude-sonnet-4-0',
      'CLAUDE-SONNET-4-20250514',
      'anthropic.claude-3-5-sonnet-20241022-v2:0',
      'us.anthropic.claude-opus-4-1-20250805-v1:0',
      'anthropic.claude-sonnet-4-20250514-v1:0',
      'claude-opus-4-1@20250805',
      'claude-sonnet-4',
      'claude-sonnet-4-5@20250929',
      'claude-opus-4-5@20251101',
      'claude-haiku-4-5@20251001',
    ]) {
      expect(anthropicModelTakesStrictTools(id), id).toBe(false);
    }
  });
});

describe('anthropicStrictToolsBeta', () => {
  it('the structured-outputs beta on a Microsoft Foundry host only', () => {
    expect(anthropicStrictToolsBeta('https://res.services.ai.azure.com/anthropic')).toBe('structured-outputs-2025-11-13');
    expect(anthropicStrictToolsBeta('https://api.anthropic.com')).toBeUndefined();
    expect(anthropicStrictToolsBeta('https://azure.com.example.org')).toBeUndefined();
    expect(anthropicStrictToolsBeta('not a url')).toBeUndefined();
  });
});
