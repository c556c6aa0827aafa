import { LLMError } from '../../errors/llm-error.js';
import { ruleEscalationScore, weakAnswerFeatures } from '../../learning/cascade/weak-answer-features.js';
import { messageText, type GenerateRequest } from '../../spec/index.js';
import type { RouterResult } from '../types.js';

/**
 * Default threshold of the `arithmetic` verifier: escalate when the rule score is >= 1, that is when at
 * least one signal fires beyond the length tie-break (0.1 x log(1 + characters), 0.5-0.76 for most
 * answers). On RouteLLM GSM8K (Mixtral weak, GPT-4 strong, 1 319 prompts) it escalates 35.4% of the
 * prompts and reaches 0.800 accuracy (93.4% of GPT-4's 0.857) at 44.0% of GPT-4's estimated cost; 0.70
 * reaches 95% of GPT-4's accuracy with 44.4% escalated at 54.1% of the cost. Table and command:
 * docs/routing.md, "Cascades".
 */
export const ARITHMETIC_DEFAULT_THRESHOLD = 1;

/** The question the arithmetic rule reads: the last user message's text (all messages' text when there is none). */
export function questionText(request: GenerateRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i]!;
    if (m.role === 'user') return messageText(m);
  }
  return request.messages.map(messageText).join('\n');
}

/**
 * The built-in `arithmetic` verifier: `ruleEscalationScore(weakAnswerFeatures(question, answer text))` (wrong
 * `a op b = c` statements, no final number, a cut-off answer, a non-integer or unexplained answer, hedging).
 * It reads text only: an answer that is only tool calls scores as an empty text (escalated).
 */
export function arithmeticScore(request: GenerateRequest, weak: RouterResult): number {
  return ruleEscalationScore(weakAnswerFeatures(questionText(request), weak.text));
}

/**
 * Built-in verifiers (`arithmetic`, `learned`) read plain text answers to questions: a request with tools or
 * a JSON response format is refused before any call (`unsupported`, naming the field), since they would
 * score a tool call or a JSON document as prose.
 */
export function textOnlyRequestCheck(verifier: string): (request: GenerateRequest, cascade: string) => void {
  return (request, cascade) => {
    if (request.tools !== undefined && request.tools.length > 0) {
      throw new LLMError({
        code: 'unsupported',
        message: `Cascade "${cascade}" uses the ${verifier} verifier, which reads text answers only: requests with tools are not supported (use a custom verifier)`,
        param: 'tools',
      });
    }
    if (request.responseFormat !== undefined && request.responseFormat.type !== 'text') {
      throw new LLMError({
        code: 'unsupported',
        message: `Cascade "${cascade}" uses the ${verifier} verifier, which reads text answers only: responseFormat "${request.responseFormat.type}" is not supported (use a custom verifier)`,
        param: 'responseFormat',
      });
    }
  };
}

/** The `arithmetic` verifier's request check (`textOnlyRequestCheck('arithmetic')`). */
export const checkArithmeticRequest: (request: GenerateRequest, cascade: string) => void = textOnlyRequestCheck('arithmetic');
