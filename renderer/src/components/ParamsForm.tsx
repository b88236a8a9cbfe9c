// A params form generated from the lab's schema description, validated as the user types.
import type { LabInfo } from '../../../common/api';
import { listFieldValue, listItems, type ParamField, type PresetName } from '../../../common/lab';

export function fieldError(f: ParamField, raw: string): string | undefined {
  if (f.kind === 'boolean' || f.kind === 'enum') return undefined;
  if (raw.trim() === '') return 'required';
  if (f.kind === 'string') return undefined;
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

export function ParamsForm({ lab, values, onChange }: { lab: LabInfo; values: Record<string, string>; onChange: (v: Record<string, string>) => void }) {
  return (
    <div className="params-form">
      {lab.fields.filter((f) => f.name !== 'seed').map((f) => {
        const raw = values[f.name] ?? show(f.default);
        const err = fieldError(f, raw);
        const set = (v: string) => onChange({ ...values, [f.name]: v });
        return (
          <label key={f.name} className={err ? 'field invalid' : 'field'} title={f.description}>
            <span className="field-name">{f.name}</span>
            {f.kind === 'enum' ? (
              <select value={raw} onChange={(e) => set(e.target.value)}>{f.options!.map((o) => <option key={o}>{o}</option>)}</select>
            ) : f.kind === 'boolean' ? (
              <input type="checkbox" checked={raw === 'true'} onChange={(e) => set(String(e.target.checked))} />
            ) : (
              <input name={f.name} value={raw} inputMode="decimal" onChange={(e) => set(e.target.value)} />
            )}
            <span className="field-hint">{err ?? (f.min !== undefined ? `${f.min} – ${f.max}` : f.description)}</span>
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
