import { z } from 'zod';

/** The namespaced router extension clients may add to a request body (`llmrr: {...}`). Unknown keys are refused. */
export const LlmrrExtensionSchema = z
  .strictObject({
    /** Routing strategy for this call (overrides the tenant's preference and the config). */
    strategy: z.string().min(1).optional(),
    /** Return the routing decision (candidates, scores, reason) in the response. */
    explain: z.boolean().optional(),
    /** Deployment names to fall back to for this call. */
    fallbacks: z.array(z.string().min(1)).optional(),
    /** `false` bypasses the exact cache for this call. */
    cache: z.boolean().optional(),
  })
  .describe('Router extension: strategy, explain, fallbacks, cache');

export type LlmrrExtension = z.infer<typeof LlmrrExtensionSchema>;
