import { LLMError } from '../../errors/llm-error.js';

/** What onnxruntime says about one graph input or output (the part used here). */
export interface GraphValue {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: ReadonlyArray<number | string>;
}

export interface GraphSignature {
  inputs: readonly GraphValue[];
  outputs: readonly GraphValue[];
}

/** Which inputs a graph declares and which output to read. */
export interface GraphIO {
  /** Element type of the id inputs. */
  idType: 'int64' | 'int32';
  attentionMask: boolean;
  positionIds: boolean;
  tokenTypeIds: boolean;
  /** Output to read: `logits` (generate), or the embedding output. */
  output: string;
  /** Embedding outputs: per token ([batch, seq, dim], pooled here) or per sentence ([batch, dim]). */
  outputKind: 'logits' | 'tokens' | 'sentence';
}

const FEEDABLE = new Set(['input_ids', 'attention_mask', 'position_ids', 'token_type_ids']);
const EMBEDDING_OUTPUTS = ['sentence_embedding', 'last_hidden_state', 'token_embeddings'];

/**
 * Checks that a graph has what the task needs and nothing the engine cannot feed; the error names
 * each missing or unfeedable input/output and lists what the graph has.
 */
export function planGraphIO(graph: GraphSignature, task: 'generate' | 'embed', file: string, outputOverride?: string): GraphIO {
  const problems: string[] = [];
  const inputs = new Map(graph.inputs.map((v) => [v.name, v]));
  const outputs = new Map(graph.outputs.map((v) => [v.name, v]));

  const ids = inputs.get('input_ids');
  if (!ids) problems.push('missing input "input_ids" [batch, seq]');
  else if (!ids.isTensor || (ids.type !== 'int64' && ids.type !== 'int32')) problems.push(`input "input_ids" must be an int64 or int32 tensor (it is ${ids.type ?? 'not a tensor'})`);

  const extra = graph.inputs.map((v) => v.name).filter((n) => !FEEDABLE.has(n));
  if (extra.some((n) => n.startsWith('past_key_values') || n === 'use_cache_branch')) {
    problems.push(`inputs for a KV cache (${extra.join(', ')}) are not supported: export the model without past key values`);
  } else if (extra.length > 0) {
    problems.push(`inputs the engine cannot feed: ${extra.map((n) => `"${n}"`).join(', ')}`);
  }

  let output: string | undefined;
  let outputKind: GraphIO['outputKind'] = 'logits';
  if (task === 'generate') {
    const logits = outputs.get('logits');
    if (!logits) problems.push('missing output "logits" [batch, seq, vocab]');
    else if (logits.type !== undefined && logits.type !== 'float32') problems.push(`output "logits" must be float32 (it is ${logits.type})`);
    output = 'logits';
  } else {
    output = outputOverride ?? EMBEDDING_OUTPUTS.find((n) => outputs.has(n));
    const value = output === undefined ? undefined : outputs.get(output);
    if (!value) {
      problems.push(outputOverride ? `missing output "${outputOverride}" (options.output)` : `missing an embedding output (one of ${EMBEDDING_OUTPUTS.map((n) => `"${n}"`).join(', ')})`);
    } else {
      if (value.type !== undefined && value.type !== 'float32') problems.push(`output "${value.name}" must be float32 (it is ${value.type})`);
      const rank = value.shape?.length;
      outputKind = rank === 2 || (rank === undefined && value.name === 'sentence_embedding') ? 'sentence' : 'tokens';
    }
  }

  if (problems.length > 0) {
    throw new LLMError({
      code: 'config_invalid',
      message:
        `ONNX graph ${file} does not fit the onnx engine (task ${task}): ${problems.join('; ')}. ` +
        `Its inputs: ${graph.inputs.map((v) => v.name).join(', ') || 'none'}; its outputs: ${graph.outputs.map((v) => v.name).join(', ') || 'none'}.`,
      param: 'path',
      provider: 'onnx',
    });
  }
  return {
    idType: ids?.type === 'int32' ? 'int32' : 'int64',
    attentionMask: inputs.has('attention_mask'),
    positionIds: inputs.has('position_ids'),
    tokenTypeIds: inputs.has('token_type_ids'),
    output: output!,
    outputKind,
  };
}
