// Seeded English-like stories from a probabilistic grammar whose every choice is known,
// so the text's entropy (and the true next-word distribution after any prefix) is exact.
// The grammar is a script that yields its choices: generation samples each one; replay
// walks a given word prefix through the same script to read the distribution that follows.
// Each choice's options begin with distinct words, so a prefix has one derivation and
// p(text) is the product of the chosen options' probabilities.
import type { Rng } from '../runtime/rng';

/** One choice: phrases (word lists) with probabilities summing to 1; first words distinct. */
export interface StoryChoice { phrases: readonly (readonly string[])[]; probs: readonly number[] }
type Script = Generator<StoryChoice, void, number>;

const NAMES = [
  'tom', 'lily', 'sam', 'mia', 'ben', 'zoe', 'max', 'anna', 'leo', 'ella', 'jack', 'rose', 'finn', 'ruby',
  'noah', 'ivy', 'luke', 'lucy', 'owen', 'nora', 'eli', 'maya', 'adam', 'lena', 'theo', 'iris', 'omar',
  'jade', 'hugo', 'cora',
];
const ANIMALS = [
  'cat', 'dog', 'bird', 'fox', 'bear', 'rabbit', 'mouse', 'frog', 'duck', 'owl', 'pig', 'horse', 'lion',
  'fish', 'goat', 'cow', 'sheep', 'wolf', 'deer', 'bee', 'turtle', 'snail', 'crab', 'whale', 'monkey',
  'tiger', 'zebra', 'camel', 'otter', 'badger',
];
const ADJECTIVES = [
  'little', 'big', 'happy', 'small', 'brave', 'kind', 'old', 'shy', 'funny', 'tiny', 'red', 'blue', 'green',
  'young', 'clever', 'quiet', 'sleepy', 'silly', 'gentle', 'busy', 'bright', 'soft', 'lucky', 'proud',
  'curious', 'wise', 'fast', 'slow', 'strong', 'gray', 'golden', 'spotted', 'fluffy', 'noisy', 'polite',
];
const PLACES = [
  'forest', 'garden', 'park', 'house', 'river', 'field', 'barn', 'lake', 'hill', 'town', 'school', 'farm',
  'beach', 'cave', 'woods', 'pond', 'yard', 'meadow', 'city', 'valley', 'island', 'kitchen', 'library',
  'market', 'mountain', 'desert', 'bridge', 'harbor', 'castle', 'orchard',
];
const OBJECTS = [
  'ball', 'box', 'hat', 'book', 'kite', 'cake', 'apple', 'stick', 'stone', 'cup', 'shoe', 'boat', 'drum',
  'key', 'flower', 'leaf', 'toy', 'coin', 'bell', 'map', 'rope', 'basket', 'shell', 'feather', 'lamp',
  'blanket', 'whistle', 'pencil', 'ribbon', 'candle', 'button', 'marble', 'mirror', 'sock', 'spoon', 'jar',
  'kettle', 'wagon', 'ladder', 'scarf',
];
const ACTIVITIES = [
  'play', 'run', 'sing', 'dance', 'swim', 'jump', 'read', 'climb', 'draw', 'hide', 'eat', 'sleep', 'walk',
  'fly', 'dig', 'paint', 'laugh', 'explore', 'cook', 'rest', 'whisper', 'skate', 'knit', 'build', 'fish',
  'garden', 'wander', 'count', 'bake', 'shout',
];
const FEELINGS = ['happy', 'sad', 'tired', 'scared', 'excited', 'hungry', 'proud', 'sorry', 'surprised', 'calm', 'angry', 'glad', 'lonely', 'brave', 'curious', 'sleepy'];

/** Zipf-like weights 1/(r+1)^0.9, normalised: the first items of a list are the common ones. */
function zipf(n: number): number[] {
  const w = Array.from({ length: n }, (_, r) => 1 / (r + 1) ** 0.9);
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
}

