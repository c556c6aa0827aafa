import { z } from 'zod';

/** `POST /v1/feedback`: a score for an answer the gateway gave (1 = good). */
export const FeedbackRequestSchema = z.strictObject({
  request_id: z.string().min(1, 'request_id must be a non-empty string'),
  score: z.number().min(0, 'score must be in [0,1]').max(1, 'score must be in [0,1]'),
});
export type FeedbackRequest = z.infer<typeof FeedbackRequestSchema>;

/** What `POST /v1/feedback` answers: whether a learning strategy that routed the request took the score. */
export interface FeedbackResponse {
  accepted: boolean;
}
