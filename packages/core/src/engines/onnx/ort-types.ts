import type { GraphValue } from './graph-io.js';

/**
 * The parts of `onnxruntime-node` (an optional peer) the onnx engine uses, typed here rather than imported: the
 * published declarations reach them (through the engine classes), and a consumer without the peer must not get
 * TS2307 from them. `ort-types.test.ts` checks that the real module fits them. Methods and constructor signatures:
 * the real module's own (its overloads, its tensor type map) are checked against them loosely, as a method's are.
 */
export interface OrtTensor {
  readonly type: string;
  readonly dims: readonly number[];
  /** A typed array for numeric tensors (`Float32Array` for float32). */
  readonly data: unknown;
}

/** The session options the engine sets. */
export interface OrtSessionOptions {
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  executionMode?: 'sequential' | 'parallel';
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'layout' | 'all';
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

/** A loaded graph. */
export interface OrtSession {
  readonly inputMetadata: readonly GraphValue[];
  readonly outputMetadata: readonly GraphValue[];
  run(feeds: Record<string, OrtTensor>, fetches: readonly string[]): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

/** The `onnxruntime-node` module, as far as the engine uses it. */
export interface OrtModule {
  readonly Tensor: {
    new (type: 'int32', data: Int32Array, dims: readonly number[]): OrtTensor;
    new (type: 'int64', data: BigInt64Array, dims: readonly number[]): OrtTensor;
  };
  readonly InferenceSession: { create(path: string, options?: OrtSessionOptions): Promise<OrtSession> };
}