function choice(phrases: (readonly string[])[], probs: number[]): StoryChoice {
  const total = probs.reduce((a, b) => a + b, 0);
  return { phrases, probs: probs.map((p) => p / total) };
}
const words = (list: readonly string[]) => list.map((w) => [w]);
/** A list choice: a few favourites (given weight) over a Zipf tail. */
function listChoice(list: readonly string[], favourites: readonly string[] = [], favouriteWeight = 0): StoryChoice {
  const base = zipf(list.length);
  const fav = new Set(favourites);
  return choice(words(list), base.map((p, i) => p * (1 - favouriteWeight) + (fav.has(list[i]) ? favouriteWeight / fav.size : 0)));
}

/** The story grammar: an opening that names the hero, 2–7 sentences that reuse the hero, a friend and found objects, and an ending. */
function* storyScript(): Script {
  const opening = ['once upon a time there was a', 'long ago there lived a', 'one day there was a'].map((s) => s.split(' '));
  yield choice(opening, [0.5, 0.3, 0.2]);
  // An adjective or the animal directly: one choice, so the options' first words stay distinct.
  const adjOrAnimal = yield choice([...words(ADJECTIVES), ...words(ANIMALS)], [...zipf(ADJECTIVES.length).map((p) => p * 0.6), ...zipf(ANIMALS.length).map((p) => p * 0.4)]);
  const hero = { animal: '', name: '' };
  if (adjOrAnimal < ADJECTIVES.length) hero.animal = ANIMALS[yield listChoice(ANIMALS)];
  else hero.animal = ANIMALS[adjOrAnimal - ADJECTIVES.length];
  yield choice([['named']], [1]);
  hero.name = NAMES[yield listChoice(NAMES)];
  yield choice([['.']], [1]);
  const pronoun = NAMES.indexOf(hero.name) % 2 === 0 ? 'he' : 'she';
  let friend: { animal: string; name: string } | null = null;
  const found: string[] = [];
  const visited: string[] = [];
  for (let sentence = 0; ; sentence++) {
    // Subject, or the ending (likelier as the story grows).
    const end = sentence < 2 ? 0 : Math.min(0.8, 0.15 * (sentence - 1));
    const subjects: string[][] = [[hero.name], [pronoun], ['the', hero.animal], ...(friend ? [[friend.name]] : [])];
    const subjectProbs = friend ? [0.35, 0.3, 0.1, 0.25] : [0.45, 0.4, 0.15];
    const s = yield choice([...subjects, ['and', 'they', 'lived', 'happily', 'ever', 'after', '.']], [...subjectProbs.map((p) => p * (1 - end)), end]);
    if (s === subjects.length) return;
    const isFriend = friend !== null && subjects[s][0] === friend.name;
    // Predicates, first words distinct: went / liked / found / saw / was / played / wanted.
    const predicates = [['went', 'to', 'the'], ['liked', 'to'], ['found', 'a'], ['saw', 'a'], ['was', 'very'], ['played', 'with', 'the'], ['wanted', 'to']];
    const weights = [0.18, 0.16, 0.16, friend ? 0.06 : 0.16, 0.14, found.length || friend ? 0.16 : 0, 0.12];
    const pr = yield choice(predicates, weights);
    if (pr === 0) { const place = PLACES[yield listChoice(PLACES, visited, 0.4)]; visited.push(place); }
    else if (pr === 1 || pr === 6) yield listChoice(ACTIVITIES);
    else if (pr === 2) {
      const a = yield choice([...words(ADJECTIVES), ...words(OBJECTS)], [...zipf(ADJECTIVES.length).map((p) => p * 0.5), ...zipf(OBJECTS.length).map((p) => p * 0.5)]);
      found.push(a < ADJECTIVES.length ? OBJECTS[yield listChoice(OBJECTS)] : OBJECTS[a - ADJECTIVES.length]);
    } else if (pr === 3) {
      const animal = ANIMALS[yield listChoice(ANIMALS)];
      if (!friend && !isFriend) {
        yield choice([['named']], [1]);
        const names = NAMES.filter((n) => n !== hero.name);
        friend = { animal, name: names[yield listChoice(names)] };
      }
    } else if (pr === 4) yield listChoice(FEELINGS);
    else {
      // Plays with something already in the story: a found object or the friend.
      const things = [...new Set(found)];
      const options = [...things.map((t) => [t]), ...(friend && !isFriend ? [[friend.animal]] : [])];
      if (!options.length) options.push(['ball']);
      yield choice(options, options.map(() => 1));
    }
    yield choice([['.'], ['!']], [0.85, 0.15]);
  }
}

