// cot-dpo's character tokenizer (workers/data/char-tokenizer.ts). Prompts are special tokens
// only (operation, format), so every prompt has the same length and a batch samples
// without padding; targets are characters.
import { charTokenizer } from '../../data/char-tokenizer';
import { OPS, type Op } from '../../../common/labs/cot-dpo';

export const FORMATS = ['direct', 'cot'] as const;
export type Format = (typeof FORMATS)[number];

/** Every character the teacher writes (digits, L/R/A/B/C, operators, the marker's letters). */
const tokenizer = charTokenizer([...FORMATS.map((f) => `<${f}>`), ...OPS.map((o) => `<${o}>`)], ' 0123456789LRABC=+-*<>.#:Answermod');

export const VOCAB = tokenizer.vocab;
export const PAD = tokenizer.pad, EOS = tokenizer.eos;
export const formatToken = (f: Format) => tokenizer.id(`<${f}>`);
export const opToken = (o: Op) => tokenizer.id(`<${o}>`);
export const encodeText = tokenizer.encode;
export const untilEos = tokenizer.untilEos;
/** The paper's 90-word cut. */
export const truncateWordTokens = tokenizer.truncateWords;
export const decodeText = tokenizer.decode;
