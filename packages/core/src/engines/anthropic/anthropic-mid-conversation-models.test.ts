import { describe, expect, it } from 'vitest';
import { anthropicDeploymentTakesMidConversationSystem, anthropicModelTakesMidConversationSystem } from './anthropic-mid-conversation-models.js';

describe('anthropicModelTakesMidConversationSystem', () => {
  it('is true for Claude Opus 4.8 ids of the Claude API: the alias, dated snapshots, the dotted spelling, any case', () => {
    for (const id of ['claude-opus-4-8', 'claude-opus-4-8-20260528', 'claude-opus-4.8', 'Claude-Opus-4-8', ' claude-opus-4-8 ']) {
      expect(anthropicModelTakesMidConversationSystem(id), id).toBe(true);
    }
  });

  it('is false for every other model, and for Bedrock and Vertex ids (those platforms do not take the feature)', () => {
    for (const id of [
      'claude-opus-4-7',
      'claude-opus-4-80',
      'claude-opus-4-8-fast',
      'claude-opus-4',
      'claude-opus-4-1-20250805',
      'claude-sonnet-4-8',
      'claude-sonnet-4-5',
      'claude-opus-5',
      'claude-3-opus-20240229',
      'anthropic.claude-opus-4-8-v1:0',
      'us.anthropic.claude-opus-4-8-v1:0',
      'claude-opus-4-8@20260528',
      'claude-opus-4-8-2026',
      'claude-test-1',
      '',
    ]) {
      expect(anthropicModelTakesMidConversationSystem(id), id).toBe(false);
    }
  });
});

describe('anthropicDeploymentTakesMidConversationSystem', () => {
  it('is the model test, off on the clouds without the feature (Microsoft Foundry, Google, Bedrock hosts)', () => {
    expect(anthropicDeploymentTakesMidConversationSystem('claude-opus-4-8', 'https://api.anthropic.com')).toBe(true);
    expect(anthropicDeploymentTakesMidConversationSystem('claude-opus-4-8', 'http://127.0.0.1:4000/v1')).toBe(true);
    expect(anthropicDeploymentTakesMidConversationSystem('claude-opus-4-8', 'https://litellm.internal.example')).toBe(true);
    expect(anthropicDeploymentTakesMidConversationSystem('claude-opus-4-8', 'not a url')).toBe(true);
    expect(anthropicDeploymentTakesMidConversationSystem('claude-sonnet-4-5', 'https://api.anthropic.com')).toBe(false);
    for (const baseURL of [
      'https://my-resource.services.ai.azure.com/anthropic',
      'https://MY-RESOURCE.services.ai.azure.com/anthropic/v1',
      'https://us-east5-aiplatform.googleapis.com',
      'https://bedrock-runtime.us-east-1.amazonaws.com',
    ]) {
      expect(anthropicDeploymentTakesMidConversationSystem('claude-opus-4-8', baseURL), baseURL).toBe(false);
    }
  });
});
