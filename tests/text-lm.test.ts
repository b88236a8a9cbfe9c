// Text LMs the labs query: an exported folder on onnxruntime (its bad forms named), an
// OpenAI-compatible endpoint (retries with back-off on 5xx, garbage named, unreachable
// named, cancel), and `serve-lm`'s server, whose answers equal the folder's own; then
// longpibench asking both, the sweep going on past a dead endpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createDecoder, disposeDecoder, embedTokens, sampleTokens } from '../workers/nn/decoder';
import { fourBitPlan, palettizedVariant, planGroups } from '../workers/labs/afm-ondevice/quantize';
import { exportDecoderOnnx, readDecoderWeights } from '../workers/nn/decoder-onnx';
import { writeHfFolder } from '../workers/runtime/hf-folder';
import { toHuggingFaceJson, trainBpe } from '../workers/data/bpe-tokenizer';
import { Rng } from '../workers/runtime/rng';
import { openEndpoint, openOnnxFolder, type TextLm } from '../workers/runtime/text-lm';
import { startLmServer, type LmServer } from '../workers/runtime/lm-server';
import { tableInstance } from '../workers/data/longpi/generator';
import { tableText } from '../workers/data/longpi/format';
import { longpibenchLab } from '../workers/labs/longpibench/lab';
import { longpibenchSpec } from '../common/labs/longpibench';
import { resolveParams } from '../common/lab';
import { testContext } from './helpers/context';

const vocab = { keys: 16, values: 64 };
let folder: string, lm: TextLm, server: LmServer;

/** A random-weight decoder with a BPE trained on table prompts, exported as a Hugging Face folder (what afm-ondevice writes). */
async function exportFolder(dir: string) {
  await testContext(1);
  const rng = new Rng(2);
  const text = Array.from({ length: 6 }, (_, i) => tableText(tableInstance('relative', 1 + i, 'both', { L: 20, n: 10, N: 16 }, vocab, rng))).join('\n');
  const tok = trainBpe(text, 60);
  const d = createDecoder({ vocab: tok.vocab.length, dModel: 16, layers: 1, heads: 2, kvHeads: 1, ffnHidden: 32, maxLen: 512, qkNorm: true, window: null, ropeBase: 10000 }, rng.fork('init'));
  writeHfFolder(dir, { onnx: exportDecoderOnnx(readDecoderWeights(d)), config: d.config, tokenizerJson: toHuggingFaceJson(tok), eosTokenId: tok.eos, eosToken: tok.vocab[tok.eos] });
  disposeDecoder(d);
}

beforeAll(async () => {
  folder = join(mkdtempSync(join(tmpdir(), 'bt-textlm-')), 'model');
  await exportFolder(folder);
  lm = await openOnnxFolder(folder);
  server = await startLmServer(lm, 'tiny-table');
}, 120_000);
afterAll(async () => { await server?.close(); await lm?.close(); });

const never = new AbortController().signal;

