import { it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LLMRouter, createStateStores } from '/work/main/packages/gateway/src/test-support/core.js';
import { createGateway } from '/work/main/packages/gateway/src/index.js';

async function run(label: string, withStores: boolean, stream: boolean) {
  const router = new LLMRouter({ models: [{ name: 'mock', engine: 'mock', price: { input: 1, output: 2 } }], routing: { strategy: 'priority' } });
  const stores = withStores ? await createStateStores({ mode: 'embedded', dataDir: mkdtempSync(join(tmpdir(), 'gwm-')) }) : undefined;
  let headers: Record<string, string> = { 'content-type': 'application/json' };
  if (stores) {
    await stores.tenants.createTenant({ id: 't', name: 't', limits: { rpm: 1e8, tpm: 2e9, maxConcurrency: 1e5 }, budget: { amountUsd: 1e9, period: 'total' } });
    headers = { ...headers, authorization: `Bearer ${(await stores.tenants.createKey('t', { name: 'k' })).secret}` };
  }
  const gw = createGateway({ router, ...(stores ? { stores } : {}) });
  const body = JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'Say sixteen words.' }], max_tokens: 32, stream });
  const once = async () => { const r = await gw.fetch(new Request('http://x/v1/chat/completions', { method: 'POST', headers, body })); await r.text(); };
  for (let i = 0; i < 500; i++) await once();
  const N = 3000;
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) await once();
  const c = process.cpuUsage(c0);
  console.log(label, ((c.user + c.system) / 1000 / N).toFixed(3), 'CPU-ms/req');
  await router.close(); await stores?.close();
}

it('micro', async () => {
  await run('no stores, json  ', false, false);
  await run('stores,    json  ', true, false);
  await run('no stores, stream', false, true);
  await run('stores,    stream', true, true);
}, 300_000);
