// The story grammar's exact probabilities, the byte-level BPE, and its tokenizer.json read
// by the Hugging Face tokenizers library.
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '@huggingface/tokenizers';
import { Rng } from '../workers/runtime/rng';
import { nextWordDistribution, sampleStory, storyCorpus, storyText, STORY_WORDS, StoryGrammarError } from '../workers/data/stories';
import { bpeTokenizer, fromHuggingFaceJson, readUtf8Text, toHuggingFaceJson, trainBpe, TokenizerInputError } from '../workers/data/bpe-tokenizer';
import { storyTokenTruth } from '../workers/data/story-tokens';

const corpus = storyCorpus(400, new Rng(5));
const tok = trainBpe(corpus.text, 300);

describe('story grammar', () => {
  it('replays its own stories: each next-word distribution sums to 1 and holds the word that came', () => {
    for (const s of corpus.stories.slice(0, 30)) {
      let logProb = 0;
      s.words.forEach((w, i) => {
        const d = nextWordDistribution(s.words.slice(0, i));
        expect([...d.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
        logProb += Math.log(d.get(w)!);
      });
      expect(nextWordDistribution(s.words).size).toBe(0);
      expect(logProb).toBeCloseTo(s.logProb, 9);
    }
  });
  it('rejects a prefix no story has', () => {
    expect(() => nextWordDistribution(['once', 'upon', 'a', 'banana'])).toThrow(StoryGrammarError);
    expect(() => nextWordDistribution(['the'])).toThrow(/cannot follow/);
  });
  it('stays within its few hundred words and reuses the hero', () => {
    const seen = new Set(corpus.stories.flatMap((s) => s.words));
    for (const w of seen) expect(STORY_WORDS).toContain(w);
    expect(STORY_WORDS.length).toBeGreaterThan(150);
    const s = sampleStory(new Rng(9));
    const name = s.words[s.words.indexOf('named') + 1];
    expect(s.words.filter((w) => w === name).length).toBeGreaterThanOrEqual(1);
  });
});

describe('byte-level BPE', () => {
  it('round-trips any text, including bytes it never saw', () => {
    for (const text of [storyText(corpus.stories[0].words), 'Ünïcode — 你好 🙂\ttabs\n\nand  spaces ', "it's 42 o'clock"]) {
      expect(tok.decode(tok.encode(text))).toBe(text);
    }
    expect(tok.vocab.length).toBe(256 + 300);
    expect(tok.encode(corpus.text).length).toBeLessThan(corpus.text.length / 3);
  });
  it('gives per-token probabilities whose sum is the story\'s log-probability (the floor is exact)', () => {
    for (const s of corpus.stories.slice(0, 40)) {
      const truth = storyTokenTruth(s, tok);
      expect(truth.tokens).toEqual([...tok.encode(storyText(s.words)), tok.eos]);
      expect(truth.logProb.reduce((a, b) => a + b, 0)).toBeCloseTo(s.logProb, 8);
      truth.tokens.forEach((t, i) => { if (!truth.uncertain[i]) expect(truth.top1[i]).toBe(t); });
    }
  });
  it('writes a tokenizer.json that the Hugging Face tokenizers library reads to the same ids', () => {
    const json = toHuggingFaceJson(tok);
    const hf = new Tokenizer(json as never, { model_max_length: 256 } as never);
    const rng = new Rng(3);
    const texts = [...corpus.stories.slice(0, 100).map((s) => storyText(s.words)), corpus.text.slice(0, 3000)];
    const alphabet = 'abc xyz.!,\n\t  éü你🙂0123\'sll';
    for (let i = 0; i < 100; i++) texts.push(Array.from({ length: 1 + rng.int(40) }, () => alphabet[rng.int(alphabet.length)]).join(''));
    for (const text of texts) expect(hf.encode(text).ids).toEqual(tok.encode(text));
    expect(fromHuggingFaceJson(JSON.parse(JSON.stringify(json))).encode(corpus.text.slice(0, 500))).toEqual(tok.encode(corpus.text.slice(0, 500)));
  });
  it('names what is wrong with a bad tokenizer.json or text file', () => {
    expect(() => fromHuggingFaceJson({ model: { type: 'WordPiece' } })).toThrow(/not a byte-level BPE/);
    expect(() => fromHuggingFaceJson({ model: { type: 'BPE', merges: [['a']] } })).toThrow(/malformed merge/);
    expect(() => bpeTokenizer([['a', 'b'], ['a', 'b']])).toThrow(TokenizerInputError);
    expect(() => readUtf8Text(new Uint8Array(), 'notes.txt')).toThrow(/notes.txt is empty/);
    expect(() => readUtf8Text(Uint8Array.from([0x68, 0xff, 0xfe, 0x69]), 'latin.txt')).toThrow(/not UTF-8/);
    expect(() => readUtf8Text(Uint8Array.from([0x68, 0, 0x69]), 'a.bin')).toThrow(/binary/);
    expect(readUtf8Text(new TextEncoder().encode('\uFEFFhello'), 'bom.txt')).toBe('hello');
  });
});
