// A second router with its own inline v1 config, for sorting tickets.
import { LLMRouter } from 'llm-runner-router';

const triage = new LLMRouter({
  // one mock model per queue
  models: ['mock://billing', 'mock://technical'],
  strategy: 'roundrobin', // spread the load
  autoInit: true,
});

export async function classify(ticket) {
  const result = await triage.quick(`Which queue is this for? ${ticket}`);
  return result;
}

export async function stop() {
  await triage.cleanup();
}
