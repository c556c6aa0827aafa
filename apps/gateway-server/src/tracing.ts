import { callerTraceContext, instrumentRouterWith, TRACER_NAME, type CallerTraceContext, type LLMRouter } from '@llmrr/core';
import type { GatewayLogEntry } from '@llmrr/gateway';
import { AsyncLocalStorageContextManager } from './otel-context-manager.js';
import { displayUrl, type OtelSettings } from './settings.js';

/** How long a stopping server waits for its last spans to be exported. */
const SHUTDOWN_EXPORT_MS = 3000;

/** The optional dependencies tracing needs, imported only when it is on. */
const PACKAGES = ['@opentelemetry/api', '@opentelemetry/sdk-trace', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/resources', '@opentelemetry/core'] as const;

interface Modules {
  api: typeof import('@opentelemetry/api');
  sdk: typeof import('@opentelemetry/sdk-trace');
  exporter: typeof import('@opentelemetry/exporter-trace-otlp-http');
  resources: typeof import('@opentelemetry/resources');
  core: typeof import('@opentelemetry/core');
}

export interface Tracing {
  /** Stops creating spans, then exports the spans still queued. Never rejects (a failed export is logged). */
  shutdown(): Promise<void>;
  /** For the gateway (`GatewayOptions.callerTraceContext`): model calls join their caller's trace (W3C `traceparent`). */
  callerTraceContext: CallerTraceContext;
}

export interface StartTracingOptions {
  /** Seam for tests: the dynamic import. */
  importer?: (specifier: string) => Promise<unknown>;
}

/** True when `e` says that `name` itself (not one of its own dependencies) is not installed. */
function isMissing(e: unknown, name: string): boolean {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  const named = /Cannot find (?:package|module) '([^']+)'/.exec(e instanceof Error ? e.message : String(e))?.[1];
  return named === name || named?.endsWith(`/node_modules/${name}`) === true;
}

const defaultImporter = (specifier: string): Promise<unknown> => import(specifier) as Promise<unknown>;

/**
 * Exports the router's GenAI spans over OTLP/HTTP (JSON) to `settings.tracesUrl`. When the OpenTelemetry
 * packages are not installed, logs which ones and how to add them, and returns undefined: the gateway
 * runs on without tracing.
 */
export async function startTracing(
  router: LLMRouter,
  settings: OtelSettings,
  log: (entry: GatewayLogEntry) => void,
  options: StartTracingOptions = {},
): Promise<Tracing | undefined> {
  const load = options.importer ?? defaultImporter;
  const loaded: unknown[] = [];
  const missing: string[] = [];
  for (const name of PACKAGES) {
    try {
      loaded.push(await load(name));
    } catch (e) {
      if (!isMissing(e, name)) {
        log({ level: 'error', message: `OpenTelemetry tracing is on (${settings.enabledBy}) but ${name} failed to load; running without tracing`, error: e });
        return undefined;
      }
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    log({
      level: 'warn',
      message: `OpenTelemetry tracing is on (${settings.enabledBy}) but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed; running without tracing. Install: pnpm add ${PACKAGES.join(' ')}`,
    });
    return undefined;
  }
  const [api, sdk, exporter, resources, core] = loaded as [Modules['api'], Modules['sdk'], Modules['exporter'], Modules['resources'], Modules['core']];

  // Export failures and SDK warnings reach the server log instead of disappearing.
  api.diag.setLogger(
    {
      error: (message, ...args) => log({ level: 'error', message: `[otel] ${message}`, ...(args.length ? { error: args[0] } : {}) }),
      warn: (message, ...args) => log({ level: 'warn', message: `[otel] ${message}`, ...(args.length ? { error: args[0] } : {}) }),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    { logLevel: api.DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': settings.serviceName }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  // Every call is traced: a caller's `traceparent` only parents its spans. (The default sampler, ParentBased, would let
  // the caller's sampled flag decide: a caller sending `-00` would switch the tracing of its calls off.)
  const always = new sdk.AlwaysOnSampler();
  const provider = new sdk.TracerProvider({
    resource,
    sampler: new sdk.ParentBasedSampler({ root: always, remoteParentSampled: always, remoteParentNotSampled: always }),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter: new exporter.OTLPTraceExporter({ url: settings.tracesUrl }) })],
  });
  // A request's W3C `traceparent` makes its spans children of the caller's span (its `tracestate` is not taken:
  // `callerTraceContext` keeps the parent span only): the propagator reads it, and the context follows the call across
  // its awaits (AsyncLocalStorage) to the router's span.
  // (Another manager or propagator registered by the process that embeds the server is kept: these are not set then.)
  const contextManager = new AsyncLocalStorageContextManager(api.ROOT_CONTEXT);
  const ownsContext = api.context.setGlobalContextManager(contextManager);
  const ownsPropagation = api.propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  const dispose = instrumentRouterWith(api, router, {
    tracer: provider.getTracer(TRACER_NAME),
    captureContent: settings.captureContent,
    operationName: (e) => (e.metadata.endpoint === '/v1/completions' ? 'text_completion' : undefined),
  });
  // The logs name the collector without the credentials its URL may carry.
  const collector = displayUrl(settings.tracesUrl);
  log({
    level: 'info',
    message: `OpenTelemetry tracing on (${settings.enabledBy}): GenAI spans to ${collector} (OTLP/HTTP JSON)${settings.captureContent ? ', with message content' : ''}`,
  });
  let closing: Promise<void> | undefined;
  return {
    callerTraceContext: callerTraceContext(api),
    shutdown() {
      closing ??= (async () => {
        dispose();
        if (ownsContext) api.context.disable();
        if (ownsPropagation) api.propagation.disable();
        // An unreachable collector must not stop the server from closing its router and stores, nor hold
        // it for the exporter's retries: the last export gets SHUTDOWN_EXPORT_MS, then the server moves on.
        const exported = provider.shutdown().then(
          () => undefined,
          (e: unknown) => log({ level: 'warn', message: `OpenTelemetry: exporting the last spans to ${collector} failed`, error: e }),
        );
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), SHUTDOWN_EXPORT_MS);
          timer.unref?.();
        });
        const outcome = await Promise.race([exported, timedOut]);
        clearTimeout(timer);
        if (outcome === 'timeout') log({ level: 'warn', message: `OpenTelemetry: exporting the last spans to ${collector} did not finish within ${SHUTDOWN_EXPORT_MS} ms; stopping without them` });
        api.diag.disable();
      })();
      return closing;
    },
  };
}
