// Sweeps from the lab page: seeds × one param's values on the chosen preset (with the form's
// other edits), validated run by run by the host before any is queued; they run within the
// host's core budget and stay grouped in the runs table and in Compare.
import { useState } from 'react';
import type { LabInfo, RunRecord } from '../../../common/api';
import { listItems, type PresetName } from '../../../common/lab';
import { api } from '../bridge';
import { fieldError, formToParams } from './ParamsForm';
import type { PresetCost } from './presetCost';
import { formatDuration } from './Progress';
import { useHostInfo } from '../state';

/** Every option of an enum or a boolean; numbers are typed by the user. */
const suggestedValues = (f: LabInfo['fields'][number] | undefined) => (f?.kind === 'enum' ? f.options!.join(', ') : f?.kind === 'boolean' ? 'true, false' : '');

export function SweepForm({ lab, preset, overrides, cost, onStarted }: {
  lab: LabInfo; preset: PresetName; overrides: Record<string, string>; cost: PresetCost; onStarted: (runs: RunRecord[]) => void;
}) {
  const sweepable = lab.fields.filter((f) => f.name !== 'seed' && f.kind !== 'list' && f.kind !== 'string');
  const [param, setParam] = useState(sweepable[0]?.name ?? '');
  const field = sweepable.find((f) => f.name === param);
  const [values, setValues] = useState(() => suggestedValues(field));
  const [seeds, setSeeds] = useState('1, 2, 3');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const queue = useHostInfo()?.queue;
  if (!sweepable.length) return <p className="muted small">This lab has no param to sweep.</p>;
  const valueItems = listItems(values);
  const seedItems = listItems(seeds);
  const total = valueItems.length * seedItems.length;
  const start = async () => {
    setError(undefined);
    if (!field) return;
    if (!valueItems.length) { setError('values: give one or more, separated by commas'); return; }
    const bad = valueItems.map((v) => [v, fieldError(field, v)] as const).find(([, e]) => e);
    if (bad) { setError(`${param} = ${bad[0]}: ${bad[1]}`); return; }
    const seedList = seedItems.map(Number);
    if (!seedList.length || seedList.some((s) => !Number.isInteger(s) || s < 0)) { setError('seeds: whole numbers ≥ 0, separated by commas'); return; }
    const base = formToParams(lab, Object.fromEntries(Object.entries(overrides).filter(([k]) => k !== param)));
    if ('error' in base) { setError(base.error); return; }
    const typed = valueItems.map((v) => (field.kind === 'boolean' ? v === 'true' : field.kind === 'number' || field.kind === 'integer' ? Number(v) : v));
    setBusy(true);
    try { onStarted(await api.startSweep({ lab: lab.id, preset, params: base.params, param, values: typed, seeds: seedList })); } catch (e) { setError((e as Error).message); } finally { setBusy(false); }
  };
  return (
    <div className="sweep-form" data-testid="sweep-form">
      <label className="field"><span className="field-name">param</span>
        <select value={param} onChange={(e) => { setParam(e.target.value); setValues(suggestedValues(sweepable.find((x) => x.name === e.target.value))); }} data-testid="sweep-param">
          {sweepable.map((f) => <option key={f.name}>{f.name}</option>)}
        </select></label>
      <label className="field"><span className="field-name">values (comma-separated)</span>
        <input value={values} onChange={(e) => setValues(e.target.value)} placeholder={field?.min !== undefined ? `${field.min} … ${field.max}` : ''} data-testid="sweep-values" /></label>
      <label className="field"><span className="field-name">seeds</span><input value={seeds} onChange={(e) => setSeeds(e.target.value)} data-testid="sweep-seeds" /></label>
      <button onClick={() => void start()} disabled={busy || total === 0} data-testid="sweep-start">Queue {total || ''} run{total === 1 ? '' : 's'}</button>
      <span className="muted small">
        {preset} preset, the form&apos;s other edits · each {cost.label}
        {cost.ms && Number.isFinite(cost.ms) && total > 1 ? ` · about ${formatDuration(cost.ms * total)} of compute` : ''}
        {queue ? <>; runs go to the workers of <code data-testid="sweep-queue">{queue}</code> and are recorded here</> : '; queued runs start as cores free up'}
      </span>
      {error && <span className="error" role="alert">{error}</span>}
    </div>
  );
}