export interface Story { words: string[]; /** ln p(story) under the grammar. */ logProb: number }

/** Samples one story. */
export function sampleStory(rng: Rng): Story {
  const out: string[] = [];
  let logProb = 0;
  const script = storyScript();
  let step = script.next();
  while (!step.done) {
    const c = step.value;
    let u = rng.next(), i = 0;
    while (i < c.probs.length - 1 && (u -= c.probs[i]) >= 0) i++;
    // Zero-probability options can still be drawn by rounding at the end of the list.
    while (c.probs[i] === 0) i--;
    out.push(...c.phrases[i]);
    logProb += Math.log(c.probs[i]);
    step = script.next(i);
  }
  return { words: out, logProb };
}

export class StoryGrammarError extends Error {
  constructor(message: string) { super(message); this.name = 'StoryGrammarError'; }
}

/**
 * The distribution of the next word after a prefix of one story's words (the story's start
 * is an empty prefix). Returns a map word → probability; after the story's last word, the
 * map is empty. Throws if the prefix is not a prefix of any story.
 */
export function nextWordDistribution(prefix: readonly string[]): Map<string, number> {
  const script = storyScript();
  let step = script.next();
  let at = 0;
  while (!step.done) {
    const c = step.value;
    if (at === prefix.length) {
      const d = new Map<string, number>();
      c.phrases.forEach((ph, i) => { if (c.probs[i] > 0) d.set(ph[0], (d.get(ph[0]) ?? 0) + c.probs[i]); });
      return d;
    }
    const i = c.phrases.findIndex((ph, k) => c.probs[k] > 0 && ph[0] === prefix[at]);
    if (i < 0) throw new StoryGrammarError(`"${prefix[at]}" cannot follow "${prefix.slice(0, at).join(' ')}"`);
    const phrase = c.phrases[i];
    for (let j = 0; j < phrase.length; j++) {
      if (at === prefix.length) return new Map([[phrase[j], 1]]);
      if (prefix[at] !== phrase[j]) throw new StoryGrammarError(`"${prefix[at]}" cannot follow "${prefix.slice(0, at).join(' ')}"`);
      at++;
    }
    step = script.next(i);
  }
  if (at < prefix.length) throw new StoryGrammarError(`the story ended before "${prefix[at]}"`);
  return new Map();
}

/** Every word the grammar can emit (for tokenizer coverage checks). */
export const STORY_WORDS: readonly string[] = [...new Set([
  ...'once upon a time there was long ago lived one day named . ! and they happily ever after went to the liked found saw very played with wanted he she'.split(' '),
  ...NAMES, ...ANIMALS, ...ADJECTIVES, ...PLACES, ...OBJECTS, ...ACTIVITIES, ...FEELINGS,
])];

const PUNCTUATION = new Set(['.', '!']);
/** The text of a story's words: a space before every word but the first and punctuation. */
export function storyText(ws: readonly string[]): string {
  return ws.map((w, i) => (i === 0 || PUNCTUATION.has(w) ? w : ` ${w}`)).join('');
}
/** How word i of a story appears in the text (its pre-token): with its leading space, if any. */
export function wordChunk(ws: readonly string[], i: number): string {
  return i === 0 || PUNCTUATION.has(ws[i]) ? ws[i] : ` ${ws[i]}`;
}
export function chunkOf(word: string, isFirst: boolean): string {
  return isFirst || PUNCTUATION.has(word) ? word : ` ${word}`;
}

/** Stories joined by newlines: the text a tokenizer and a model see. */
export function storyCorpus(n: number, rng: Rng): { text: string; stories: Story[] } {
  const stories = Array.from({ length: n }, () => sampleStory(rng));
  return { text: stories.map((s) => `${storyText(s.words)}\n`).join(''), stories };
}
