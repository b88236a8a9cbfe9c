// onnxruntime-node sessions for exported and user-supplied models: CPU always, CUDA where
// the provider is installed. A file that is not an ONNX model gets a message naming it.
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';

const requireHere = createRequire(__filename);
let ort: typeof Ort | undefined;
export function onnxRuntime(): typeof Ort {
  ort ??= requireHere('onnxruntime-node') as typeof Ort;
  return ort;
}

export interface OnnxModelInfo { inputNames: readonly string[]; outputNames: readonly string[]; provider: string }

export class OnnxModelError extends Error {
  constructor(source: string, why: string) { super(`${source} is not a usable ONNX model: ${why}`); this.name = 'OnnxModelError'; }
}

/** `threads`: intra-op threads (the job's core budget); onnxruntime's default is every core. */
export async function openOnnxSession(source: string | Uint8Array, opts: { preferCuda?: boolean; threads?: number } = {}): Promise<{ session: Ort.InferenceSession; info: OnnxModelInfo }> {
  const label = typeof source === 'string' ? source : `the uploaded model (${source.byteLength} bytes)`;
  let bytes: Uint8Array;
  if (typeof source === 'string') {
    if (!existsSync(source)) throw new OnnxModelError(label, 'file not found');
    bytes = readFileSync(source);
  } else bytes = source;
  if (bytes.byteLength < 8) throw new OnnxModelError(label, 'file is too short');
  const rt = onnxRuntime();
  const providers = opts.preferCuda ? ['cuda', 'cpu'] : ['cpu'];
  for (const provider of providers) {
    try {
      const threads = opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {};
      const session = await rt.InferenceSession.create(bytes, { executionProviders: [provider], ...threads });
      return { session, info: { inputNames: session.inputNames, outputNames: session.outputNames, provider } };
    } catch (err) {
      if (provider === 'cpu') throw new OnnxModelError(label, (err as Error).message.split('\n')[0]);
    }
  }
  throw new OnnxModelError(label, 'no execution provider accepted it');
}
