// What a preset costs: the last successful run of it on this machine, else the lab's
// reference figure (labelled as such). A run expected to take over two minutes asks once.
import type { LabInfo, RunRecord } from '../../../common/api';
import type { PresetName } from '../../../common/lab';
import { formatDuration } from './Progress';

export const CONFIRM_OVER_MS = 2 * 60_000;

export interface PresetCost { label: string; ms?: number; measured: boolean }

/** Minutes in a reference text such as "≈ 10 min on 2 cores", when it names them. */
function referenceMs(text: string): number | undefined {
  const h = /(\d+(?:\.\d+)?)\s*h\b/.exec(text), m = /(\d+(?:\.\d+)?)\s*min/.exec(text), s = /(\d+(?:\.\d+)?)\s*s\b/.exec(text);
  if (h) return Number(h[1]) * 3_600_000;
  if (m) return Number(m[1]) * 60_000;
  if (s) return Number(s[1]) * 1000;
  return undefined;
}

const REFERENCE: Record<PresetName, (lab: LabInfo) => string> = {
  smoke: () => 'seconds',
  default: (lab) => lab.defaultTime,
  paper: () => '≤ 1 h a seed',
};

export function presetCost(lab: LabInfo, preset: PresetName, runs: readonly RunRecord[]): PresetCost {
  const last = runs.find((r) => r.lab === lab.id && r.preset === preset && r.status === 'succeeded' && r.summary?.durationMs);
  if (last) return { label: `${formatDuration(last.summary!.durationMs!)} here`, ms: last.summary!.durationMs, measured: true };
  const text = REFERENCE[preset](lab);
  // A reference that names no time is taken as long, except smoke's.
  return { label: `${text} (reference)`, ms: referenceMs(text) ?? (preset === 'smoke' ? 10_000 : Infinity), measured: false };
}

const confirmedKey = (lab: string, preset: PresetName) => `benchtop.confirmed.${lab}.${preset}`;
const presetKey = (lab: string) => `benchtop.preset.${lab}`;

/** The preset the form opens on: the last one used for this lab, else smoke. */
export function initialPreset(lab: string): PresetName {
  const saved = localStorage.getItem(presetKey(lab));
  return saved === 'smoke' || saved === 'default' || saved === 'paper' ? saved : 'smoke';
}
export const rememberPreset = (lab: string, preset: PresetName) => localStorage.setItem(presetKey(lab), preset);
export const needsConfirmation = (lab: string, preset: PresetName, cost: PresetCost) => (cost.ms ?? 0) > CONFIRM_OVER_MS && !localStorage.getItem(confirmedKey(lab, preset));
export const rememberConfirmation = (lab: string, preset: PresetName) => localStorage.setItem(confirmedKey(lab, preset), '1');
