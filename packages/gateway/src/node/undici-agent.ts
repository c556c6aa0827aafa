import type { Agent as UndiciAgent } from 'undici';
// @ts-expect-error -- undici publishes no types for its module paths; the index's types describe this class.
import AgentClass from 'undici/lib/dispatcher/agent.js';

/**
 * undici's connection-pooling `Agent`, imported by its own module path: the package's index loads all of
 * undici (its fetch, WebSocket, EventSource, mock and cache modules), code the gateway never runs. Loading only
 * the dispatcher keeps the gateway 5-8 MB smaller idle and up to 3 MB under load (docs/benchmarks.md,
 * "Memory"). Typed with only what the index does not add: the index also puts `request`, `stream`,
 * `pipeline`, `connect` and `upgrade` on every dispatcher, which an Agent from this path lacks. undici is
 * pinned to patch releases (`~7.30.2`) for this path; `upstream-fetch.test.ts` fails if a new undici moves it.
 */
export type Agent = Pick<UndiciAgent, 'dispatch' | 'close' | 'destroy'>;
export const Agent = AgentClass as new (options?: UndiciAgent.Options) => Agent;
