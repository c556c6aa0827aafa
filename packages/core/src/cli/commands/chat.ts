import type { LLMError } from '../../errors/llm-error.js';
import type { RouterResult, RouterStream } from '../../router/types.js';
import type { CallWarning, ChatMessage, GenerateRequest } from '../../spec/index.js';
import { defineCommand, type CliCommand } from '../cli-command.js';
import { EXIT, type CliContext, type ExitCode } from '../cli-io.js';
import { formatMs, formatUsd, oneLine } from '../format.js';
import { openRouter } from '../open-router.js';
import { GLOBAL_FLAGS, intFlag, numberFlag } from '../parse-flags.js';
import { readPrompt } from '../read-prompt.js';
import { reportError } from '../report-error.js';

const FLAGS = {
  ...GLOBAL_FLAGS,
  model: { type: 'string', short: 'm' },
  strategy: { type: 'string', short: 's' },
  system: { type: 'string' },
  'max-tokens': { type: 'string' },
  temperature: { type: 'string', short: 't' },
  json: { type: 'boolean' },
} as const;

const HELP = `Usage: llmrr chat [options] [prompt...]

Streams the answer to stdout as it arrives; then prints one line on stderr: deployment, tokens in/out,
cost, latency and time to first token, and a line per warning (a setting the deployment did not send or
changed, a cache mark dropped, a system message moved). When a deployment fails and another takes over, a line on stderr
says which and why. Without a prompt argument, the prompt is read from stdin (when
stdin is not a terminal). Ctrl-C aborts the request (exit 130).

Options:
  -m, --model <name>       a deployment name or alias (default: chosen by the strategy)
  -s, --strategy <name>    routing strategy for this call (default: routing.strategy of the config)
      --system <text>      system message
      --max-tokens <n>     maximum output tokens
  -t, --temperature <t>    sampling temperature, 0 to 2
      --json               print the full result (text, usage, cost, attempts) as JSON instead
  -c, --config <file>      config file (default: llmrr.config.{json,yaml,yml} here, else the demo config)
  -h, --help               show this help
`;

/** `llmrr chat`: one streamed answer. */
export const chatCommand: CliCommand = defineCommand({
  name: 'chat',
  summary: 'stream an answer to a prompt',
  help: HELP,
  flags: FLAGS,
  async run({ values, positionals }, ctx) {
    const maxTokens = intFlag(values['max-tokens'], '--max-tokens', 1);
    const temperature = numberFlag(values.temperature, '-t/--temperature', 0, 2);
    const prompt = await readPrompt(positionals, ctx);
    const messages: ChatMessage[] = [];
    if (values.system !== undefined) messages.push({ role: 'system', content: values.system });
    messages.push({ role: 'user', content: prompt });
    const request: GenerateRequest = { messages };
    if (maxTokens !== undefined) request.maxTokens = maxTokens;
    if (temperature !== undefined) request.temperature = temperature;

    const { router } = await openRouter(ctx, { config: values.config, model: values.model, strategy: values.strategy, command: 'chat' });
    // Say so when another deployment takes over: the answer must never pass for the first choice's.
    router.on('fallback', (e) => {
      ctx.stderr.write(`llmrr chat: ${e.from} failed [${e.error.code}]: ${oneLine(e.error.message)}; trying ${e.to}\n`);
    });
    try {
      return await streamAnswer(router.stream(request, callOptions(values.model, values.strategy, ctx.signal)), ctx, values.json === true);
    } finally {
      // After Ctrl-C, do not wait for a local model that is still loading to be released: the process exits.
      const closing = router.close();
      if (ctx.signal?.aborted) closing.catch(() => undefined);
      else await closing;
    }
  },
});

function callOptions(model: string | undefined, strategy: string | undefined, signal: AbortSignal | undefined) {
  return {
    ...(model !== undefined ? { model } : {}),
    ...(strategy !== undefined ? { strategy } : {}),
    ...(signal ? { signal } : {}),
  };
}

async function streamAnswer(stream: RouterStream, ctx: CliContext, json: boolean): Promise<ExitCode> {
  let failure: LLMError | undefined;
  let last = '\n';
  for await (const part of stream) {
    if (part.type === 'text-delta' && !json && part.delta !== '') {
      ctx.stdout.write(part.delta);
      last = part.delta;
    } else if (part.type === 'error') {
      failure = part.error;
    }
  }
  if (!last.endsWith('\n')) ctx.stdout.write('\n');
  if (failure) {
    if (json) ctx.stdout.write(`${JSON.stringify(failure.toWire(stream.requestId), null, 2)}\n`);
    return reportError(failure, ctx, 'chat');
  }
  const result = await stream.result;
  if (json) ctx.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    ctx.stderr.write(`${summaryLine(result)}\n`);
    // What the deployment did not do as asked: said, never dropped in silence.
    for (const w of result.warnings ?? []) ctx.stderr.write(`${warningLine(w)}\n`);
  }
  return EXIT.ok;
}

/** `llmrr chat: warning [setting_not_sent] (seed): seed was not sent: ...`. */
export function warningLine(w: CallWarning): string {
  const field = w.field !== undefined ? ` (${oneLine(w.field)})` : '';
  return `llmrr chat: warning [${oneLine(w.code)}]${field}: ${oneLine(w.message)}`;
}

/** `deployment mock-fast (mock/mock-fast), tokens 4 in / 6 out, cost $0.000004, latency 12 ms, ttft 3 ms`. */
export function summaryLine(r: RouterResult): string {
  const estimated = r.usage.estimated ? ' (estimated)' : '';
  const cost = `${formatUsd(r.cost.totalUsd)}${r.cost.estimated ? ' (estimated)' : ''}`;
  const cached = r.cached ? `, cached (${r.cached})` : '';
  return (
    `deployment ${r.deployment} (${r.provider}/${r.model}), tokens ${r.usage.inputTokens} in / ${r.usage.outputTokens} out${estimated}, ` +
    `cost ${cost}, latency ${formatMs(r.latencyMs)}, ttft ${formatMs(r.timeToFirstTokenMs)}${cached}`
  );
}
