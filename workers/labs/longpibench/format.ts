// A table instance as the models read it: tokens of a fixed vocabulary for the built-in
// decoders (a row is 3 tokens: key, value, ';'), or text for a user's model or endpoint
// (a row is a line `K07: 142`); and the answer read back as values.
import type { Placement, TableInstance, TableVocabulary } from './generator';

const SPECIALS = ['<pad>', '<bos>', '<eos>', 'find', '=>', ';'] as const;
export const TOKEN = Object.fromEntries(SPECIALS.map((s, i) => [s, i])) as Record<(typeof SPECIALS)[number], number>;

export interface TableTokens { vocab: number; keyToken(k: number): number; valueToken(v: number): number; valueOf(token: number): number | null }

export function tableTokens(v: TableVocabulary): TableTokens {
  const keyBase = SPECIALS.length, valueBase = keyBase + v.keys;
  return {
    vocab: valueBase + v.values,
    keyToken: (k) => keyBase + k,
    valueToken: (x) => valueBase + x,
    valueOf: (t) => (t >= valueBase && t < valueBase + v.values ? t - valueBase : null),
  };
}

const queryAtHead = (p: Placement) => p !== 'tail';
const queryAtTail = (p: Placement) => p !== 'head';

/** `<bos> [find key] rows… [find key] =>` and the answer `values… <eos>`. */
export function encodeTable(x: TableInstance, t: TableTokens): { prompt: number[]; answer: number[] } {
  const query = [TOKEN.find, t.keyToken(x.key)];
  const prompt = [TOKEN['<bos>'], ...(queryAtHead(x.placement) ? query : [])];
  for (const r of x.rows) prompt.push(t.keyToken(r.key), t.valueToken(r.value), TOKEN[';']);
  prompt.push(...(queryAtTail(x.placement) ? query : []), TOKEN['=>']);
  return { prompt, answer: [...x.answer.map(t.valueToken), TOKEN['<eos>']] };
}

/** Generated tokens up to `<eos>` as values; a token that is not a value is kept as NaN, so it costs precision. */
export function decodeAnswer(tokens: readonly number[], t: TableTokens): number[] {
  const out: number[] = [];
  for (const tok of tokens) {
    if (tok === TOKEN['<eos>']) break;
    out.push(t.valueOf(tok) ?? Number.NaN);
  }
  return out;
}

const keyText = (k: number) => `K${String(k).padStart(2, '0')}`;
const VALUE_OFFSET = 100;
const valueText = (v: number) => String(VALUE_OFFSET + v);

/** The instance as a text prompt for a causal LM or a chat endpoint. */
export function tableText(x: TableInstance): string {
  const question = `Question: list the value of every row whose key is ${keyText(x.key)}, in table order, separated by commas.`;
  const lines = ['Below is a table, one row per line as "key: value".'];
  if (queryAtHead(x.placement)) lines.push(question);
  for (const r of x.rows) lines.push(`${keyText(r.key)}: ${valueText(r.value)}`);
  if (queryAtTail(x.placement)) lines.push(question);
  lines.push('Answer:');
  return lines.join('\n');
}

/** The values named in a text answer: every whole number, as a value index (numbers outside the value range stay, as NaN). */
export function parseTextAnswer(text: string, v: TableVocabulary): number[] {
  return (text.match(/\d+/g) ?? []).map((s) => {
    const x = Number(s) - VALUE_OFFSET;
    return x >= 0 && x < v.values ? x : Number.NaN;
  });
}
