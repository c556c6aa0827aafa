import type { ToolChoice } from '@llmrr/core';

/** Where a route's tools and tool choice are in its body: `tools.N.function.name` and `tool_choice` on chat completions. */
export interface ToolPaths {
  /** The path of tool `i`'s name. */
  name(i: number): string;
  /** The path of a named tool choice's name (`tool_choice.function.name`). */
  choiceName: string;
  /** What the route's clients call core's `required` tool choice (default `"required"`; Anthropic's is `{ type: "any" }`). */
  required?: string;
  /** What the client calls its tool list and tool choice in a message (default `tools` and `tool_choice`; legacy `functions` and `function_call`). */
  words?: { tools: string; tool: string; choice: string };
}

const TOOL_WORDS = { tools: 'tools', tool: 'tool', choice: 'tool_choice' } as const;

/** A refused field: its path and what is wrong, to throw in the route's own form. */
export interface FieldProblem {
  param: string;
  message: string;
}

/**
 * `tools` and `tool_choice` that cannot go together, refused before any call as OpenAI refuses them: two tools
 * of one name (the model's call could not say which it means), a tool choice that asks for a tool call
 * (`required`, or a named tool) with no tools, and a named tool that is not in `tools`. `auto` and `none`
 * without tools ask for nothing and pass. `names`: the tools' names, in order (empty when there are none).
 */
export function toolChoiceConflict(names: readonly string[], choice: ToolChoice | undefined, paths: ToolPaths): FieldProblem | undefined {
  const words = paths.words ?? TOOL_WORDS;
  const first = new Map<string, number>();
  for (let i = 0; i < names.length; i++) {
    const at = first.get(names[i]!);
    if (at !== undefined) return { param: paths.name(i), message: `"${names[i]}" is also the name of ${words.tools}.${at}; ${words.tool} names must be unique` };
    first.set(names[i]!, i);
  }
  if (choice === 'required' && names.length === 0) {
    return { param: 'tool_choice', message: `tool_choice ${paths.required ?? '"required"'} is only allowed when tools are specified` };
  }
  if (typeof choice === 'object' && !first.has(choice.name)) {
    const message =
      names.length === 0 ? `a named ${words.choice} ("${choice.name}") is only allowed when ${words.tools} are specified` : `${words.choice} names "${choice.name}", which is not in ${words.tools}`;
    return { param: paths.choiceName, message };
  }
  return undefined;
}