describe('an ONNX folder as a text LM', () => {
  it('continues a prompt greedily, the same every time; a prompt too long for its positions is named', async () => {
    const a = await lm.complete('K03: 104\nK05: 1', 12, never);
    expect(a.length).toBeGreaterThan(0);
    expect(await lm.complete('K03: 104\nK05: 1', 12, never)).toBe(a);
    await expect(lm.complete('K03: 104\n'.repeat(200), 12, never)).rejects.toThrow(/exceeds the model's 512 positions/);
  });

  it('opens a folder in afm-ondevice\'s 4-bit layout (packed palettes, fp16 tables) and answers as the TF.js model it was made from', async () => {
    const rng = new Rng(4);
    const tok = trainBpe(tableText(tableInstance('relative', 3, 'both', { L: 20, n: 10, N: 16 }, vocab, rng)), 40);
    const d = createDecoder({ vocab: tok.vocab.length, dModel: 32, layers: 1, heads: 2, kvHeads: 1, ffnHidden: 32, maxLen: 256, qkNorm: true, window: null, ropeBase: 10000 }, rng.fork('init'));
    const ones = Object.fromEntries(Object.entries(d.weights).map(([k, v]) => [k, new Float32Array(v.size).fill(1)]));
    const inputs = planGroups(d, ones);
    const v4 = palettizedVariant(d, inputs, fourBitPlan(inputs));
    const dir = join(mkdtempSync(join(tmpdir(), 'bt-afm4-')), 'model');
    const onnx = exportDecoderOnnx({ ...readDecoderWeights(v4.model), palettes: v4.palettes, fp16: true });
    writeHfFolder(dir, { onnx, config: v4.model.config, tokenizerJson: toHuggingFaceJson(tok), eosTokenId: tok.eos, eosToken: tok.vocab[tok.eos] });
    const four = await openOnnxFolder(dir);
    const prompt = 'K03: 104\nK05: 1';
    const text = await four.complete(prompt, 8, never);
    // The same greedy tokens from the palettized TF.js model (up to a near-tie, which a random model rarely has in 8 steps).
    const ids = tok.encode(prompt);
    const embedded = tf.tidy(() => embedTokens(v4.model, tf.tensor2d([ids], undefined, 'int32')));
    const { tokens } = sampleTokens(v4.model, embedded, { maxNewTokens: 8, temperature: 0, topK: 0, topP: 1, stopToken: tok.eos, rng: new Rng(0) });
    embedded.dispose();
    expect(text).toBe(tok.decode(tokens[0].filter((t) => t !== tok.eos)));
    await four.close();
    disposeDecoder(v4.model); disposeDecoder(d);
  });

  it('names what is wrong with a folder', async () => {
    await expect(openOnnxFolder('relative/model')).rejects.toThrow(/not an absolute path/);
    await expect(openOnnxFolder('/no/such/folder')).rejects.toThrow(/does not exist/);
    const broken = (mutate: (dir: string) => void) => {
      const dir = mkdtempSync(join(tmpdir(), 'bt-badfolder-'));
      for (const f of ['config.json', 'tokenizer.json']) writeFileSync(join(dir, f), readFileSync(join(folder, f)));
      mutate(dir);
      return dir;
    };
    await expect(openOnnxFolder(broken((d) => rmSync(join(d, 'config.json'))))).rejects.toThrow(/config.json is missing/);
    await expect(openOnnxFolder(broken((d) => writeFileSync(join(d, 'config.json'), '{"num_hidden_layers": 1,')))).rejects.toThrow(/config.json is not valid JSON/);
    await expect(openOnnxFolder(broken((d) => writeFileSync(join(d, 'config.json'), '{"num_hidden_layers": "two"}')))).rejects.toThrow(/"num_hidden_layers" must be a positive integer/);
    await expect(openOnnxFolder(broken(() => {}))).rejects.toThrow(/onnx\/model.onnx is missing/);
    await expect(openOnnxFolder(broken((d) => {
      const t = JSON.parse(readFileSync(join(d, 'tokenizer.json'), 'utf8'));
      const [a, b] = Object.keys(t.model.vocab); [t.model.vocab[a], t.model.vocab[b]] = [t.model.vocab[b], t.model.vocab[a]];
      writeFileSync(join(d, 'tokenizer.json'), JSON.stringify(t));
    }))).rejects.toThrow(/not in byte-level BPE order/);
  });
});

describe('serve-lm and the endpoint client', () => {
  it('answers /v1/completions and /v1/chat/completions as the folder does; a bad request gets a 400 and the server keeps serving', async () => {
    const prompt = 'K07: 111\nK07: 1';
    const direct = await lm.complete(prompt, 10, never);
    expect(await openEndpoint({ url: server.url, model: 'tiny-table', api: 'completions' }).complete(prompt, 10, never)).toBe(direct);
    expect(await openEndpoint({ url: `${server.url}/v1/`, model: 'tiny-table', api: 'chat' }).complete(prompt, 10, never)).toBe(direct);
    const models = await (await fetch(`${server.url}/v1/models`)).json() as { data: { id: string }[] };
    expect(models.data[0].id).toBe('tiny-table');
    const bad = await fetch(`${server.url}/v1/completions`, { method: 'POST', body: '{"prompt": ' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/not JSON/);
    const badTokens = await fetch(`${server.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'x', max_tokens: 0 }) });
    expect(((await badTokens.json()) as { error: { message: string } }).error.message).toMatch(/max_tokens must be an integer in 1\.\.1024/);
    expect((await fetch(`${server.url}/v2/nothing`)).status).toBe(404);
    expect(await lm.complete(prompt, 10, never)).toBe(direct);
    expect(await openEndpoint({ url: server.url, model: 'tiny-table', api: 'completions' }).complete(prompt, 10, never)).toBe(direct);
  });

  it('retries 5xx with back-off, names garbage and an unreachable endpoint, and stops when cancelled', async () => {
    let calls = 0, mode: 'flaky' | 'garbage' | 'slow' = 'flaky';
    const fake = createServer((req, res) => {
      calls++;
      if (mode === 'garbage') { res.writeHead(200); res.end('<html>not an API</html>'); return; }
      if (mode === 'slow') return; // never answers
      if (calls < 3) { res.writeHead(503); res.end('busy'); return; }
      res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ choices: [{ text: 'K01: 105' }] }));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    try {
      expect(await openEndpoint({ url, model: 'm', api: 'completions', backoffMs: 10 }).complete('p', 5, never)).toBe('K01: 105');
      expect(calls).toBe(3);
      mode = 'garbage'; calls = 0;
      await expect(openEndpoint({ url, model: 'm', api: 'completions', backoffMs: 10 }).complete('p', 5, never)).rejects.toThrow(/not JSON: "<html>not an API/);
      expect(calls).toBe(1); // garbage is not retried
      mode = 'slow';
      const cancel = new AbortController();
      const pending = openEndpoint({ url, model: 'm', api: 'completions' }).complete('p', 5, cancel.signal);
      setTimeout(() => cancel.abort(), 50);
      await expect(pending).rejects.toThrow(/cancelled/);
      await expect(openEndpoint({ url, model: 'm', api: 'completions', timeoutMs: 100, retries: 1, backoffMs: 10 }).complete('p', 5, never)).rejects.toThrow(/no answer within 0.1 s \(after 2 attempts\)/);
    } finally { fake.closeAllConnections(); fake.close(); }
    await expect(openEndpoint({ url: 'http://127.0.0.1:9', model: 'm', api: 'completions', retries: 1, backoffMs: 10 }).complete('p', 5, never)).rejects.toThrow(/unreachable .*after 2 attempts/);
    expect(() => openEndpoint({ url: 'ftp://x', model: 'm', api: 'chat' })).toThrow(/must start with http/);
    expect(() => openEndpoint({ url: 'localhost 8080', model: 'm', api: 'chat' })).toThrow(/is not a URL/);
  });
});

describe('longpibench with the user\'s folder and an endpoint', () => {
  it('asks both (answers alike: the endpoint serves the folder), and goes on past a dead endpoint', async () => {
    const { ctx, events } = await testContext(1);
    const p = resolveParams(longpibenchSpec, 'smoke', { models: ['full/levels'], onnxFolder: folder, endpointUrl: server.url, endpointModel: 'tiny-table', userL: 12, userPerLevel: 1, userMaxTokens: 24 });
    expect(p.userTasks).toEqual(['table', 'timeline']);
    const summary = await longpibenchLab.run(p, ctx);
    expect(summary.checks.generatorExact).toBe(true);
    type Curve = { model: string; task: string; L: number; failed: number; relative: { recall: number | null }[]; absolute: { recall: number | null }[] };
    const curves = events.flatMap((e) => (e.type === 'sample' && e.kind === 'curves' ? [e.data as Curve] : []));
    const endpoint = `endpoint:tiny-table@${server.url}`;
    expect(curves.map((c) => `${c.model} ${c.task}`)).toEqual(['full/levels table', ...[`onnx:${folder}`, endpoint].flatMap((m) => [`${m} table`, `${m} timeline`])]);
    const [, folderTable, folderTimeline, endpointTable, endpointTimeline] = curves;
    for (const c of curves.slice(1)) { expect(c.L).toBe(12); expect(c.failed).toBe(0); }
    expect(endpointTable.relative).toEqual(folderTable.relative);
    expect(endpointTable.absolute).toEqual(folderTable.absolute);
    expect(endpointTimeline.relative).toEqual(folderTimeline.relative);

    const dead = await testContext(1);
    const q = resolveParams(longpibenchSpec, 'smoke', { models: ['full/levels'], onnxFolder: '/no/such/model', endpointUrl: 'http://127.0.0.1:9', endpointModel: 'x', userL: 12, userPerLevel: 1 });
    const s2 = await longpibenchLab.run(q, dead.ctx);
    expect(s2.checks.generatorExact).toBe(true);
    const deadCurves = dead.events.flatMap((e) => (e.type === 'sample' && e.kind === 'curves' ? [e.data as Curve & { firstError: string }] : []));
    expect(deadCurves.map((c) => c.model)).toEqual(['full/levels', 'endpoint:x@http://127.0.0.1:9', 'endpoint:x@http://127.0.0.1:9']);
    expect(deadCurves[1].failed).toBe(35);
    expect(deadCurves[1].firstError).toMatch(/unreachable/);
    expect(deadCurves[1].relative.every((pt) => pt.recall === null)).toBe(true);
    const logs = dead.events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
    expect(logs.some((m) => /ONNX folder skipped: model folder \/no\/such\/model does not exist/.test(m))).toBe(true);
    // Three requests failed, so the other 32 instances were not asked (each would wait out its retries).
    expect(logs.filter((m) => /query at \w+: endpoint .*unreachable/.test(m) && !/not asked/.test(m))).toHaveLength(6); // 3 per task
    expect(logs.some((m) => /not asked: the 3 requests before it failed \(last: endpoint http:\/\/127\.0\.0\.1:9\/v1\/completions: unreachable/.test(m))).toBe(true);
  }, 300_000);
});
