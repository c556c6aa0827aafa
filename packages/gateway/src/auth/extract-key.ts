import type { HeaderSource } from '../http/incoming.js';

/** The API key a request presents: `Authorization: Bearer <key>` or `X-API-Key: <key>` (`x-api-key` wins when both). */
export function extractApiKey(headers: HeaderSource): string | undefined {
  const direct = headers.get('x-api-key');
  if (direct !== null && direct.trim() !== '') return direct.trim();
  const auth = headers.get('authorization');
  if (auth === null) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
  return m ? m[1]!.trim() : undefined;
}
