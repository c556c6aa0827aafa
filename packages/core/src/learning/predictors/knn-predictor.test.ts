import { describe, expect, it } from 'vitest';
import { syntheticDataset } from '../__fixtures__/synthetic-data.js';
import { RouterModel, parseRouterModel } from '../training/router-model.js';
import { trainRouterModel } from '../training/train-router-model.js';

describe('kNN router model saved and loaded', () => {
  it('predicts the same after the JSON round trip `router train --out` does, when some outcomes are missing', () => {
    const data = syntheticDataset();
    // Data with gaps (RouterBench has empty cells; the long format has models without a row for a prompt):
    // the "poet" outcome is missing on every third prompt.
    data.examples.forEach((e, i) => {
      if (i % 3 === 0) e.quality[2] = NaN;
    });
    const artifact = trainRouterModel(data, { hashDim: 1 << 10, kinds: ['knn'], select: 'knn' });
    expect(artifact.predictor.kind).toBe('knn');
    const inMemory = new RouterModel(artifact);
    const fromFile = parseRouterModel(JSON.stringify(artifact), 'model.json');
    const prompt = 'write a poem about the sea.';
    const a = Array.from(inMemory.predict(prompt));
    const b = Array.from(fromFile.predict(prompt));
    expect(b).toEqual(a);
    // Missing outcomes are written as null (JSON has no NaN) and read back as missing, not as 0.
    const saved = JSON.parse(JSON.stringify(artifact)) as { predictor: { quality: Array<Array<number | null>> } };
    expect(saved.predictor.quality[0]![2]).toBeNull();
  });
});
