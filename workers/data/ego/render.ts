// Frames of the first-person world (world.ts): grey images of S × S pixels (32 or 48),
// drawn in a 32-unit layout sampled at each pixel's centre, so both sizes show the same
// scene. Each place has its own texture; a container has a door; objects resting at the
// place sit in two slots at the top, the held one at the bottom above the hand.
// fashion-mnist items look like one training image of their class, fixed for the clip.
import type { Rng } from '../../runtime/rng';
import type { ImageSet } from '../../runtime/datasets';
import { EGO_CONTAINERS, EGO_OBJECTS, type EgoClip, type EgoFrameState, type EgoObject, type EgoPlace } from './world';

export const EGO_FRAME_SIZES = [32, 48] as const;
export type EgoFrameSize = (typeof EGO_FRAME_SIZES)[number];

/** fashion-mnist class of each object drawn from the data set; the others are sprites drawn here. */
const FASHION_CLASS: Partial<Record<EgoObject, number>> = { trouser: 1, dress: 3, coat: 4, sandal: 5, sneaker: 7, bag: 8 };

/** Each object's 28 × 28 picture for one clip, in [0, 1]. */
export type EgoLook = Record<EgoObject, Float32Array>;

function cupSprite(rng: Rng): Float32Array {
  const s = new Float32Array(784), w = 7 + rng.int(3), top = 6 + rng.int(3);
  for (let y = top; y < 24; y++) for (let x = 14 - w; x <= 14 + w - 2; x++) s[y * 28 + x] = (y === top || x === 14 - w || x === 14 + w - 2 || y === 23) ? 1 : 0.55;
  for (let y = top + 4; y < 19; y++) s[y * 28 + 14 + w + 1] = 1; // handle
  s[(top + 4) * 28 + 14 + w] = 1; s[18 * 28 + 14 + w] = 1;
  return s;
}

function keySprite(rng: Rng): Float32Array {
  const s = new Float32Array(784), r = 4 + rng.int(2), cx = 8, cy = 14;
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
    const d = Math.hypot(x - cx, y - cy);
    if (d <= r && d >= r - 2) s[y * 28 + x] = 1;
  }
  for (let x = cx + r; x < 25; x++) { s[(cy - 1) * 28 + x] = 1; s[cy * 28 + x] = 1; }
  for (const x of [20, 23]) for (let y = cy + 1; y < cy + 5; y++) s[y * 28 + x] = 1; // teeth
  return s;
}

/** The clip's pictures: a random training image for each fashion item, a varied sprite otherwise. */
export function pickLook(fashion: ImageSet, rng: Rng): EgoLook {
  const look = {} as EgoLook;
  for (const o of EGO_OBJECTS) {
    const cls = FASHION_CLASS[o];
    if (cls === undefined) { look[o] = o === 'cup' ? cupSprite(rng) : keySprite(rng); continue; }
    // Rejection sampling over the set: a class is a tenth of it, so a few draws suffice.
    let i = rng.int(fashion.count);
    while (fashion.labels[i] !== cls) i = rng.int(fashion.count);
    const img = new Float32Array(784);
    for (let p = 0; p < 784; p++) img[p] = fashion.pixels[i * 784 + p] / 255;
    look[o] = img;
  }
  return look;
}

/** Texture value of a place at layout point (u, v) (u across, v down, 0..32). */
function texture(place: EgoPlace, u: number, v: number): number {
  const x = Math.floor(u), y = Math.floor(v);
  switch (place) {
    case 'counter': return (y >> 1) % 2 ? 0.28 : 0.08;
    case 'desk': return (x >> 1) % 2 ? 0.28 : 0.08;
    case 'shelf': return y % 8 < 2 ? 0.35 : 0.1;
    case 'drawer': return ((x + y) >> 1) % 3 === 0 ? 0.3 : 0.1;
    case 'fridge': return x % 4 === 1 && y % 4 === 1 ? 0.4 : 0.2;
    case 'sink': return ((x >> 2) + (y >> 2)) % 2 ? 0.25 : 0.05;
  }
}

interface Box { top: number; left: number; size: number }
const SLOTS: Box[] = [{ top: 2, left: 3, size: 12 }, { top: 2, left: 17, size: 12 }];
const HELD: Box = { top: 17, left: 10, size: 12 };
const RAISED: Box = { top: 8, left: 10, size: 12 };

