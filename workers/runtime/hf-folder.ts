// A Hugging Face–style model folder for an exported decoder: onnx/model.onnx, config.json
// (model type "llama", whose graph inputs and cache layout transformers.js knows, with the
// fields it reads: key/value heads, head size, RoPE base, tied embeddings),
// generation_config.json, tokenizer.json and tokenizer_config.json.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './paths';
import { headDim, type DecoderConfig } from '../nn/decoder';

export interface HfFolderFiles { onnx: Uint8Array; config: DecoderConfig; tokenizerJson: unknown; eosTokenId: number; eosToken: string; extra?: Record<string, unknown> }

export function hfConfig(c: DecoderConfig, eosTokenId: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'], model_type: 'llama',
    vocab_size: c.vocab, hidden_size: c.dModel, intermediate_size: c.ffnHidden, num_hidden_layers: c.layers,
    num_attention_heads: c.heads, num_key_value_heads: c.kvHeads, head_dim: headDim(c),
    rope_theta: c.ropeBase, max_position_embeddings: c.maxLen, tie_word_embeddings: true, rms_norm_eps: 1e-6,
    hidden_act: 'silu', bos_token_id: eosTokenId, eos_token_id: eosTokenId, pad_token_id: eosTokenId, use_cache: true,
    // Not Llama's: what our graph adds, for a reader of this file.
    benchtop: { qk_norm: c.qkNorm, sliding_window: c.window, ...extra },
  };
}

/** Writes the folder; returns the paths written. */
export function writeHfFolder(dir: string, f: HfFolderFiles): string[] {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const files: [string, string | Uint8Array][] = [
    ['onnx/model.onnx', f.onnx],
    ['config.json', JSON.stringify(hfConfig(f.config, f.eosTokenId, f.extra), null, 2)],
    ['generation_config.json', JSON.stringify({ bos_token_id: f.eosTokenId, eos_token_id: f.eosTokenId, pad_token_id: f.eosTokenId, max_length: f.config.maxLen }, null, 2)],
    ['tokenizer.json', JSON.stringify(f.tokenizerJson)],
    ['tokenizer_config.json', JSON.stringify({
      tokenizer_class: 'PreTrainedTokenizerFast', model_max_length: f.config.maxLen, eos_token: f.eosToken, bos_token: f.eosToken, pad_token: f.eosToken,
      add_bos_token: false, add_eos_token: false, clean_up_tokenization_spaces: false,
    }, null, 2)],
  ];
  for (const [name, data] of files) writeFileAtomic(join(dir, name), data);
  return files.map(([name]) => join(dir, name));
}
