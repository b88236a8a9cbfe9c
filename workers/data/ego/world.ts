// A seeded first-person world: the camera wearer walks between places, opens and closes
// containers, picks objects up and puts them down. A clip is the wearer's frame-by-frame
// state (what the camera sees) and the events that changed it; narrations and frames are
// both written from it (narrations.ts, render.ts).
import type { Rng } from '../../runtime/rng';

import { EGO_CONTAINERS, EGO_OBJECTS, EGO_PLACES, type EgoObject, type EgoPlace } from '../../../common/ego-vocabulary';

export { EGO_CONTAINERS, EGO_OBJECTS, EGO_PLACES, type EgoObject, type EgoPlace };
export const EGO_ACTIONS = ['idle', 'walk', 'pick', 'put', 'open', 'close'] as const;
export type EgoAction = (typeof EGO_ACTIONS)[number];

/** Frames an event lasts: its start frame shows the motion, the next its result. */
export const EVENT_FRAMES = 2;

export interface EgoEvent {
  action: Exclude<EgoAction, 'idle'>;
  /** Where the wearer is when it happens (for a walk: where it goes). */
  place: EgoPlace;
  object: EgoObject | null;
  /** First frame of the event; it spans EVENT_FRAMES frames. */
  start: number;
}

/** What the camera sees in one frame. */
export interface EgoFrameState {
  place: EgoPlace;
  /** The place walked from, on a walk's first frame (the view is between the two). */
  from: EgoPlace | null;
  held: EgoObject | null;
  /** The current place's door, if it has one. */
  open: boolean | null;
  /** Objects resting at the current place and visible (inside a closed container: none), in placement order. */
  visible: EgoObject[];
  action: EgoAction;
  /** 0 on an event's first frame (the motion), 1 on its second (the result); 0 when idle. */
  phase: 0 | 1;
  /** The object being taken or put on a pick/put frame. */
  moving: EgoObject | null;
}

export interface EgoClip { frames: EgoFrameState[]; events: EgoEvent[] }

interface World { place: EgoPlace; held: EgoObject | null; at: Map<EgoObject, EgoPlace>; order: EgoObject[]; open: Set<EgoPlace> }

const isContainer = (p: EgoPlace) => EGO_CONTAINERS.includes(p);
const reachable = (w: World, p: EgoPlace) => !isContainer(p) || w.open.has(p);
const objectsAt = (w: World, p: EgoPlace) => w.order.filter((o) => w.at.get(o) === p);

function snapshot(w: World, action: EgoAction, phase: 0 | 1, moving: EgoObject | null, from: EgoPlace | null): EgoFrameState {
  return {
    place: w.place, from, held: w.held, open: isContainer(w.place) ? w.open.has(w.place) : null,
    visible: reachable(w, w.place) ? objectsAt(w, w.place) : [], action, phase, moving,
  };
}

/** The wearer's options in the current state, each with a weight (walking is always possible). */
function choices(w: World): { action: EgoEvent['action']; weight: number }[] {
  const out: { action: EgoEvent['action']; weight: number }[] = [{ action: 'walk', weight: 1 }];
  const here = w.place;
  if (isContainer(here)) out.push({ action: w.open.has(here) ? 'close' : 'open', weight: w.open.has(here) ? 0.8 : 1.5 });
  if (reachable(w, here)) {
    if (w.held === null && objectsAt(w, here).length > 0) out.push({ action: 'pick', weight: 2 });
    if (w.held !== null) out.push({ action: 'put', weight: 2 });
  }
  return out;
}

function pickWeighted<T extends { weight: number }>(items: T[], rng: Rng): T {
  let u = rng.next() * items.reduce((s, x) => s + x.weight, 0);
  for (const x of items) { u -= x.weight; if (u < 0) return x; }
  return items[items.length - 1];
}

/**
 * A clip of exactly `length` frames. Objects (5 of the 8) start spread over the places,
 * containers closed; events of EVENT_FRAMES frames follow each other with 0–2 idle frames
 * between them, until the clip is full.
 */
export function simulateClip(length: number, rng: Rng): EgoClip {
  if (!Number.isInteger(length) || length < 4) throw new RangeError(`a clip needs at least 4 frames, not ${length}`);
  const present = Array.from(rng.permutation(EGO_OBJECTS.length)).slice(0, 5).map((i) => EGO_OBJECTS[i]);
  const w: World = { place: EGO_PLACES[rng.int(EGO_PLACES.length)], held: null, at: new Map(), order: present, open: new Set() };
  for (const o of present) w.at.set(o, EGO_PLACES[rng.int(EGO_PLACES.length)]);
  const frames: EgoFrameState[] = [], events: EgoEvent[] = [];
  while (frames.length < length) {
    const idle = rng.int(3);
    for (let i = 0; i < idle && frames.length < length; i++) frames.push(snapshot(w, 'idle', 0, null, null));
    if (frames.length + EVENT_FRAMES > length) { while (frames.length < length) frames.push(snapshot(w, 'idle', 0, null, null)); break; }
    const { action } = pickWeighted(choices(w), rng);
    const start = frames.length;
    if (action === 'walk') {
      const from = w.place;
      const others = EGO_PLACES.filter((p) => p !== from);
      w.place = others[rng.int(others.length)];
      frames.push(snapshot(w, 'walk', 0, null, from));
      frames.push(snapshot(w, 'walk', 1, null, null));
      events.push({ action, place: w.place, object: null, start });
    } else if (action === 'open' || action === 'close') {
      frames.push(snapshot(w, action, 0, null, null)); // the door half-way (drawn from action and phase)
      if (action === 'open') w.open.add(w.place); else w.open.delete(w.place);
      frames.push(snapshot(w, action, 1, null, null));
      events.push({ action, place: w.place, object: null, start });
    } else if (action === 'pick') {
      const here = objectsAt(w, w.place);
      const o = here[rng.int(here.length)];
      frames.push(snapshot(w, 'pick', 0, o, null));
      w.at.delete(o); w.held = o;
      frames.push(snapshot(w, 'pick', 1, o, null));
      events.push({ action, place: w.place, object: o, start });
    } else {
      const o = w.held!;
      frames.push(snapshot(w, 'put', 0, o, null));
      w.held = null; w.at.set(o, w.place);
      // A put object goes to the front of its place, so the camera shows it.
      w.order = [o, ...w.order.filter((x) => x !== o)];
      frames.push(snapshot(w, 'put', 1, o, null));
      events.push({ action, place: w.place, object: o, start });
    }
  }
  return { frames, events };
}