/** Bilinear lookup of a 28 × 28 picture placed in `box`, or -1 outside it. */
function spriteAt(img: Float32Array, box: Box, u: number, v: number): number {
  if (u < box.left || u >= box.left + box.size || v < box.top || v >= box.top + box.size) return -1;
  const sx = ((u - box.left) / box.size) * 28 - 0.5, sy = ((v - box.top) / box.size) * 28 - 0.5;
  const x0 = Math.max(0, Math.min(27, Math.floor(sx))), y0 = Math.max(0, Math.min(27, Math.floor(sy)));
  const x1 = Math.min(27, x0 + 1), y1 = Math.min(27, y0 + 1), fx = Math.max(0, Math.min(1, sx - x0)), fy = Math.max(0, Math.min(1, sy - y0));
  return (img[y0 * 28 + x0] * (1 - fx) + img[y0 * 28 + x1] * fx) * (1 - fy) + (img[y1 * 28 + x0] * (1 - fx) + img[y1 * 28 + x1] * fx) * fy;
}

const inRect = (u: number, v: number, top: number, left: number, h: number, w: number) => u >= left && u < left + w && v >= top && v < top + h;

/** The value at layout point (u, v) of one frame. */
function shade(f: EgoFrameState, look: EgoLook, u: number, v: number): number {
  if (f.action === 'walk' && f.phase === 0 && f.from) {
    // Turning from one place to the next: the old view slides out on the left, the new in on the right.
    return u < 16 ? texture(f.from, u + 8, v) : texture(f.place, u - 8, v);
  }
  let value = texture(f.place, u, v);
  const container = EGO_CONTAINERS.includes(f.place);
  const doorMoving = (f.action === 'open' || f.action === 'close') && f.phase === 0;
  if (container) {
    if (inRect(u, v, 1, 1, 15, 30) && !inRect(u, v, 2, 2, 13, 28)) value = 0.75; // door frame
    else if (inRect(u, v, 2, 2, 13, 28)) value = doorMoving ? (u < 16 ? 0.5 : 0.02) : f.open ? 0.02 : 0.5;
  } else if (v >= 14.5 && v < 16) value = 0.6; // the surface's edge
  const showSlots = !container || (f.open && !doorMoving);
  if (showSlots) {
    f.visible.slice(0, 2).forEach((o, i) => { const s = spriteAt(look[o], SLOTS[i], u, v); if (s >= 0) value = Math.max(value, s); });
  }
  if (f.action === 'pick' && f.phase === 0 && f.moving) {
    const i = Math.max(0, f.visible.indexOf(f.moving));
    const slot = SLOTS[Math.min(i, 1)];
    if (inRect(u, v, 14, slot.left, 2, slot.size)) value = 1; // the hand under the object it takes
  }
  if (f.action === 'put' && f.phase === 0 && f.held) {
    const s = spriteAt(look[f.held], RAISED, u, v);
    if (s >= 0) value = Math.max(value, s);
    if (inRect(u, v, 20, 8, 2, 16)) value = 1;
  } else if (f.held) {
    const s = spriteAt(look[f.held], HELD, u, v);
    if (s >= 0) value = Math.max(value, s);
  }
  if (!(f.action === 'put' && f.phase === 0) && inRect(u, v, 30, 8, 2, 16)) value = f.held ? 1 : 0.7; // the hand
  return value;
}

/** One frame, S × S in [0, 1], with camera noise. */
export function renderFrame(f: EgoFrameState, look: EgoLook, size: EgoFrameSize, rng: Rng, noise = 0.03): Float32Array {
  const out = new Float32Array(size * size), scale = 32 / size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = shade(f, look, (x + 0.5) * scale, (y + 0.5) * scale) + noise * rng.normal();
      out[y * size + x] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return out;
}

/** All frames of a clip, [N · S · S]. */
export function renderClip(clip: EgoClip, look: EgoLook, size: EgoFrameSize, rng: Rng): Float32Array {
  const out = new Float32Array(clip.frames.length * size * size);
  clip.frames.forEach((f, i) => out.set(renderFrame(f, look, size, rng), i * size * size));
  return out;
}
