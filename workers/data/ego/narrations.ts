// Ego4D-style narrations: timestamped sentences about the camera wearer ("#C C picks up
// the bag from the desk"), written from a simulated clip's events, read from and written
// to Ego4D's JSON layout, and parsed back into actions for the question writer.
import { z } from 'zod';
import { EVENT_FRAMES, type EgoClip, type EgoEvent } from './world';
import { EGO_CONTAINERS } from './world';

/** Our clips are sampled at one frame a second; Ego4D counts timestamp_frame at 30 fps. */
export const CLIP_FPS = 1;
export const VIDEO_FPS = 30;

export interface Narration {
  text: string;
  timestampSec: number;
  /** The clip frame it starts at (timestamp × the clip's sampling rate). */
  frame: number;
  /** Frames it covers from `frame` (1 when only a timestamp is known). */
  frames: number;
}

const preposition = (place: string) => (EGO_CONTAINERS.includes(place as never) ? 'in' : 'on');

function sentence(e: EgoEvent): string {
  switch (e.action) {
    case 'walk': return `#C C walks to the ${e.place}`;
    case 'open': return `#C C opens the ${e.place}`;
    case 'close': return `#C C closes the ${e.place}`;
    case 'pick': return `#C C picks up the ${e.object} from the ${e.place}`;
    case 'put': return `#C C puts the ${e.object} ${preposition(e.place)} the ${e.place}`;
  }
}

/** One narration per event, in time order. */
export function narrate(clip: EgoClip): Narration[] {
  return clip.events.map((e) => ({ text: sentence(e), timestampSec: e.start / CLIP_FPS, frame: e.start, frames: EVENT_FRAMES }));
}

/** The narrations as one paragraph, sentences numbered from 1 (what the question writer cites). */
export const paragraph = (ns: readonly Narration[]) => ns.map((n, i) => `(${i + 1}) ${n.text}.`).join(' ');

/** Ego4D's narration file layout: {video_uid: {narration_pass_1: {narrations: [...]}}}. */
export function toEgo4dJson(videos: Record<string, readonly Narration[]>): Record<string, { narration_pass_1: { narrations: { timestamp_sec: number; timestamp_frame: number; narration_text: string }[] } }> {
  const out: ReturnType<typeof toEgo4dJson> = {};
  for (const [uid, ns] of Object.entries(videos)) {
    out[uid] = { narration_pass_1: { narrations: ns.map((n) => ({ timestamp_sec: n.timestampSec, timestamp_frame: Math.round(n.timestampSec * VIDEO_FPS), narration_text: n.text })) } };
  }
  return out;
}

const ego4dNarration = z.object({
  timestamp_sec: z.number().nonnegative().finite(),
  timestamp_frame: z.number().int().nonnegative().optional(),
  narration_text: z.string().min(1).max(500),
});
const ego4dFile = z.record(z.string().min(1).max(200), z.object({
  narration_pass_1: z.object({ narrations: z.array(ego4dNarration).max(5000) }),
}));

export class NarrationFileError extends Error {}

/** Largest narration file read (bytes); Ego4D's per-video narrations are far smaller. */
export const MAX_NARRATION_FILE = 4 * 1024 * 1024;

/**
 * Reads narrations in Ego4D's layout. Each video's sentences are sorted by time and given
 * the clip frame round(t · sampleFps); a sentence covers the frames up to the next one, at
 * most `maxSpan`. Throws NarrationFileError naming what is wrong (with the JSON path).
 */
export function parseEgo4dNarrations(text: string, sampleFps = CLIP_FPS, maxSpan = EVENT_FRAMES): { uid: string; narrations: Narration[] }[] {
  if (text.length > MAX_NARRATION_FILE) throw new NarrationFileError(`the narration file is ${(text.length / 1048576).toFixed(1)} MB; at most ${MAX_NARRATION_FILE / 1048576} MB is read`);
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (e) { throw new NarrationFileError(`not JSON: ${(e as Error).message}`); }
  const parsed = ego4dFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    throw new NarrationFileError(`not Ego4D's narration layout ({video_uid: {narration_pass_1: {narrations: [{timestamp_sec, narration_text}]}}}): ${where || 'the file'}: ${issue.message}`);
  }
  const videos = Object.entries(parsed.data);
  if (!videos.length) throw new NarrationFileError('the file holds no video (an empty object)');
  return videos.map(([uid, v]) => {
    const sorted = [...v.narration_pass_1.narrations].sort((a, b) => a.timestamp_sec - b.timestamp_sec);
    const frames = sorted.map((n) => Math.round(n.timestamp_sec * sampleFps));
    return {
      uid,
      narrations: sorted.map((n, i) => ({
        text: n.narration_text.trim(), timestampSec: n.timestamp_sec, frame: frames[i],
        frames: Math.max(1, Math.min(maxSpan, (frames[i + 1] ?? frames[i] + maxSpan) - frames[i])),
      })),
    };
  });
}

export type NarratedVerb = 'walk' | 'pick' | 'put' | 'open' | 'close';
/** `prep`: how the sentence relates object and place ("in", "on", …), for questions in its words. */
export interface NarratedAction { verb: NarratedVerb; object: string | null; place: string | null; prep: string | null }

const ARTICLE = '(?:the|a|an|some|his|her|their)\\s+';
const NOUN = '([a-z][a-z -]*?)';
const PATTERNS: { verb: NarratedVerb; re: RegExp; object?: number; place?: number; prep?: number }[] = [
  { verb: 'pick', re: new RegExp(`^(?:picks up|takes|grabs|lifts)\\s+${ARTICLE}${NOUN}(?:\\s+(?:from|off|out of)\\s+${ARTICLE}${NOUN})?$`), object: 1, place: 2 },
  { verb: 'put', re: new RegExp(`^(?:puts|places|drops|sets|leaves)\\s+(?:down\\s+)?${ARTICLE}${NOUN}(?:\\s+(?:down\\s+)?(in|into|on|onto|inside|at)\\s+${ARTICLE}${NOUN})?$`), object: 1, place: 3, prep: 2 },
  { verb: 'open', re: new RegExp(`^opens\\s+${ARTICLE}${NOUN}$`), place: 1 },
  { verb: 'close', re: new RegExp(`^(?:closes|shuts)\\s+${ARTICLE}${NOUN}$`), place: 1 },
  { verb: 'walk', re: new RegExp(`^(?:walks|goes|moves)\\s+(?:to|towards|into)\\s+${ARTICLE}${NOUN}$`), place: 1 },
];

/** What a narration says the wearer did, or null for a sentence of another kind (or about someone else). */
export function parseNarration(text: string): NarratedAction | null {
  const m = /^#c\s+c\s+(.*?)[.\s]*$/i.exec(text.trim());
  if (!m) return null; // Ego4D narrates other people as "#O": not the wearer's action
  const body = m[1].toLowerCase().replace(/\s+/g, ' ');
  for (const p of PATTERNS) {
    const hit = p.re.exec(body);
    if (!hit) continue;
    const prep = p.prep && hit[p.prep] ? ({ into: 'in', inside: 'in', onto: 'on' } as Record<string, string>)[hit[p.prep]] ?? hit[p.prep] : null;
    return { verb: p.verb, object: p.object ? hit[p.object].trim() : null, place: p.place && hit[p.place] ? hit[p.place].trim() : null, prep };
  }
  return null;
}
