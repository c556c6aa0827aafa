import type { CascadeConfig } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import type { GenerateRequest } from '../../spec/index.js';
import { ARITHMETIC_DEFAULT_THRESHOLD, arithmeticScore, checkArithmeticRequest, textOnlyRequestCheck } from './arithmetic-verifier.js';
import { learnedVerifier, loadLearnedScorer } from './learned-verifier.js';
import type { CascadeInfo, CascadeVerifier, CascadeVerifierBound } from './types.js';

/** A configured cascade with its verifier resolved. */
export interface ResolvedCascade {
  readonly name: string;
  readonly weak: string;
  readonly strong: string;
  readonly verifier: string;
  readonly threshold: number;
  readonly onStrongFailure: CascadeConfig['onStrongFailure'];
  readonly score: CascadeVerifier;
  /** Refuses requests the verifier cannot judge, before any call (built-in verifiers only). */
  readonly check: ((request: GenerateRequest, cascade: string) => void) | undefined;
  readonly info: CascadeInfo;
}

interface BuiltinVerifier {
  score: CascadeVerifier;
  threshold: number;
  check: (request: GenerateRequest, cascade: string) => void;
}

const BUILTIN_VERIFIERS: Readonly<Record<string, BuiltinVerifier>> = {
  arithmetic: { score: arithmeticScore, threshold: ARITHMETIC_DEFAULT_THRESHOLD, check: checkArithmeticRequest },
};

/** The built-in verifier that reads a trained scorer file (`verifierModel`). */
const LEARNED = 'learned';
const checkLearnedRequest = textOnlyRequestCheck(LEARNED);

/** Names of the verifiers built into core. */
export const BUILTIN_VERIFIER_NAMES: readonly string[] = [...Object.keys(BUILTIN_VERIFIERS), LEARNED];

function configError(param: string, message: string): LLMError {
  return new LLMError({ code: 'config_invalid', message: `Invalid router config:\n  ${param}: ${message}`, param, details: [{ path: param, message }] });
}

/** A count or a rate of a verifier's bound: a finite non-negative number. */
const isBoundNumber = (n: unknown): n is number => typeof n === 'number' && n >= 0 && n < Infinity;

/** Refuses a custom verifier's `bound` (`CascadeVerifierBound`) that is not one, naming the field. */
function checkBound(bound: unknown, param: string): void {
  const b = bound as Partial<Record<keyof CascadeVerifierBound, unknown>> | null;
  if (typeof b !== 'object' || b === null) throw configError(param, 'must be an object { promptTokens, outputTokens, price: { input, output } }');
  for (const k of ['promptTokens', 'outputTokens'] as const) if (!isBoundNumber(b[k])) throw configError(`${param}.${k}`, 'must be a non-negative number of tokens');
  const price = b.price as Partial<Record<'input' | 'output', unknown>> | null | undefined;
  if (typeof price !== 'object' || price === null) throw configError(`${param}.price`, 'must be an object { input, output } (USD per 1M tokens)');
  for (const k of ['input', 'output'] as const) if (!isBoundNumber(price[k])) throw configError(`${param}.price.${k}`, 'must be a non-negative number (USD per 1M tokens)');
}

/** A frozen copy of a checked bound (the verifier's own object stays the caller's). */
function boundOf(b: CascadeVerifierBound): CascadeVerifierBound {
  return Object.freeze({ promptTokens: b.promptTokens, outputTokens: b.outputTokens, price: Object.freeze({ input: b.price.input, output: b.price.output }) });
}

/**
 * The router's cascades by name (`routing.cascades`), with their verifiers resolved against the built-in
 * ones and the router option `verifiers`. `create` throws `config_invalid` naming the field (an unknown
 * verifier, a custom verifier without a threshold, a custom verifier that is not a function).
 */
export class CascadeSet {
  private readonly byName = new Map<string, ResolvedCascade>();

  private constructor(readonly list: readonly ResolvedCascade[]) {
    for (const c of list) this.byName.set(c.name, c);
  }

  /** The cascades of a config, or undefined when it has none (so ordinary calls check nothing more). */
  static create(configs: readonly CascadeConfig[] | undefined, verifiers: Readonly<Record<string, CascadeVerifier>> | undefined, baseDir?: string): CascadeSet | undefined {
    if (verifiers !== undefined && (typeof verifiers !== 'object' || verifiers === null)) {
      throw configError('verifiers', 'must be an object mapping verifier names to functions');
    }
    for (const [name, fn] of Object.entries(verifiers ?? {})) {
      if (BUILTIN_VERIFIER_NAMES.includes(name)) throw configError(`verifiers.${name}`, `"${name}" is a built-in verifier; give yours another name`);
      if (typeof fn !== 'function') throw configError(`verifiers.${name}`, `must be a function (request, weakResult) => number, got ${fn === null ? 'null' : typeof fn}`);
      if (fn.bound !== undefined) checkBound(fn.bound, `verifiers.${name}.bound`);
    }
    if (!configs || configs.length === 0) return undefined;
    const list = configs.map((c, i): ResolvedCascade => {
      const at = `routing.cascades.${i}`;
      if (c.verifierModel !== undefined && c.verifier !== LEARNED) {
        throw configError(`${at}.verifierModel`, `is read by the learned verifier only; cascade "${c.name}" uses "${c.verifier}" (set verifier: learned, or remove verifierModel)`);
      }
      let builtin = Object.hasOwn(BUILTIN_VERIFIERS, c.verifier) ? BUILTIN_VERIFIERS[c.verifier] : undefined;
      if (c.verifier === LEARNED) {
        if (c.verifierModel === undefined) throw configError(`${at}.verifierModel`, `cascade "${c.name}" uses the learned verifier: set verifierModel to the file of llmrr router train --cascade`);
        const scorer = loadLearnedScorer(c.verifierModel, baseDir, `${at}.verifierModel`);
        builtin = { score: learnedVerifier(scorer), threshold: scorer.threshold, check: checkLearnedRequest };
      }
      const custom = verifiers && Object.hasOwn(verifiers, c.verifier) ? verifiers[c.verifier] : undefined;
      if (!builtin && !custom) {
        const known = [...BUILTIN_VERIFIER_NAMES, ...Object.keys(verifiers ?? {})].join(', ');
        throw configError(`${at}.verifier`, `unknown verifier "${c.verifier}" (known: ${known}; custom ones go in the router option verifiers)`);
      }
      const threshold = c.threshold ?? builtin?.threshold;
      if (threshold === undefined) {
        throw configError(`${at}.threshold`, `cascade "${c.name}" uses the custom verifier "${c.verifier}", which has no default threshold: set threshold`);
      }
      return {
        name: c.name,
        weak: c.weak,
        strong: c.strong,
        verifier: c.verifier,
        threshold,
        onStrongFailure: c.onStrongFailure,
        score: builtin ? builtin.score : custom!,
        check: builtin?.check,
        info: {
          weak: c.weak,
          strong: c.strong,
          verifier: c.verifier,
          ...(c.verifierModel !== undefined ? { verifierModel: c.verifierModel } : {}),
          threshold,
          onStrongFailure: c.onStrongFailure,
          ...(!builtin && custom!.bound !== undefined ? { verifierBound: boundOf(custom!.bound) } : {}),
        },
      };
    });
    return new CascadeSet(list);
  }

  get(name: string | undefined): ResolvedCascade | undefined {
    return name === undefined ? undefined : this.byName.get(name);
  }
}
