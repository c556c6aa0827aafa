import { describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { syntheticDataset } from '../__fixtures__/synthetic-data.js';
import { RouterModel } from '../training/router-model.js';
import { trainRouterModel } from '../training/train-router-model.js';
import { evaluateModel } from './evaluate-dataset.js';

/** `router eval --model <file> --holdout-task <task>`: never scores a model on prompts it trained on. */
describe('evaluateModel with holdoutTask', () => {
  const data = syntheticDataset(); // train split: 300 prompts (150 math), test split: 120 (60 math)
  // `llmrr router train --data <data>` trains on every train-split prompt, math included.
  const model = new RouterModel(trainRouterModel(data, { hashDim: 1 << 10, kinds: ['logistic'], select: 'logistic' }));

  it("scores only the task's test split when the data has one", () => {
    expect(model.artifact.training.tasks).toContain('math');
    const report = evaluateModel(data, model, { holdoutTask: 'math' });
    const mathTest = data.examples.filter((e) => e.task === 'math' && e.split === 'test').length;
    expect(report.n_test).toBe(mathTest);
    expect(report.protocol).toBe('given model on task math, its test split (the model trained on this task)');
  });

  it('refuses when the model trained on the task and the data has no split for it', () => {
    const unsplit = { ...data, examples: data.examples.map(({ split: _, ...e }) => e) };
    let error: unknown;
    try {
      evaluateModel(unsplit, model, { holdoutTask: 'math' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LLMError);
    expect((error as LLMError).param).toBe('holdoutTask');
    expect((error as LLMError).message).toMatch(/trained on task math/);
  });

  it('scores every prompt of a task the model did not train on', () => {
    const writingOnly = { ...data, examples: data.examples.filter((e) => e.task === 'writing').map(({ split: _, ...e }) => e) };
    const mathOnly = new RouterModel(trainRouterModel({ ...data, examples: data.examples.filter((e) => e.task === 'math') }, { hashDim: 1 << 10, kinds: ['logistic'], select: 'logistic' }));
    expect(mathOnly.artifact.training.tasks).toEqual(['math']);
    const report = evaluateModel(writingOnly, mathOnly, { holdoutTask: 'writing' });
    expect(report.n_test).toBe(writingOnly.examples.length);
    expect(report.protocol).toBe('given model on task writing');
  });
});
