// Text generation on onnxruntime-node for any decoder exported by decoder-onnx.ts: one
// prefill over the prompt, then one cached step per token; greedy, top-k and top-p picks
// share the TensorFlow.js sampler's code (pickToken), so both engines choose alike.
import type * as Ort from 'onnxruntime-node';
import { onnxRuntime, openOnnxSession } from './onnx';
import { pickToken, type SamplingOptions } from '../nn/decoder';

export interface OnnxDecoderShape { vocab: number; layers: number; kvHeads: number; headDim: number }

export interface Generated {
  tokens: number[];
  /** Prefill time (prompt → first token's logits), ms. */
  ttftMs: number;
  /** Decode throughput after the first token. */
  tokensPerSec: number;
}

export class OnnxDecoder {
  private constructor(readonly session: Ort.InferenceSession, readonly shape: OnnxDecoderShape) {}

  static async open(model: string | Uint8Array, shape: OnnxDecoderShape): Promise<OnnxDecoder> {
    const { session } = await openOnnxSession(model);
    return new OnnxDecoder(session, shape);
  }

  private feeds(ids: number[][], past: Record<string, Ort.Tensor> | null, pastLen: number, padStart?: readonly number[]): Record<string, Ort.Tensor> {
    const ort = onnxRuntime();
    const B = ids.length, T = ids[0].length, { layers, kvHeads, headDim } = this.shape;
    const big = (xs: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(xs, (x) => BigInt(x)), dims);
    const mask = Array.from({ length: B }, (_, b) => Array.from({ length: pastLen + T }, (_, j) => (j < (padStart?.[b] ?? 0) ? 0 : 1))).flat();
    const feeds: Record<string, Ort.Tensor> = {
      input_ids: big(ids.flat(), [B, T]),
      attention_mask: big(mask, [B, pastLen + T]),
      position_ids: big(Array.from({ length: B }, () => Array.from({ length: T }, (_, t) => pastLen + t)).flat(), [B, T]),
    };
    for (let i = 0; i < layers; i++) {
      for (const kind of ['key', 'value']) {
        feeds[`past_key_values.${i}.${kind}`] = past?.[`present.${i}.${kind}`] ?? new ort.Tensor('float32', new Float32Array(0), [B, kvHeads, 0, headDim]);
      }
    }
    return feeds;
  }

  /** Logits [B, T, V] of whole sequences (rows left-padded by padStart), no cache. */
  async logits(ids: number[][], padStart?: readonly number[]): Promise<Float32Array> {
    const out = await this.session.run(this.feeds(ids, null, 0, padStart));
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

  async release(): Promise<void> { await this.session.release(); }
}
