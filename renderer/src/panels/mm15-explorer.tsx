// The mixture explorer's controls: sliders for the SFT mixture weights with the sample shares
// they give, a button that trains that mixture (the base arm alone, on this run's preset,
// seed and other params), a sweep along one weight, and, on a run that belongs to a sweep,
// each category's held-out accuracy along the swept value over the sweep's finished runs.
import { useEffect, useState } from 'react';
import { CartesianGrid, Legend as ChartLegend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { RunDetail, RunRecord } from '../../../common/api';
import { listItems } from '../../../common/lab';
import { MM15_CATEGORY_IDS, MM15_CATEGORY_LABEL, mm15SftShares } from '../../../common/labs/mm15-mixture';
import { api } from '../bridge';
import { formatRoute } from '../route';
import { STATIC_NOTE, useInteractive } from './interactive';
import { CATEGORY_COLOURS, pct, SharesBar } from './mm15-shares';

const WEIGHTS = ['alphaTextRich', 'alphaKnowledge', 'alphaGrounding', 'singleImageWeight', 'multiImageWeight', 'textOnlyWeight'] as const;
type WeightName = (typeof WEIGHTS)[number];
type Weights = Record<WeightName, number>;
const DEFAULT_WEIGHTS: Weights = { alphaTextRich: 1, alphaKnowledge: 0.5, alphaGrounding: 2, singleImageWeight: 0.8, multiImageWeight: 0.1, textOnlyWeight: 0.1 };
const isAlpha = (k: WeightName) => k.startsWith('alpha');
const suggested = (k: WeightName) => (isAlpha(k) ? '0, 0.5, 1, 2, 4' : '0, 0.05, 0.1, 0.2, 0.4');

export function MixtureExplorer({ detail }: { detail: RunDetail }) {
  const interactive = useInteractive();
  const { run } = detail;
  const [w, setW] = useState<Weights>(() => Object.fromEntries(WEIGHTS.map((k) => [k, Number(run.params[k] ?? DEFAULT_WEIGHTS[k])])) as Weights);
  const [param, setParam] = useState<WeightName>('alphaGrounding');
  const [values, setValues] = useState(suggested('alphaGrounding'));
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const shares = mm15SftShares(w);
  // The mixture alone: one SFT arm on the CPT-high base, with every other param as this run's.
  const params = { ...run.params, ...w, arms: 'mixture' };
  const start = async (what: () => Promise<RunRecord>) => {
    setError(undefined);
    setBusy(true);
    try { location.hash = formatRoute({ lab: run.lab, run: (await what()).id }); } catch (e) { setError((e as Error).message); } finally { setBusy(false); }
  };
  const runOne = () => start(() => api.startRun({ lab: run.lab, preset: run.preset, seed: run.seed, params }));
  const sweep = () => {
    const items = listItems(values);
    const bad = items.find((v) => !Number.isFinite(Number(v)));
    if (!items.length) { setError('values: give one or more numbers, separated by commas'); return; }
    if (bad !== undefined) { setError(`${param}: "${bad}" is not a number`); return; }
    const { [param]: _swept, ...rest } = params;
    return start(async () => (await api.startSweep({ lab: run.lab, preset: run.preset, params: rest, param, values: items.map(Number), seeds: [run.seed] }))[0]);
  };
  return (
    <div className="chart-box" data-testid="mm15-preview">
      <h3>Mixture explorer</h3>
      <p className="small muted">The SFT sample shares a mixture gives (α against the general set, then multi-image and text-only). Run it, or sweep one weight: each run trains the base arm alone
        ({run.preset} preset, seed {run.seed}, this run&apos;s other params).</p>
      <div className="mm15-sliders">
        {WEIGHTS.map((k) => (
          <label key={k} className="small">{k}{' '}
            <input type="range" min={0} max={isAlpha(k) ? 4 : 1} step={0.05} value={w[k]} onChange={(e) => setW({ ...w, [k]: Number(e.target.value) })} data-testid={`mm15-slider-${k}`} />
            {' '}<span className="mono">{w[k].toFixed(2)}</span></label>
        ))}
      </div>
      <SharesBar shares={shares} label="previewed mixture" />
      <p className="small mono" data-testid="mm15-preview-shares">{MM15_CATEGORY_IDS.map((c) => `${MM15_CATEGORY_LABEL[c]} ${pct(shares[c])} %`).join(' · ')}</p>
      {interactive ? (
        <div className="row small">
          <button onClick={() => void runOne()} disabled={busy} data-testid="mm15-run-mixture">Train this mixture</button>
          <span className="muted">or sweep</span>
          <select value={param} onChange={(e) => { const k = e.target.value as WeightName; setParam(k); setValues(suggested(k)); }} data-testid="mm15-sweep-param">
            {WEIGHTS.map((k) => <option key={k}>{k}</option>)}
          </select>
          <label>over <input value={values} onChange={(e) => setValues(e.target.value)} style={{ width: 140 }} data-testid="mm15-sweep-values" /></label>
          <button onClick={() => void sweep()} disabled={busy} data-testid="mm15-sweep">Sweep</button>
        </div>
      ) : <p className="muted small">Disabled in {STATIC_NOTE}.</p>}
      {error && <p className="error" role="alert">{error}</p>}
    </div>
  );
}

const numeric = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/** Each category's base-arm accuracy along the swept value, averaged over the sweep's finished runs (seeds) at each value. */
export function SweepLines({ detail }: { detail: RunDetail }) {
  const sweep = detail.run.sweep;
  const [runs, setRuns] = useState<RunRecord[] | 'unavailable'>();
  useEffect(() => {
    if (!sweep) return;
    let stopped = false, timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const mine = (await api.listRuns(detail.run.lab)).filter((r) => r.sweep?.id === sweep.id);
        if (stopped) return;
        setRuns(mine);
        if (mine.some((r) => r.status === 'queued' || r.status === 'running')) timer = setTimeout(() => void load(), 3000);
      } catch { if (!stopped) setRuns('unavailable'); }
    };
    void load();
    return () => { stopped = true; clearTimeout(timer); };
  }, [sweep?.id, detail.run.lab]);
  if (!sweep) return null;
  if (runs === 'unavailable') return <p className="muted small">This run belongs to a sweep along {sweep.param}: open it in Benchtop to see the sweep&apos;s other runs.</p>;
  const done = (runs ?? []).filter((r) => r.status === 'succeeded' && r.summary);
  const pending = runs?.some((r) => r.status === 'running' || r.status === 'queued');
  const points = sweep.values.filter(numeric).map((x) => {
    const at = done.filter((r) => r.params[sweep.param] === x);
    const mean = (k: string) => (at.length ? at.reduce((a, r) => a + (r.summary!.metrics[k] ?? NaN), 0) / at.length : NaN);
    return { x: x as number, runs: at.length, ...Object.fromEntries(MM15_CATEGORY_IDS.map((c) => [c, 100 * mean(`acc_base_${c}`)])) };
  }).filter((p) => p.runs > 0).sort((a, b) => a.x - b.x);
  return (
    <div className="chart-box" data-testid="mm15-sweep-lines">
      <h3>Along {sweep.param}: held-out accuracy per category</h3>
      <p className="small muted" data-testid="mm15-sweep-status">
        {done.length} of {runs?.length ?? '…'} runs of the sweep finished (values {sweep.values.join(', ')}; seeds {sweep.seeds.join(', ')}; a point is the mean over its seeds)
        {pending ? '; the rest appear as they finish' : ''}.
      </p>
      {points.length > 0 && (
        <ResponsiveContainer width="100%" height={260}>
          <LineChart data={points} margin={{ right: 16, bottom: 14, left: 4 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="x" type="number" domain={['dataMin', 'dataMax']} label={{ value: sweep.param, position: 'insideBottom', offset: -8 }} />
            <YAxis domain={[0, 100]} unit=" %" width={54} />
            <Tooltip formatter={(v) => `${Number(v).toFixed(1)} %`} labelFormatter={(x) => `${sweep.param} = ${x}`} />
            <ChartLegend verticalAlign="top" height={24} />
            {MM15_CATEGORY_IDS.map((c) => <Line key={c} dataKey={c} name={MM15_CATEGORY_LABEL[c]} stroke={CATEGORY_COLOURS[c]} strokeWidth={2} dot isAnimationActive={false} />)}
          </LineChart>
        </ResponsiveContainer>
      )}
    </div>
  );
}
