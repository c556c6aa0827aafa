import type { GenerateRequest } from '../spec/index.js';
import { matchesName, modelNotFoundError, unfitReason, type CandidateQuery } from './candidates.js';
import type { RouterDeployment } from './deployment.js';
import { impliedCapabilities } from './request.js';
import type { RouterCallOptions } from './types.js';

/**
 * The deployments a call may be served a cached answer of, which are also the only ones whose answer to it is
 * stored: of `deployments` (the call's tenant view), those its `allowedModels` name and, when it names a
 * `model`, that carry the name (or alias), fit to serve the request (enabled, region, capabilities, context
 * window). Circuits and limits are left out: they change by the second, the answer does not; so is
 * `streaming`: a streamed and a non-streamed call share answers.
 *
 * A named model that no deployment the caller may use carries throws `model_not_found`: the router then skips
 * the lookup (a cached answer is never served to a call that would be refused without the cache) and lets
 * planning fail the call with the error it gives with the cache off. Costs one pass over `deployments`, no
 * ranking and no strategy. `estimatedInputTokens` is the request's estimate (the call computes it once, for this
 * and for planning).
 */
export function cacheMembers(
  deployments: readonly RouterDeployment[],
  request: GenerateRequest,
  options: RouterCallOptions,
  estimatedInputTokens: number,
): RouterDeployment[] {
  const { model, allowedModels } = options;
  const query: CandidateQuery = {
    region: options.region,
    required: impliedCapabilities(request, false, options.requiredCapabilities),
    estimatedInputTokens,
    maxTokens: request.maxTokens,
  };
  const members: RouterDeployment[] = [];
  let named = model === undefined;
  for (let i = 0; i < deployments.length; i++) {
    const d = deployments[i]!;
    if (model !== undefined && !matchesName(d, model)) continue;
    if (allowedModels && !allowedModels.some((n) => matchesName(d, n))) continue;
    named = true;
    if (unfitReason(d, query) === undefined) members.push(d);
  }
  if (!named) throw modelNotFoundError(deployments, model!, allowedModels);
  return members;
}

/**
 * The scope's name of a member: its name and the version of what decides its answers (`name~<answerVersion>`),
 * so an answer is filed under the deployment as configured when it gave it: after `load()` or `setTenant`
 * replaces it with one that answers differently (another model, server, engine options), its earlier answers
 * are not served; a change of routing fields only (priority, limits, timeouts, key) keeps them.
 */
export function memberScopeName(d: RouterDeployment): string {
  return `${d.name}~${d.answerVersion}`;
}
