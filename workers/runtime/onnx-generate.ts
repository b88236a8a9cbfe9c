// Text generation on onnxruntime-node for any decoder exported by decoder-onnx.ts: one
// prefill over the prompt, then one cached step per token; greedy, top-k and top-p picks
// share the TensorFlow.js sampler's code (pickToken), so both engines choose alike.
import type * as Ort from 'onnxruntime-node';
import { onnxRuntime, openOnnxSession } from './onnx';
import { pickToken, type Sampled, type SamplingOptions } from '../nn/decoder';

export interface OnnxDecoderShape { vocab: number; layers: number; kvHeads: number; headDim: number }

/** What a step feeds: token ids [B][T], or embeddings [B, T, d] flat (a graph exported with input 'embeds'). */
type StepInput = { ids: number[][] } | { embeds: Float32Array; batch: number; length: number };
/** A batch of prompts to continue: ids, or embeddings with the embedding table that embeds the picked tokens. */
export type SamplePrompt = { ids: number[][] } | { embeds: Float32Array; batch: number; length: number; table: Float32Array };

export interface Generated {
  tokens: number[];
  /** Prefill time (prompt → first token's logits), ms. */
  ttftMs: number;
  /** Decode throughput after the first token. */
  tokensPerSec: number;
}

export class OnnxDecoder {
  private constructor(readonly session: Ort.InferenceSession, readonly shape: OnnxDecoderShape) {}

  /** `threads`: intra-op threads (a job's core budget); onnxruntime's default is every core. */
  static async open(model: string | Uint8Array, shape: OnnxDecoderShape, threads?: number): Promise<OnnxDecoder> {
    const { session } = await openOnnxSession(model, { threads });
    return new OnnxDecoder(session, shape);
  }

  private feeds(input: StepInput | number[][], past: Record<string, Ort.Tensor> | null, pastLen: number, padStart?: readonly number[]): Record<string, Ort.Tensor> {
    const ort = onnxRuntime();
    const step = Array.isArray(input) ? { ids: input } : input;
    const [B, T] = 'ids' in step ? [step.ids.length, step.ids[0].length] : [step.batch, step.length];
    const { layers, kvHeads, headDim } = this.shape;
    const mask = new BigInt64Array(B * (pastLen + T)).fill(1n);
    if (padStart) for (let b = 0; b < B; b++) mask.fill(0n, b * (pastLen + T), b * (pastLen + T) + padStart[b]);
    const positions = new BigInt64Array(B * T);
    for (let i = 0; i < B * T; i++) positions[i] = BigInt(pastLen + (i % T));
    const feeds: Record<string, Ort.Tensor> = {
      attention_mask: new ort.Tensor('int64', mask, [B, pastLen + T]),
      position_ids: new ort.Tensor('int64', positions, [B, T]),
    };
    if ('ids' in step) feeds.input_ids = new ort.Tensor('int64', BigInt64Array.from(step.ids.flat(), (x) => BigInt(x)), [B, T]);
    else feeds.inputs_embeds = new ort.Tensor('float32', step.embeds, [B, T, step.embeds.length / (B * T)]);
    for (let i = 0; i < layers; i++) {
      for (const kind of ['key', 'value']) {
        feeds[`past_key_values.${i}.${kind}`] = past?.[`present.${i}.${kind}`] ?? new ort.Tensor('float32', new Float32Array(0), [B, kvHeads, 0, headDim]);
      }
    }
    return feeds;
  }

  /** Logits [B, T, V] of whole sequences (token rows, left-padded by padStart; or embeddings), no cache. */
  async logits(input: number[][] | { embeds: Float32Array; batch: number; length: number }, padStart?: readonly number[]): Promise<Float32Array> {
    const out = await this.session.run(this.feeds(input, null, 0, padStart));
    for (const [k, t] of Object.entries(out)) if (k !== 'logits') t.dispose?.();
    return out.logits.data as Float32Array;
  }

