/** FNV-1a over UTF-16 code units, 32 bits, from a given offset basis. */
function fnv1a(text: string, basis: number): string {
  let h = basis;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * A stable id for a Gemini function call, which usually comes without one: a hash of the response id,
 * the call's position in the answer, its name and its arguments. The same answer gets the same ids
 * whether streamed or not, and replays (caches, retries of a recorded answer) keep them.
 * An id sent by the provider is used as is.
 */
export function geminiToolCallId(call: { id?: string; name: string; args?: unknown }, index: number, responseId: string | undefined): string {
  if (call.id) return call.id;
  const key = `${responseId ?? ''}\u0000${index}\u0000${call.name}\u0000${JSON.stringify(call.args ?? {})}`;
  return `call_${fnv1a(key, 2166136261)}${fnv1a(key, 0x811c9dc5 ^ 0x5bd1e995)}`;
}
