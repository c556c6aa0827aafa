/**
 * Tiny ONNX graphs written with onnx-proto for the onnx engine tests. Real graphs, run by the real
 * onnxruntime; only their weights are chosen by the tests.
 */
import { writeFileSync } from 'node:fs';
import { onnx } from 'onnx-proto';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const INT32 = onnx.TensorProto.DataType.INT32;

export interface Matrix {
  data: Float32Array;
  dims: [number, number];
}

type Dim = number | string;

function initializer(name: string, m: Matrix): onnx.ITensorProto {
  return { name, dims: m.dims, dataType: FLOAT, rawData: new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength) };
}

function valueInfo(name: string, elemType: number, dims: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  };
}

function gather(table: string, indices: string, output: string): onnx.INodeProto {
  return { opType: 'Gather', input: [table, indices], output: [output], attribute: [{ name: 'axis', i: 0, type: onnx.AttributeProto.AttributeType.INT }] };
}

function writeModel(path: string, graph: onnx.IGraphProto): string {
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'llmrr-tests', graph });
  writeFileSync(path, onnx.ModelProto.encode(model).finish());
  return path;
}

export interface DecoderGraphSpec {
  /** Token embedding table [vocab, dim]. */
  embed: Matrix;
  /** Projection [dim, vocab]; without it the embedding rows are the logits (dim = vocab). */
  proj?: Matrix;
  /** Added to the logits of every position, by position id: [maxPositions, vocab]. Declares `position_ids`. */
  positions?: Matrix;
  /** Declare an (unused) `attention_mask` input. Default true. */
  attentionMask?: boolean;
  /** Element type of the id inputs. Default int64. */
  idType?: 'int64' | 'int32';
  /** Name of the logits output. Default `logits`. */
  logitsName?: string;
  /** Name of the ids input. Default `input_ids`. */
  idsName?: string;
  /** More declared inputs (float [batch, 1, seq, 1]), e.g. to mimic a KV-cache graph. */
  extraInputs?: string[];
}

/** logits[b, s, :] = (embed[ids[b, s]] @ proj) + positions[position_ids[b, s]]. */
export function writeDecoderGraph(path: string, spec: DecoderGraphSpec): string {
  const idType = spec.idType === 'int32' ? INT32 : INT64;
  const idsName = spec.idsName ?? 'input_ids';
  const vocab = spec.proj ? spec.proj.dims[1] : spec.embed.dims[1];
  const nodes: onnx.INodeProto[] = [gather('E', idsName, 'h')];
  const inits = [initializer('E', spec.embed)];
  let current = 'h';
  if (spec.proj) {
    nodes.push({ opType: 'MatMul', input: [current, 'W'], output: ['hw'] });
    inits.push(initializer('W', spec.proj));
    current = 'hw';
  }
  const inputs = [valueInfo(idsName, idType, ['batch', 'seq'])];
  if (spec.attentionMask ?? true) inputs.push(valueInfo('attention_mask', idType, ['batch', 'seq']));
  if (spec.positions) {
    inputs.push(valueInfo('position_ids', idType, ['batch', 'seq']));
    inits.push(initializer('P', spec.positions));
    nodes.push(gather('P', 'position_ids', 'p'), { opType: 'Add', input: [current, 'p'], output: ['hp'] });
    current = 'hp';
  }
  for (const name of spec.extraInputs ?? []) inputs.push(valueInfo(name, FLOAT, ['batch', 1, 'past', 1]));
  const logitsName = spec.logitsName ?? 'logits';
  nodes.push({ opType: 'Identity', input: [current], output: [logitsName] });
  return writeModel(path, {
    name: 'decoder',
    node: nodes,
    initializer: inits,
    input: inputs,
    output: [valueInfo(logitsName, FLOAT, ['batch', 'seq', vocab])],
  });
}

export interface EmbeddingGraphSpec {
  /** Token embedding table [vocab, dim]. */
  embed: Matrix;
  /** Token-type table [types, dim]; declares `token_type_ids`. */
  tokenTypes?: Matrix;
  /** `last_hidden_state` [batch, seq, dim] (default) or `sentence_embedding` [batch, dim] (plain mean in the graph). */
  output?: 'last_hidden_state' | 'sentence_embedding' | 'something_else';
}

/** last_hidden_state[b, s, :] = embed[ids[b, s]] + tokenTypes[token_type_ids[b, s]]. */
export function writeEmbeddingGraph(path: string, spec: EmbeddingGraphSpec): string {
  const dim = spec.embed.dims[1];
  const nodes: onnx.INodeProto[] = [gather('E', 'input_ids', 'h')];
  const inits = [initializer('E', spec.embed)];
  const inputs = [valueInfo('input_ids', INT64, ['batch', 'seq']), valueInfo('attention_mask', INT64, ['batch', 'seq'])];
  let current = 'h';
  if (spec.tokenTypes) {
    inputs.push(valueInfo('token_type_ids', INT64, ['batch', 'seq']));
    inits.push(initializer('TT', spec.tokenTypes));
    nodes.push(gather('TT', 'token_type_ids', 't'), { opType: 'Add', input: [current, 't'], output: ['ht'] });
    current = 'ht';
  }
  const output = spec.output ?? 'last_hidden_state';
  if (output === 'sentence_embedding') {
    nodes.push({
      opType: 'ReduceMean',
      input: [current],
      output: [output],
      attribute: [
        { name: 'axes', ints: [1], type: onnx.AttributeProto.AttributeType.INTS },
        { name: 'keepdims', i: 0, type: onnx.AttributeProto.AttributeType.INT },
      ],
    });
  } else {
    nodes.push({ opType: 'Identity', input: [current], output: [output] });
  }
  return writeModel(path, {
    name: 'embedder',
    node: nodes,
    initializer: inits,
    input: inputs,
    output: [valueInfo(output, FLOAT, output === 'sentence_embedding' ? ['batch', dim] : ['batch', 'seq', dim])],
  });
}

/** A seeded matrix of uniform values in [-1, 1). */
export function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { data: Float32Array.from({ length: rows * cols }, () => next() * 2 - 1), dims: [rows, cols] };
}

/** A [rows, cols] matrix with `value` at (r, c) for each given pair, 0 elsewhere. */
export function sparseMatrix(rows: number, cols: number, entries: Array<[number, number]>, value = 10): Matrix {
  const data = new Float32Array(rows * cols);
  for (const [r, c] of entries) data[r * cols + c] = value;
  return { data, dims: [rows, cols] };
}
