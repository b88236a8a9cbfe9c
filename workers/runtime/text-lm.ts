// Text language models a lab can query with a prompt: a Hugging Face–style folder with an
// ONNX causal LM (run offline on onnxruntime-node; the folder afm-ondevice exports, or any
// with a llama-layout graph and a byte-level BPE tokenizer.json in our vocabulary order),
// or an OpenAI-compatible endpoint on the user's machine (llama.cpp server, Ollama, vLLM,
// `benchtop serve-lm`): requests bounded in time, retried with back-off, cancellable.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { fromHuggingFaceJson, type BpeTokenizer } from '../data/bpe-tokenizer';
import { UserInputError } from './failure';
import { OnnxDecoder } from './onnx-generate';
import { Rng } from './rng';

export interface TextLm {
  /** What the run calls it: `onnx:<folder>` or `endpoint:<model>@<url>`. */
  name: string;
  /** Greedy continuation of `prompt`, at most `maxTokens` new tokens. */
  complete(prompt: string, maxTokens: number, signal: AbortSignal): Promise<string>;
  close(): Promise<void>;
}

function readJson(path: string, what: string): Record<string, unknown> {
  if (!existsSync(path)) throw new UserInputError(`${what} is missing: ${path}`);
  let value: unknown;
  try { value = JSON.parse(readFileSync(path, 'utf8')); } catch (e) { throw new UserInputError(`${what} is not valid JSON (${(e as Error).message}): ${path}`); }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new UserInputError(`${what} is not a JSON object: ${path}`);
  return value as Record<string, unknown>;
}

const positiveInt = (c: Record<string, unknown>, key: string, path: string) => {
  const v = c[key];
  if (!Number.isInteger(v) || (v as number) <= 0) throw new UserInputError(`config.json: "${key}" must be a positive integer (got ${JSON.stringify(v)}): ${path}`);
  return v as number;
};

/** The tokenizer in our byte-level BPE's id order, or a message saying why not. */
function readTokenizer(dir: string): BpeTokenizer {
  const path = join(dir, 'tokenizer.json');
  const json = readJson(path, 'tokenizer.json');
  let t: BpeTokenizer;
  try { t = fromHuggingFaceJson(json); } catch (e) { throw new UserInputError(`${(e as Error).message}: ${path}`); }
  const vocab = (json.model as { vocab?: Record<string, number> }).vocab;
  if (vocab && t.vocab.some((s, i) => vocab[s] !== i)) throw new UserInputError(`tokenizer.json's vocabulary is not in byte-level BPE order (256 bytes, then one token per merge), the only layout read here: ${path}`);
  return t;
}

/** An exported causal LM folder (onnx/model.onnx, config.json, tokenizer.json), opened on onnxruntime-node. */
export async function openOnnxFolder(dir: string): Promise<TextLm> {
  if (!isAbsolute(dir)) throw new UserInputError(`model folder "${dir}" is not an absolute path`);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserInputError(`model folder ${dir} does not exist`);
  const cfgPath = join(dir, 'config.json');
  const cfg = readJson(cfgPath, 'config.json');
  const layers = positiveInt(cfg, 'num_hidden_layers', cfgPath), heads = positiveInt(cfg, 'num_attention_heads', cfgPath);
  const kvHeads = Number.isInteger(cfg.num_key_value_heads) ? (cfg.num_key_value_heads as number) : heads;
  const headDim = Number.isInteger(cfg.head_dim) ? (cfg.head_dim as number) : positiveInt(cfg, 'hidden_size', cfgPath) / heads;
  const vocab = positiveInt(cfg, 'vocab_size', cfgPath), maxPositions = positiveInt(cfg, 'max_position_embeddings', cfgPath);
  const tokenizer = readTokenizer(dir);
  const onnxPath = join(dir, 'onnx', 'model.onnx');
  if (!existsSync(onnxPath)) throw new UserInputError(`onnx/model.onnx is missing: ${onnxPath}`);
  let model: OnnxDecoder;
  try { model = await OnnxDecoder.open(onnxPath, { vocab, layers, kvHeads, headDim }); } catch (e) { throw new UserInputError(`onnx/model.onnx could not be opened (${(e as Error).message.split('\n')[0]}): ${onnxPath}`); }
  const eos = Number.isInteger(cfg.eos_token_id) ? (cfg.eos_token_id as number) : tokenizer.eos;
  return {
    name: `onnx:${dir}`,
    async complete(prompt, maxTokens, signal) {
      if (signal.aborted) throw new Error('cancelled');
      const ids = tokenizer.encode(prompt);
      // Room for the answer: the prompt and maxTokens must fit the model's positions.
      if (ids.length + maxTokens > maxPositions) throw new Error(`the prompt is ${ids.length} tokens; with ${maxTokens} answer tokens it exceeds the model's ${maxPositions} positions`);
      const g = await model.generate(ids, { maxNewTokens: maxTokens, temperature: 0, topK: 0, topP: 1, rng: new Rng(0), stopToken: eos });
      return tokenizer.decode(g.tokens.filter((t) => t !== eos));
    },
    close: () => model.release(),
  };
}

