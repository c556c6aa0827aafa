/** Which split an example belongs to, when the data says so. */
export type Split = 'train' | 'test';

/** One prompt with the observed outcome of every model on it. */
export interface RoutingExample {
  /** Unique within the dataset. */
  id: string;
  prompt: string;
  /** Benchmark or task the prompt comes from (`mmlu/anatomy`, `gsm8k`, `arc_challenge`...). */
  task: string;
  split?: Split;
  /**
   * Examples with the same group stay in one cross-validation fold (default: those with the same
   * normalized prompt text). The two turns of one MT-Bench question share one: turn 2 repeats turn 1.
   */
  group?: string;
  /** Quality per model (index = `RoutingDataset.models`), in [0,1]; NaN when that model has no outcome. */
  quality: number[];
  /** Real cost in USD per model for this prompt, when the data has it (NaN when one is missing). */
  cost?: number[];
}

export type DatasetFormat = 'routellm' | 'routerbench' | 'open7b' | 'long';

/** Per-prompt outcomes of several models: what the learned router trains and is evaluated on. */
export interface RoutingDataset {
  /** Human name (file or folder it came from). */
  name: string;
  format: DatasetFormat;
  models: string[];
  examples: RoutingExample[];
  /** Two-model data (RouteLLM): index of the weak and the strong model in `models`. */
  pair?: { weak: number; strong: number };
}
