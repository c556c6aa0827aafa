import type { RouterDeployment } from '../deployment.js';
import type { RankedCandidate } from '../types.js';

/**
 * The ranking with the remembered deployment first, or undefined when it stays as it is: the remembered
 * one is already first, is not a candidate (unfit, circuit open, at its limits, not allowed), or serves
 * another model than the strategy's first choice (a prompt cache never carries across models, so a
 * strategy choosing between models is never overridden). The others keep their order behind it.
 */
export function preferAffinity(ranked: readonly RankedCandidate[], deployment: string): RankedCandidate[] | undefined {
  const top = ranked[0];
  if (top === undefined || top.deployment.name === deployment) return undefined;
  for (let i = 1; i < ranked.length; i++) {
    const r = ranked[i]!;
    if (r.deployment.name !== deployment) continue;
    if ((r.deployment as RouterDeployment).modelId !== (top.deployment as RouterDeployment).modelId) return undefined;
    const out = [r];
    for (let j = 0; j < ranked.length; j++) if (j !== i) out.push(ranked[j]!);
    return out;
  }
  return undefined;
}
