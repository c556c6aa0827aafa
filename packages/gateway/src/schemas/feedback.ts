import { z } from 'zod';

/** `POST /v1/feedback`: a score for an answer the gateway gave (1 = good). */
export const FeedbackRequestSchema = z.strictObject({
  request_id: z.string().min(1, 'request_id must be a non-empty string'),
  score: z.number().min(0, 'score must be in [0,1]').max(1, 'score must be in [0,1]'),
});
export type FeedbackRequest = z.infer<typeof FeedbackRequestSchema>;

/**
 * What `POST /v1/feedback` answers: whether a learning strategy that routed the request took the score; when none
 * did, why (`reason`, `message`).
 */
export type FeedbackResponse = { accepted: true } | { accepted: false; reason: 'not_pending'; message: string };

/**
 * The answer when no strategy took the score: no decision of the request waits for feedback in this process. The
 * gateway cannot tell the causes apart (the ledger is shared, learning state is not), so the message lists them.
 */
export const FEEDBACK_NOT_PENDING: FeedbackResponse = {
  accepted: false,
  reason: 'not_pending',
  message:
    'No routing decision of this request is waiting for feedback in this gateway process: it was routed by a strategy that does not learn from feedback (only adaptive does) or served from the cache, it was rated already, it was forgotten (adaptive keeps maxPending decisions, and a restart forgets them all), the deployment that answered was replaced since by another model under its name (what adaptive learned of the old one is dropped), or another gateway process routed it (adaptive learns per process: send feedback to the process that served the call)',
};
