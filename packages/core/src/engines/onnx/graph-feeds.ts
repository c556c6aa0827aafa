import type { GraphIO } from './graph-io.js';
import type { OrtModule, OrtTensor } from './ort-types.js';

export type { OrtModule } from './ort-types.js';

export interface Feeds {
  feeds: Record<string, OrtTensor>;
  /** [batch, seq]: the padded length. */
  dims: [number, number];
  /** Attention mask, row-major [batch, seq]: 1 for real tokens, 0 for padding. */
  mask: Uint8Array;
}

function idTensor(ort: OrtModule, type: GraphIO['idType'], values: ArrayLike<number>, dims: [number, number]): OrtTensor {
  if (type === 'int32') return new ort.Tensor('int32', Int32Array.from(values), dims);
  return new ort.Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims);
}

/**
 * The graph inputs for a batch of token rows, right-padded with `padId` to the longest row:
 * `input_ids`, and `attention_mask`, `position_ids` (0..n-1), `token_type_ids` (zeros) when declared.
 */
export function buildFeeds(ort: OrtModule, io: GraphIO, rows: readonly (readonly number[])[], padId: number): Feeds {
  const batch = rows.length;
  const seq = Math.max(...rows.map((r) => r.length));
  const dims: [number, number] = [batch, seq];
  const ids = new Array<number>(batch * seq).fill(padId);
  const mask = new Uint8Array(batch * seq);
  rows.forEach((row, b) =>
    row.forEach((id, t) => {
      ids[b * seq + t] = id;
      mask[b * seq + t] = 1;
    }),
  );
  const feeds: Record<string, OrtTensor> = { input_ids: idTensor(ort, io.idType, ids, dims) };
  if (io.attentionMask) feeds['attention_mask'] = idTensor(ort, io.idType, mask, dims);
  if (io.positionIds) feeds['position_ids'] = idTensor(ort, io.idType, Array.from({ length: batch * seq }, (_, i) => i % seq), dims);
  if (io.tokenTypeIds) feeds['token_type_ids'] = idTensor(ort, io.idType, new Array<number>(batch * seq).fill(0), dims);
  return { feeds, dims, mask };
}
