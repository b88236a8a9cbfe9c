// The afm-ondevice lab end to end on the smoke preset: every metric and check, bits per
// weight recomputed from the plan, exported folders that onnxruntime and transformers.js
// run, the playground's queries (streamed generation, export), reload from the run folder,
// bad input named; no tensor leaks.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afmOndeviceLab } from '../workers/labs/afm-ondevice/lab';
import { afmOndeviceSpec, AFM_VARIANTS } from '../common/labs/afm-ondevice';
import { resolveParams } from '../common/lab';
import { initBackend } from '../workers/runtime/backend';
import { decoderForward, disposeDecoder, embedTokens, type Decoder } from '../workers/nn/decoder';
import { readSafetensors } from '../workers/runtime/safetensors';
import { testContext } from './helpers/context';
import { contractChecker } from './helpers/contract';

/** Greedy tokens of a TF.js decoder, each with its top-2 logit gap (a near-tie may go either way in another engine). */
function greedyWithGaps(d: Decoder, prompt: number[], n: number): { tokens: number[]; gaps: number[] } {
  const seq = [...prompt], tokens: number[] = [], gaps: number[] = [];
  for (let i = 0; i < n; i++) {
    const last = tf.tidy(() => decoderForward(d, embedTokens(d, tf.tensor2d([seq], undefined, 'int32'))).logits.slice([0, seq.length - 1, 0], [1, 1, -1]).dataSync());
    const sorted = Array.from(last).sort((a, b) => b - a);
    const t = Array.from(last).indexOf(sorted[0]);
    tokens.push(t); gaps.push(sorted[0] - sorted[1]); seq.push(t);
  }
  return { tokens, gaps };
}

type Live = { tokenizer: { eos: number }; variants: Record<string, Decoder>; sessions: Record<string, Promise<{ release(): Promise<void> }>> };
async function release(m: Live) {
  for (const d of Object.values(m.variants)) disposeDecoder(d);
  for (const s of Object.values(m.sessions)) await (await s).release();
}

