// The serializable half of a lab: what every host and the renderer may know about it.
// The executable half (run, queries) lives in workers/labs/<id>/lab.ts.
import { z } from 'zod';
import type { QuerySchemas, SampleSchemas } from './lab-contract';
import type { MetricInfo } from './metrics';

export type PresetName = 'smoke' | 'default' | 'paper';
export const PRESET_NAMES: readonly PresetName[] = ['smoke', 'default', 'paper'];

export interface LabSpec<S extends z.ZodObject = z.ZodObject> {
  id: string;
  title: string;
  paper: { title: string; arxiv: string };
  /** One line for the sidebar. */
  summary: string;
  /** Every field has a default, a range and a description. */
  params: S;
  presets: Record<PresetName, Partial<z.infer<S>>>;
  /** Metric and check names `benchtop run --json` reports for this lab. */
  metrics: readonly string[];
  checks: readonly string[];
  /** The few metrics a run page and the runs table lead with (the first is the runs table's column). */
  keyMetrics: readonly string[];
  /** Display name and unit where the metric's name does not say them (common/metrics.ts). */
  metricInfo?: Record<string, MetricInfo>;
  /** The presets a check is meant for, when not every preset (a smoke run is too small to show the effect). */
  checkPresets?: Record<string, readonly PresetName[]>;
  /** The payload schema of each sample kind the lab emits (common/lab-contract.ts). */
  samples?: SampleSchemas;
  /** The argument and result schemas of each query the lab answers. */
  queries?: QuerySchemas;
  /** Worker threads the lab runs itself (granted from the shared core budget). */
  cores?: number;
  /**
   * The version of the lab's model code: bumped when a checkpoint or a query of an older run
   * could no longer be served by this code. Each run records it (provenance); an imported run
   * of another version is refused.
   */
  codeVersion: number;
  /** What the default preset costs on 2 cores, stated for the user. */
  defaultTime: string;
  /** Rows of docs/RESULTS.md: our metric (paper preset, 3 seeds) beside the paper's figure.
   *  The research notes that follow the table live in docs/notes/<id>.md, not here. */
  reproduce?: { metric: string; paper: string; note: string }[];
  /** One-parameter ablations `npm run reproduce` also runs (one seed each) into RESULTS.md. */
  sweeps?: { title: string; param: string; values: (number | string | boolean)[]; preset: PresetName; seed: number; overrides?: Record<string, unknown>; metrics: string[]; note: string }[];
}

export interface RunSummary {
  metrics: Record<string, number>;
  checks: Record<string, boolean>;
  /** Wall-clock ms per progress phase, in the order the phases ran (the host measures it; a lab does not set it). */
  phaseMs?: Record<string, number>;
  /** The units each phase counted (steps, images…: its progress total), so a profile reads as units × ms a unit. */
  phaseUnits?: Record<string, number>;
}

export class ParamsError extends Error {
  constructor(public readonly field: string, message: string) {
    super(message);
    this.name = 'ParamsError';
  }
}

/**
 * Preset values, then the user's overrides, validated by the lab's schema.
 * Throws ParamsError naming the first bad field.
 */
export function resolveParams<S extends z.ZodObject>(
  spec: LabSpec<S>,
  preset: PresetName,
  overrides: Record<string, unknown> = {},
): z.infer<S> {
  if (!PRESET_NAMES.includes(preset)) throw new ParamsError('preset', `unknown preset "${preset}" (smoke, default or paper)`);
  const known = Object.keys(spec.params.shape);
  for (const key of Object.keys(overrides)) {
    if (!known.includes(key)) throw new ParamsError(key, `unknown parameter "${key}" for lab ${spec.id} (known: ${known.join(', ')})`);
  }
  const result = spec.params.safeParse({ ...spec.presets[preset], ...overrides });
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue.path.join('.') || '(params)';
    throw new ParamsError(field, `invalid parameter "${field}": ${issue.message}`);
  }
  return result.data;
}

/** A form field derived from a zod schema, for the renderer's generated params form. */
export interface ParamField {
  name: string;
  /** `list`: an array, typed in the form as comma-separated items of `itemKind`. */
  kind: 'number' | 'integer' | 'boolean' | 'enum' | 'string' | 'list';
  itemKind?: 'number' | 'string';
  description: string;
  default: unknown;
  min?: number;
  max?: number;
  options?: string[];
  /** A list's fewest items (an empty list is valid when this is 0 or absent). */
  minItems?: number;
}

/** The comma-separated items of a list field as typed, trimmed, empty ones dropped. */
export const listItems = (raw: string): string[] => raw.split(',').map((x) => x.trim()).filter((x) => x !== '');

/** A list field typed as comma-separated items ("ec, tc" or "0.25,0.85"): trimmed, empty items
 *  dropped, numbers converted when the items are numeric. The form and the CLI both read lists so;
 *  the lab's schema then judges the result. */
export function listFieldValue(field: ParamField, raw: string): unknown[] {
  const items = listItems(raw);
  return field.itemKind === 'number' ? items.map((x) => (Number.isFinite(Number(x)) ? Number(x) : x)) : items;
}

export function describeParams(schema: z.ZodObject): ParamField[] {
  const json = z.toJSONSchema(schema, { io: 'input' }) as {
    properties: Record<string, {
      type?: string; description?: string; default?: unknown; minimum?: number; maximum?: number; minItems?: number; enum?: string[];
      items?: { type?: string; enum?: string[] } | false; prefixItems?: { type?: string; enum?: string[] }[];
    }>;
  };
  // Arrays describe their items in `items`, tuples in `prefixItems` (one schema per place, `items: false`).
  const itemsOf = (p: { items?: { type?: string; enum?: string[] } | false; prefixItems?: { type?: string; enum?: string[] }[] }) => (p.items || undefined) ?? p.prefixItems?.[0];
  return Object.entries(json.properties).map(([name, p]) => ({
    name,
    kind: p.enum ? 'enum' : p.type === 'array' ? 'list' : p.type === 'integer' ? 'integer' : p.type === 'number' ? 'number' : p.type === 'boolean' ? 'boolean' : 'string',
    itemKind: p.type === 'array' ? (itemsOf(p)?.type === 'number' || itemsOf(p)?.type === 'integer' ? 'number' : 'string') : undefined,
    description: p.description ?? '',
    default: p.default,
    min: p.minimum,
    max: p.maximum,
    options: p.enum ?? (p.type === 'array' ? itemsOf(p)?.enum : undefined),
    minItems: p.type === 'array' ? p.minItems : undefined,
  }));
}
