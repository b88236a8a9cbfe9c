// A params form generated from the lab's schema description, validated as the user types.
// Fields the user changed are marked (and kept when the preset changes); each field's help
// opens from a button, so it is reachable from the keyboard, not only on hover.
import { useState } from 'react';
import type { LabInfo } from '../../../common/api';
import { listFieldValue, listItems, type ParamField, type PresetName } from '../../../common/lab';

export function fieldError(f: ParamField, raw: string): string | undefined {
  if (f.kind === 'boolean' || f.kind === 'enum') return undefined;
  if (f.kind === 'list' && listItems(raw).length === 0) return (f.minItems ?? 0) > 0 ? `give at least ${f.minItems} item${f.minItems === 1 ? '' : 's'}` : undefined;
  // A string whose default is empty ("no file") may stay empty.
  if (f.kind === 'string') return raw.trim() === '' && f.default !== '' ? 'required' : undefined;
  if (raw.trim() === '') return 'required';
  if (f.kind === 'list') {
    const items = listItems(raw);
    if (f.itemKind === 'number') { const bad = items.find((x) => !Number.isFinite(Number(x))); return bad !== undefined ? `"${bad}" is not a number` : undefined; }
    const bad = f.options ? items.find((x) => !f.options!.includes(x)) : undefined;
    return bad !== undefined ? `"${bad}" is not one of ${f.options!.join(', ')}` : undefined;
  }
  const v = Number(raw);
  if (!Number.isFinite(v)) return 'not a number';
  if (f.kind === 'integer' && !Number.isInteger(v)) return 'must be a whole number';
  if (f.min !== undefined && v < f.min) return `at least ${f.min}`;
  if (f.max !== undefined && v > f.max) return `at most ${f.max}`;
  return undefined;
}

const show = (v: unknown) => (Array.isArray(v) ? v.join(', ') : String(v));

export function presetValues(lab: LabInfo, preset: PresetName): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of lab.fields) if (f.name !== 'seed') out[f.name] = show(lab.presets[preset][f.name] ?? f.default);
  return out;
}

/**
 * The form for a preset with the user's edits: `edited` names the fields changed by hand,
 * which keep their value when the preset changes (the others take the new preset's).
 */
export function valuesForPreset(lab: LabInfo, preset: PresetName, current: Record<string, string>, edited: ReadonlySet<string>): Record<string, string> {
  const base = presetValues(lab, preset);
  for (const name of edited) if (name in current) base[name] = current[name];
  return base;
}

export function ParamsForm({ lab, values, onChange, edited, onReset }: {
  lab: LabInfo; values: Record<string, string>; onChange: (v: Record<string, string>, field: string) => void;
  edited: ReadonlySet<string>; onReset: (field: string) => void;
}) {
  const [help, setHelp] = useState<string>();
  return (
    <div className="params-form">
      {lab.fields.filter((f) => f.name !== 'seed').map((f) => {
        const raw = values[f.name] ?? show(f.default);
        const err = fieldError(f, raw);
        const set = (v: string) => onChange({ ...values, [f.name]: v }, f.name);
        return (
          <label key={f.name} data-field={f.name} className={`field${err ? ' invalid' : ''}${edited.has(f.name) ? ' edited' : ''}`}>
            <span className="field-name">{f.name}
              {f.description && <button type="button" className="help" aria-expanded={help === f.name} aria-label={`what is ${f.name}?`}
                onClick={(e) => { e.preventDefault(); setHelp(help === f.name ? undefined : f.name); }}>?</button>}
              {edited.has(f.name) && <button type="button" className="link" title="back to the preset's value" onClick={(e) => { e.preventDefault(); onReset(f.name); }}>edited · reset</button>}
            </span>
            {f.kind === 'enum' ? (
              <select value={raw} onChange={(e) => set(e.target.value)}>{f.options!.map((o) => <option key={o}>{o}</option>)}</select>
            ) : f.kind === 'boolean' ? (
              <input type="checkbox" checked={raw === 'true'} onChange={(e) => set(String(e.target.checked))} />
            ) : (
              <input name={f.name} value={raw} inputMode="decimal" onChange={(e) => set(e.target.value)} />
            )}
            <span className="field-hint">{err ?? (f.min !== undefined ? `${f.min} – ${f.max}` : f.description)}</span>
            {help === f.name && <span className="field-help" role="note">{f.description}</span>}
          </label>
        );
      })}
    </div>
  );
}

/** Converts form strings to typed params; returns the first error instead when invalid. */
export function formToParams(lab: LabInfo, values: Record<string, string>): { params: Record<string, unknown> } | { error: string } {
  const params: Record<string, unknown> = {};
  for (const f of lab.fields) {
    if (f.name === 'seed' || values[f.name] === undefined) continue;
    const err = fieldError(f, values[f.name]);
    if (err) return { error: `${f.name}: ${err}` };
    const raw = values[f.name];
    params[f.name] = f.kind === 'boolean' ? raw === 'true' : f.kind === 'number' || f.kind === 'integer' ? Number(raw)
      : f.kind === 'list' ? listFieldValue(f, raw) : raw;
  }
  return { params };
}
