/** Tiny models on disk for the onnx engine tests: the tokenizers and graphs several test files share. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sparseMatrix, writeDecoderGraph, type Matrix } from './onnx-graphs.js';
import { byteTokenizerJson, wordTokenizerJson, writeJson } from './tokenizers.js';

/** The words of the chain graph: the specials [PAD], [UNK] and </s> first, then the words of the chain. */
export const CHAIN_WORDS: readonly string[] = ['[PAD]', '[UNK]', '</s>', 'the', 'cat', 'sat', 'on', 'a', 'mat'];

/** The chain the word graph follows greedily: the -> cat -> sat -> on -> a -> mat -> </s>. */
export const CHAIN_NEXT: ReadonlyArray<readonly [string, string]> = [
  ['the', 'cat'],
  ['cat', 'sat'],
  ['sat', 'on'],
  ['on', 'a'],
  ['a', 'mat'],
  ['mat', '</s>'],
];

/** `<dir>/words/tokenizer.json` over `words` (whose first three are [PAD], [UNK], </s>), without tokenizer_config.json: eos is found by name (</s>). */
export function writeWordsTokenizer(dir: string, words: readonly string[]): void {
  mkdirSync(join(dir, 'words'));
  writeJson(join(dir, 'words', 'tokenizer.json'), wordTokenizerJson(words, ['[PAD]', '[UNK]', '</s>']));
}

/** The embedding of a graph that says, after each word `a` of `next`, its `b` (ids are positions in `words`). */
export function nextWordMatrix(words: readonly string[], next: ReadonlyArray<readonly [string, string]>): Matrix {
  return sparseMatrix(words.length, words.length, next.map(([a, b]): [number, number] => [words.indexOf(a), words.indexOf(b)]));
}

/** `<dir>/words/tokenizer.json` over `CHAIN_WORDS` and `<dir>/chain.onnx`, the graph of the chain `CHAIN_NEXT`. */
export function writeChainModel(dir: string): void {
  writeWordsTokenizer(dir, CHAIN_WORDS);
  writeDecoderGraph(join(dir, 'chain.onnx'), { embed: nextWordMatrix(CHAIN_WORDS, CHAIN_NEXT) });
}

/**
 * `<dir>/bytes/`: a byte-level tokenizer (eos `<|endoftext|>`) and `model.onnx`, which says
 * 'a' -> 0xC3 -> 0xA9 -> '!' -> <|endoftext|> ("\u00e9" is two byte tokens).
 */
export function writeByteChainModel(dir: string): void {
  mkdirSync(join(dir, 'bytes'));
  writeJson(join(dir, 'bytes', 'tokenizer.json'), byteTokenizerJson());
  writeJson(join(dir, 'bytes', 'tokenizer_config.json'), { eos_token: '<|endoftext|>' });
  const bytes = sparseMatrix(257, 257, [
    [0x61, 0xc3],
    [0xc3, 0xa9],
    [0xa9, 0x21],
    [0x21, 256],
  ]);
  writeDecoderGraph(join(dir, 'bytes', 'model.onnx'), { embed: bytes });
}