  /** Continues one prompt. `onToken` sees each token as it is picked (a UI streams them). */
  async generate(prompt: readonly number[], o: Omit<SamplingOptions, 'useCache'>, onToken?: (t: number) => void | Promise<void>): Promise<Generated> {
    if (!prompt.length) throw new RangeError('the prompt has no tokens');
    const V = this.shape.vocab;
    const t0 = performance.now();
    let out = await this.session.run(this.feeds([Array.from(prompt)], null, 0));
    const ttftMs = performance.now() - t0;
    let length = prompt.length;
    const tokens: number[] = [];
    const t1 = performance.now();
    for (let step = 0; step < o.maxNewTokens; step++) {
      const logits = out.logits.data as Float32Array;
      const rows = logits.length / V;
      const { token } = pickToken(logits.subarray((rows - 1) * V, rows * V), o);
      tokens.push(token);
      await onToken?.(token);
      if (token === o.stopToken || step === o.maxNewTokens - 1) break;
      const previous = out;
      out = await this.session.run(this.feeds([[token]], previous, length));
      for (const t of Object.values(previous)) t.dispose?.();
      length++;
    }
    const secs = (performance.now() - t1) / 1000;
    return { tokens, ttftMs, tokensPerSec: tokens.length > 1 ? (tokens.length - 1) / Math.max(secs, 1e-9) : 0 };
  }

  /**
   * Continuations of a batch of equal-length prompts, given as token ids or (a graph exported
   * with input 'embeds') as embeddings [B, P, d] with the decoder's embedding table [vocab, d]
   * that turns each picked token into the next input. The mirror of the TF.js sampler
   * (nn/decoder.ts sampleTokens): row by row the same picks from the same rng draws, finished
   * rows fed the stop token.
   */
  async sample(prompt: SamplePrompt, o: Omit<SamplingOptions, 'useCache'>): Promise<Sampled> {
    const V = this.shape.vocab;
    const first: StepInput = 'ids' in prompt ? { ids: prompt.ids } : prompt;
    const B = 'ids' in prompt ? prompt.ids.length : prompt.batch;
    const P = 'ids' in prompt ? prompt.ids[0]?.length ?? 0 : prompt.length;
    const D = 'ids' in prompt ? 0 : prompt.table.length / V;
    if ('ids' in prompt ? prompt.ids.some((r) => r.length !== P) || !P : prompt.embeds.length !== B * P * D) {
      throw new RangeError('ids' in prompt ? 'prompts of unequal or zero length' : `prompt embeddings of ${prompt.embeds.length} values are not [${B}, ${P}, ${D}]`);
    }
    const tokens: number[][] = Array.from({ length: B }, () => []);
    const logProbs: number[][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);
    let out = await this.session.run(this.feeds(first, null, 0));
    let length = P, rowsOut = P;
    try {
      for (let step = 0; step < o.maxNewTokens && done.some((x) => !x); step++) {
        const logits = out.logits.data as Float32Array;
        const next = new Array<number>(B);
        for (let b = 0; b < B; b++) {
          next[b] = o.stopToken ?? 0;
          if (done[b]) continue;
          const at = (b * rowsOut + rowsOut - 1) * V;
          let row = logits.subarray(at, at + V);
          if (o.noRepeat && tokens[b].length) {
            row = row.slice();
            for (const t of tokens[b]) if (t !== o.stopToken) row[t] = -Infinity;
          }
          const pick = pickToken(row, o);
          tokens[b].push(pick.token); logProbs[b].push(pick.logProb); next[b] = pick.token;
          if (pick.token === o.stopToken) done[b] = true;
        }
        if (step === o.maxNewTokens - 1 || done.every((x) => x)) break;
        let input: StepInput = { ids: next.map((t) => [t]) };
        if (!('ids' in prompt)) {
          const embeds = new Float32Array(B * D);
          next.forEach((t, b) => embeds.set(prompt.table.subarray(t * D, (t + 1) * D), b * D));
          input = { embeds, batch: B, length: 1 };
        }
        const previous = out;
        out = await this.session.run(this.feeds(input, previous, length));
        for (const t of Object.values(previous)) t.dispose?.();
        length++; rowsOut = 1;
      }
    } finally {
      for (const t of Object.values(out)) t.dispose?.();
    }
    return { tokens, logProbs };
  }

  async release(): Promise<void> { await this.session.release(); }
}
