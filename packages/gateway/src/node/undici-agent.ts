import type { Agent as UndiciAgent } from 'undici';
// @ts-ignore -- undici publishes no types for its module paths; its index's types describe this class.
import AgentClass from 'undici/lib/dispatcher/agent.js';

/**
 * undici's connection-pooling `Agent`, imported by its own module path: the package's index loads all of
 * undici (its fetch, WebSocket, EventSource, mock and cache modules), code the gateway's hot path never runs.
 * Loading only the dispatcher keeps the gateway about 6-8 MB smaller idle and 3 MB under load
 * (docs/benchmarks.md, "Memory"). `upstream-fetch.test.ts` fails if a new undici moves the file.
 */
export const Agent = AgentClass as typeof UndiciAgent;
export type Agent = UndiciAgent;