describe('afm-ondevice lab (smoke)', () => {
  it('runs end to end: metrics, checks, exports, streamed generation, reload; no tensor leaks', async () => {
    const { ctx, events, live, home } = await testContext(3);
    const p = resolveParams(afmOndeviceSpec, 'smoke', {});
    await initBackend('wasm');
    await ctx.require('lm:stories:tiny'); // the cached part's own tensors are not the run's
    const before = tf.memory().numTensors;
    const r = await afmOndeviceLab.run(p, ctx);
    for (const k of afmOndeviceSpec.metrics) expect(Number.isFinite(r.metrics[k]), k).toBe(true);
    expect(Object.keys(r.checks).sort()).toEqual([...afmOndeviceSpec.checks].sort());
    expect(r.checks.onnxMatches).toBe(true);
    expect(r.checks.bpwInRange).toBe(true);
    // Bits: 4-bit everywhere is 4 + a 16-entry fp16 table per group of rows × 16 weights.
    const rows = 32; // the tiny teacher's width: every projection but w2 / wo reads d = 32 inputs
    expect(r.metrics.bpw_4bit).toBeGreaterThan(4 + 256 / (rows * 16) - 0.1);
    expect(r.metrics.bpw_mixedLora).toBeGreaterThan(r.metrics.bpw_mixed);
    expect(r.metrics.entropyFloor).toBeGreaterThan(0.5);
    expect(r.metrics.nll_fp32).toBeGreaterThan(r.metrics.entropyFloor);
    expect(r.metrics.loraTokensPctOfTeacher).toBeLessThanOrEqual(1);
    expect(r.metrics.bytes_mixed).toBeLessThan(r.metrics.bytes_fp32); // the tiny graph's nodes are much of its file

    const sample = <T>(kind: string) => (events.filter((e) => e.type === 'sample' && e.kind === kind).at(-1) as { data: T } | undefined)?.data;
    const variants = sample<{ variant: string; nll: number; bpw: number }[]>('variants')!;
    expect(variants.map((v) => v.variant)).toEqual([...AFM_VARIANTS]);
    expect(variants.find((v) => v.variant === 'mixed')!.nll).toBe(r.metrics.nll_mixed);
    const groups = sample<{ bits: number; table: number[]; values: number[] }[]>('groups')!;
    for (const g of groups) {
      expect(g.table).toHaveLength(2 ** g.bits);
      expect(g.values.length % 16).toBe(0);
    }
    const alloc = sample<{ plan: number[][] }>('allocation')!;
    expect(alloc.plan.flat().some((x) => x > 0)).toBe(true);

    // The exported folders: the on-device one carries its adapters as safetensors.
    for (const v of AFM_VARIANTS) for (const f of ['onnx/model.onnx', 'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']) expect(existsSync(join(ctx.runDir, 'models', v, f)), `${v}/${f}`).toBe(true);
    const adapters = readSafetensors(readFileSync(join(ctx.runDir, 'models', 'mixedLora', 'lora', 'adapter_model.safetensors')));
    expect(Object.keys(adapters)).toContain('l0.wq.lora_A');
    expect(adapters['l0.wq.lora_A'].dtype).toBe('F16');

    // transformers.js loads the on-device folder offline and generates what the TF.js model does.
    const T = await import('@huggingface/transformers');
    T.env.allowRemoteModels = false; T.env.localModelPath = join(ctx.runDir, 'models'); T.env.useFSCache = false;
    const model = await T.AutoModelForCausalLM.from_pretrained('mixedLora', { dtype: 'fp32', device: 'cpu' });
    const tokenizer = await T.AutoTokenizer.from_pretrained('mixedLora');
    const prompt = 'once upon a time there was a';
    const promptIds = tokenizer(prompt).input_ids.tolist()[0].map(Number);
    const theirs = (await model.generate({ ...tokenizer(prompt), max_new_tokens: 10, do_sample: false, eos_token_id: -1 }) as { tolist(): bigint[][] }).tolist()[0].map(Number).slice(promptIds.length);
    await model.dispose();
    const ours = greedyWithGaps((live() as Live).variants.mixedLora, promptIds, 10);
    const clear = ours.gaps.findIndex((g) => g <= 1e-3);
    expect(theirs.slice(0, clear < 0 ? 10 : clear)).toEqual(ours.tokens.slice(0, clear < 0 ? 10 : clear));

    // The playground: generation streamed token by token, in either engine, greedy alike.
    const contract = contractChecker(afmOndeviceLab);
    const generate = async (args: Record<string, unknown>, m: unknown) => {
      const { id } = (await contract.query('generate', args, m)) as { id: number };
      const seen: number[] = [];
      let got: { text: string; tokens: number; done: boolean; error: string | null; ttftMs: number | null };
      do { got = (await contract.query('generated', { id }, m)) as typeof got; seen.push(got.tokens); await new Promise((res) => setTimeout(res, 2)); } while (!got.done);
      return { ...got, seen };
    };
    const viaTfjs = await generate({ variant: 'mixedLora', engine: 'tfjs', prompt, maxNewTokens: 10 }, live());
    expect(viaTfjs.error).toBeNull();
    expect(viaTfjs.ttftMs).toBeGreaterThan(0);
    const stop = ours.tokens.indexOf((live() as Live).tokenizer.eos); // generation stops after the end-of-story token
    expect(viaTfjs.text).toBe(tokenizer.decode(ours.tokens.slice(0, stop < 0 ? 10 : stop + 1)));
    const viaOrt = await generate({ variant: 'mixedLora', engine: 'ort', prompt, maxNewTokens: 10 }, live());
    expect(viaOrt.text).toBe(viaTfjs.text);

    // Export: into a new folder; an occupied one is refused and left as it was.
    const target = join(mkdtempSync(join(home, 'export-')), 'afm');
    const exported = (await contract.query('exportVariant', { variant: 'mixedLora', folder: target }, live())) as { files: string[]; bytes: number };
    expect(exported.files).toEqual(expect.arrayContaining(['onnx/model.onnx', 'lora/adapter_model.safetensors', 'tokenizer.json']));
    writeFileSync(join(target, 'notes.txt'), 'mine');
    await expect(contract.query('exportVariant', { variant: 'fp32', folder: target }, live())).rejects.toThrow(/is not empty: choose an empty or new folder/);
    expect(readdirSync(target)).toContain('notes.txt');
    await expect(contract.query('exportVariant', { variant: 'fp32', folder: 'relative/dir' }, live())).rejects.toThrow(/not an absolute path/);
    await expect(contract.query('generate', { variant: 'fp32', prompt: '' }, live())).rejects.toThrow(/type a prompt first/);
    await expect(contract.query('generate', { variant: 'int3', prompt: 'hi' }, live())).rejects.toThrow(/variant/);
    await expect(contract.query('generated', { id: 12345 }, live())).rejects.toThrow(/no generation 12345/);
    contract.expectFulfilled(events);
    contract.expectPlanFollowed(events);

    // After a restart: the variants from the checkpoint generate as the live ones did.
    const loaded = await afmOndeviceLab.loadModel!(ctx.runDir, ctx);
    expect((await generate({ variant: 'mixedLora', engine: 'ort', prompt, maxNewTokens: 10 }, loaded)).text).toBe(viaTfjs.text);
    await release(loaded as Live);
    await release(live() as Live);
    expect(tf.memory().numTensors).toBe(before);
  }, 300_000);

  it('names what is wrong with a text file', async () => {
    const { ctx, home } = await testContext(5);
    const run = (textFile: string) => afmOndeviceLab.run(resolveParams(afmOndeviceSpec, 'smoke', { textFile }), ctx);
    await expect(run(join(home, 'missing.txt'))).rejects.toThrow(/missing.txt does not exist/);
    writeFileSync(join(home, 'empty.txt'), '');
    await expect(run(join(home, 'empty.txt'))).rejects.toThrow(/empty.txt is empty/);
    writeFileSync(join(home, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x6f, 0x6b]));
    await expect(run(join(home, 'latin1.txt'))).rejects.toThrow(/latin1.txt is not UTF-8 text/);
    writeFileSync(join(home, 'short.txt'), 'just a few words');
    await expect(run(join(home, 'short.txt'))).rejects.toThrow(/short.txt gives \d+ tokens; the lab needs at least/);
  }, 60_000);
});
