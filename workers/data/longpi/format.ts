// A table instance as the models read it: tokens of a fixed vocabulary for the built-in
// decoders, or text for a user's model or an endpoint (a row is a line `K07: 142`); and the
// answer read back as the queried key's values (a row of another key, or anything that is
// not a row, stays as NaN: it costs precision).
//
// Built-in vocabulary: a row `key: value` is one token of its own (one unit = one token, so
// L = 160 units is a 160-token context), the question names its key with a key token, and
// the answer lists the relevant rows as row tokens, then <eos>. Answering with rows rather
// than bare values is what the task asks ("list every row whose key is Z") and it lets each
// answer token carry the key forward, so the small models learn the task in minutes
// (docs/notes/longpibench.md has the runs that stalled on bare values).
import type { Placement, TableInstance, TableVocabulary } from './generator';

const SPECIALS = ['<pad>', '<bos>', '<eos>', 'find', '=>'] as const;
export const TOKEN = Object.fromEntries(SPECIALS.map((s, i) => [s, i])) as Record<(typeof SPECIALS)[number], number>;

export interface TableTokens {
  vocab: number;
  /** The queried key, as the question names it. */
  keyToken(k: number): number;
  /** A whole row `key: value` (one unit, one token). */
  rowToken(k: number, v: number): number;
  /** A row token's key and value, or null. */
  rowOf(token: number): { key: number; value: number } | null;
}

export function tableTokens(v: TableVocabulary): TableTokens {
  const keyBase = SPECIALS.length, rowBase = keyBase + v.keys;
  return {
    vocab: rowBase + v.keys * v.values,
    keyToken: (k) => keyBase + k,
    rowToken: (k, x) => rowBase + k * v.values + x,
    rowOf: (t) => (t >= rowBase && t < rowBase + v.keys * v.values ? { key: Math.floor((t - rowBase) / v.values), value: (t - rowBase) % v.values } : null),
  };
}

const queryAtHead = (p: Placement) => p !== 'tail';
const queryAtTail = (p: Placement) => p !== 'head';

/** `<bos> [find key] rows… [find key] =>` and the answer `relevant rows… <eos>`. */
export function encodeTable(x: TableInstance, t: TableTokens): { prompt: number[]; answer: number[] } {
  const query = [TOKEN.find, t.keyToken(x.key)];
  const prompt = [TOKEN['<bos>'], ...(queryAtHead(x.placement) ? query : [])];
  for (const r of x.rows) prompt.push(t.rowToken(r.key, r.value));
  prompt.push(...(queryAtTail(x.placement) ? query : []), TOKEN['=>']);
  return { prompt, answer: [...x.answer.map((v) => t.rowToken(x.key, v)), TOKEN['<eos>']] };
}

/** Generated tokens up to `<eos>` as the queried key's values; anything else is kept as NaN. */
export function decodeAnswer(tokens: readonly number[], t: TableTokens, key: number): number[] {
  const out: number[] = [];
  for (const tok of tokens) {
    if (tok === TOKEN['<eos>']) break;
    const row = t.rowOf(tok);
    out.push(row && row.key === key ? row.value : Number.NaN);
  }
  return out;
}

export const keyText = (k: number) => `K${String(k).padStart(2, '0')}`;
const VALUE_OFFSET = 100;
export const valueText = (v: number) => String(VALUE_OFFSET + v);

const YEAR_OFFSET = 1700;
export const yearText = (v: number) => String(YEAR_OFFSET + v);

/** The instance as a text prompt for a causal LM or a chat endpoint (a table, or a timeline of events with years). */
export function tableText(x: TableInstance): string {
  const timeline = x.task === 'timeline';
  const question = timeline
    ? `Question: list the years of every event of ${keyText(x.key)}, from the earliest to the latest, separated by commas.`
    : `Question: list every row whose key is ${keyText(x.key)}, in table order, one per line as "key: value".`;
  const lines = [timeline ? 'Below is a list of events, one per line as "event of key: year".' : 'Below is a table, one row per line as "key: value".'];
  if (queryAtHead(x.placement)) lines.push(question);
  for (const r of x.rows) lines.push(timeline ? `event of ${keyText(r.key)}: ${yearText(r.value)}` : `${keyText(r.key)}: ${valueText(r.value)}`);
  if (queryAtTail(x.placement)) lines.push(question);
  lines.push('Answer:');
  return lines.join('\n');
}

/**
 * The queried key's values named in a text answer. Rows `Knn: value` count when their key is
 * the queried one (another key's row is NaN); an answer with no rows at all is read as bare
 * numbers (a model that lists only the values). A value outside the range is NaN.
 */
export function parseTextAnswer(text: string, v: TableVocabulary, key: number): number[] {
  const asValue = (s: string) => { const x = Number(s) - VALUE_OFFSET; return Number.isInteger(x) && x >= 0 && x < v.values ? x : Number.NaN; };
  const rows = [...text.matchAll(/K(\d+)\s*:\s*(\d+)/g)];
  if (rows.length) return rows.map((m) => (Number(m[1]) === key ? asValue(m[2]) : Number.NaN));
  return (text.match(/\d+/g) ?? []).map(asValue);
}

/** The years a timeline answer lists, in order (a number that is not a year of the range is NaN, so the answer is malformed). */
export function parseTimelineAnswer(text: string, v: TableVocabulary): number[] {
  return (text.match(/\d+/g) ?? []).map((s) => { const x = Number(s) - YEAR_OFFSET; return Number.isInteger(x) && x >= 0 && x < v.values ? x : Number.NaN; });
}