export interface EndpointOptions {
  /** Base URL, e.g. http://127.0.0.1:8080 (a trailing /v1 is accepted). */
  url: string;
  model: string;
  api: 'completions' | 'chat';
  /** Per request. */
  timeoutMs?: number;
  /** Retries after a network error, a timeout, 429 or 5xx (back-off 0.5 s, 1 s, 2 s, …). */
  retries?: number;
  backoffMs?: number;
}

class EndpointError extends Error {
  constructor(message: string, readonly retry: boolean) { super(message); }
}

/** The endpoint's base URL without a trailing slash or /v1; only http(s). */
export function endpointBase(url: string): string {
  let u: URL;
  try { u = new URL(url); } catch { throw new UserInputError(`endpoint URL "${url}" is not a URL (e.g. http://127.0.0.1:8080)`); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UserInputError(`endpoint URL "${url}" must start with http:// or https://`);
  return u.href.replace(/\/+$/, '').replace(/\/v1$/, '');
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve, reject) => {
  const t = setTimeout(() => { signal.removeEventListener('abort', stop); resolve(); }, ms);
  const stop = () => { clearTimeout(t); reject(new Error('cancelled')); };
  signal.addEventListener('abort', stop, { once: true });
});

/** An OpenAI-compatible endpoint: greedy (temperature 0) completions of a text prompt. */
export function openEndpoint(o: EndpointOptions): TextLm {
  const base = endpointBase(o.url);
  if (!o.model.trim()) throw new UserInputError('the endpoint needs a model name (what its /v1/models lists)');
  const timeoutMs = o.timeoutMs ?? 120_000, retries = o.retries ?? 3, backoffMs = o.backoffMs ?? 500;
  const path = o.api === 'chat' ? '/v1/chat/completions' : '/v1/completions';
  async function once(prompt: string, maxTokens: number, signal: AbortSignal): Promise<string> {
    const body = o.api === 'chat'
      ? { model: o.model, messages: [{ role: 'user', content: prompt }], max_tokens: maxTokens, temperature: 0 }
      : { model: o.model, prompt, max_tokens: maxTokens, temperature: 0 };
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.any([signal, timeout]) });
    } catch (e) {
      if (signal.aborted) throw new Error('cancelled');
      const why = timeout.aborted ? `no answer within ${timeoutMs / 1000} s` : `unreachable (${((e as Error).cause as Error)?.message ?? (e as Error).message})`;
      throw new EndpointError(`endpoint ${base}${path}: ${why}`, true);
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) throw new EndpointError(`endpoint ${base}${path} answered HTTP ${res.status}: ${text.slice(0, 200)}`, res.status === 429 || res.status >= 500);
    let json: unknown;
    try { json = JSON.parse(text); } catch { throw new EndpointError(`endpoint ${base}${path} returned something that is not JSON: ${JSON.stringify(text.slice(0, 120))}`, false); }
    const choice = (json as { choices?: unknown[] })?.choices?.[0] as { text?: unknown; message?: { content?: unknown } } | undefined;
    const out = o.api === 'chat' ? choice?.message?.content : choice?.text;
    if (typeof out !== 'string') throw new EndpointError(`endpoint ${base}${path} returned JSON without ${o.api === 'chat' ? 'choices[0].message.content' : 'choices[0].text'}: ${text.slice(0, 160)}`, false);
    return out;
  }
  return {
    name: `endpoint:${o.model}@${base}`,
    async complete(prompt, maxTokens, signal) {
      for (let attempt = 0; ; attempt++) {
        try { return await once(prompt, maxTokens, signal); } catch (e) {
          if (!(e instanceof EndpointError) || !e.retry || attempt >= retries) throw e instanceof EndpointError && e.retry ? new Error(`${e.message} (after ${attempt + 1} attempts)`) : e;
          await sleep(backoffMs * 2 ** attempt, signal);
        }
      }
    },
    close: async () => {},
  };
}
