/**
 * The onnx engine types `onnxruntime-node` with local types (`ort-types.ts`), so that its published declarations do
 * not import the optional peer: the real module must fit them (checked by the type checker here) and behave as they say.
 */
import type * as Ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { OrtModule } from './ort-types.js';

/** Compiles only while the real module fits the local types. */
const fits = (m: typeof Ort): OrtModule => m;

describe('local onnxruntime-node types', () => {
  it('the real module fits them: its tensors have the type, dims and data they say', async () => {
    const ort = fits(await import('onnxruntime-node'));
    const ids = new ort.Tensor('int64', BigInt64Array.from([1n, 2n, 3n]), [1, 3]);
    expect({ type: ids.type, dims: [...ids.dims] }).toEqual({ type: 'int64', dims: [1, 3] });
    expect(ids.data).toBeInstanceOf(BigInt64Array);
    const mask = new ort.Tensor('int32', Int32Array.from([1, 1]), [1, 2]);
    expect(mask.data).toEqual(Int32Array.from([1, 1]));
  });
});
