import { describe, expect, it } from 'vitest';
import type { GenerateRequest, ToolDefinition } from '../../spec/index.js';
import { generateAndStream } from '../../test/call-warnings.test-helpers.js';
import { geminiTakesPenalties } from './gemini-penalty-models.js';
import { useGeminiWireServer } from './gemini-wire.test-helpers.js';

// frequencyPenalty, presencePenalty and parallelToolCalls on Gemini: the penalties go in generationConfig to the
// models that take them and are said not sent elsewhere (most models answer 400 "Penalty is not enabled");
// parallelToolCalls: false has no Gemini field and is said not sent. Generate and stream alike, against the local
// Gemini wire server, which records the bodies the engine sent.

const wire = useGeminiWireServer();

const weather: ToolDefinition = { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };
const hi = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ messages: [{ role: 'user', content: 'hi' }], ...extra });

/** generate and stream; both recorded bodies and the warnings (which must agree). */
async function both(request: GenerateRequest, model = 'gemini-2.5-flash') {
  const { generated, streamed, bodies } = await generateAndStream(wire.engine({ model }), request, wire.lastBody);
  expect(streamed).toEqual(generated);
  return { warnings: generated, bodies };
}

const configOf = (body: Record<string, unknown>) => (body.generationConfig ?? {}) as Record<string, unknown>;

describe('gemini engine: frequencyPenalty, presencePenalty, parallelToolCalls', () => {
  it('the models known to take penalties: gemini-2.0-flash(-lite), the 1.5 -002 models; not 2.5, 3.x, 1.5 without -002', () => {
    for (const id of ['gemini-2.0-flash', 'models/gemini-2.0-flash-001', 'gemini-2.0-flash-lite', 'gemini-1.5-flash-002', 'gemini-1.5-pro-002']) {
      expect(geminiTakesPenalties(id), id).toBe(true);
    }
    for (const id of ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.5-flash-lite', 'gemini-3-pro-preview', 'gemini-3-flash', 'gemini-1.5-pro', 'gemini-exp-1206', 'gemini-flash-latest', '']) {
      expect(geminiTakesPenalties(id), id).toBe(false);
    }
  });

  it('a request without them: no penalty field and no warning (the body as before)', async () => {
    const { warnings, bodies } = await both(hi({ temperature: 0.4 }), 'gemini-2.0-flash');
    expect(warnings).toBeUndefined();
    for (const body of bodies) expect(configOf(body)).toEqual({ temperature: 0.4 });
  });

  it('gemini-2.0-flash: both penalties sent in generationConfig (negative values too), no warning', async () => {
    const { warnings, bodies } = await both(hi({ frequencyPenalty: 0.7, presencePenalty: -0.5 }), 'gemini-2.0-flash');
    for (const body of bodies) expect(configOf(body)).toEqual({ frequencyPenalty: 0.7, presencePenalty: -0.5 });
    expect(warnings).toBeUndefined();
  });

  it('gemini-2.5-flash and gemini-3 (would answer 400): not sent, and said so; a penalty of 0 is no loss', async () => {
    for (const model of ['gemini-2.5-flash', 'gemini-3-pro-preview']) {
      const { warnings, bodies } = await both(hi({ frequencyPenalty: 0.7, presencePenalty: 0 }), model);
      for (const body of bodies) {
        expect(configOf(body)).not.toHaveProperty('frequencyPenalty');
        expect(configOf(body)).not.toHaveProperty('presencePenalty');
      }
      expect(warnings).toEqual([
        {
          code: 'setting_not_sent',
          field: 'frequencyPenalty',
          message: `frequencyPenalty was not sent: ${model} is not known to take sampling penalties (Gemini answers 400 "Penalty is not enabled" to most models; set providerOptions.gemini.generationConfig.frequencyPenalty to send it anyway).`,
        },
      ]);
    }
  });

  it('providerOptions.gemini.generationConfig still wins: a penalty sent through it is on the wire and no warning says otherwise', async () => {
    const forced = await both(hi({ presencePenalty: 0.3, providerOptions: { gemini: { generationConfig: { presencePenalty: 0.3 } } } }));
    for (const body of forced.bodies) expect(configOf(body).presencePenalty).toBe(0.3);
    expect(forced.warnings).toBeUndefined();
    const changed = await both(hi({ frequencyPenalty: 0.3, providerOptions: { gemini: { generationConfig: { frequencyPenalty: 1 } } } }), 'gemini-2.0-flash');
    for (const body of changed.bodies) expect(configOf(body).frequencyPenalty).toBe(1);
    expect(changed.warnings).toEqual([
      { code: 'setting_changed', field: 'frequencyPenalty', message: 'frequencyPenalty was sent as the value of providerOptions.gemini.generationConfig.frequencyPenalty.' },
    ]);
  });

  it('parallelToolCalls false with tools: Gemini has no switch, so not sent and said so; true, or no tools, says nothing', async () => {
    const off = await both(hi({ tools: [weather], parallelToolCalls: false }));
    for (const body of off.bodies) {
      expect(body.tools).toEqual([{ functionDeclarations: [expect.objectContaining({ name: 'weather' })] }]);
      expect(JSON.stringify(body)).not.toMatch(/parallel/i);
    }
    expect(off.warnings).toEqual([
      { code: 'setting_not_sent', field: 'parallelToolCalls', message: 'parallelToolCalls false was not sent: Gemini has no switch for it; the model may call several functions in one answer.' },
    ]);
    for (const request of [hi({ tools: [weather], parallelToolCalls: true }), hi({ parallelToolCalls: false })]) {
      const { warnings, bodies } = await both(request);
      for (const body of bodies) expect(JSON.stringify(body)).not.toMatch(/parallel/i);
      expect(warnings).toBeUndefined();
    }
  });
});
