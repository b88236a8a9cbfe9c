// Positional bias: recall against absolute and against relative level, one line per
// built-in model with its bootstrap band, the paper's known points dashed for reference;
// recall by query placement; one instance with the relevant rows highlighted and each
// model's answer against the key, and any other instance on request.
import { useState } from 'react';
import type { z } from 'zod';
import { Area, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { RunDetail } from '../../../common/api';
import { lastSampleOf, samplesOf } from '../../../common/lab-contract';
import { LONGPI_PLACEMENTS, longpibenchSamples } from '../../../common/labs/longpibench';
import { api } from '../bridge';
import { STATIC_NOTE, useInteractive } from './interactive';
import { formatRoute } from '../route';

type Curves = z.output<typeof longpibenchSamples.curves>;
type Instance = z.output<typeof longpibenchSamples.instance>;
const COLORS: Record<string, string> = { 'full/levels': '#2563eb', 'sliding/levels': '#dc2626', 'full/random': '#059669', 'sliding/random': '#d97706' };
const USER_COLORS = ['#0891b2', '#db2777', '#4b5563'];
/** A curve's series: the model, and for a user's model its task (table retrieval or timeline reordering). */
const seriesOf = (c: Curves) => (c.task === 'table' ? c.model : `${c.model} · ${c.task}`);
const colorOf = (curves: Curves[], c: Curves) => COLORS[c.model] ?? USER_COLORS[curves.filter((x) => !COLORS[x.model]).findIndex((x) => seriesOf(x) === seriesOf(c)) % USER_COLORS.length];
const pct = (v: number | null) => (v === null ? '—' : (v * 100).toFixed(1));

/** The paper's Tables 1–2 where papers.md gives numbers (recall %, level → value); only these points are data. */
const PAPER: Record<'absolute' | 'relative', { label: string; points: [number, number][] }[]> = {
  absolute: [{ label: 'Qwen2.5-7B (paper)', points: [[1, 0.855], [16, 0.45]] }],
  relative: [{ label: 'GPT-4o-mini (paper)', points: [[1, 1], [2, 0.845], [16, 0.78]] }, { label: 'Qwen2.5-7B (paper)', points: [[1, 0.95], [16, 0.39]] }],
};
const PAPER_COLORS = ['#6b7280', '#a855f7'];

function LevelChart({ kind, curves }: { kind: 'absolute' | 'relative'; curves: Curves[] }) {
  const levels = curves[0]?.[kind].length ?? 16;
  const data = Array.from({ length: levels }, (_, i) => {
    const row: Record<string, number | null | [number, number]> = { level: i + 1 };
    for (const c of curves) {
      const pt = c[kind][i];
      row[seriesOf(c)] = pt.recall;
      if (pt.lo !== null && pt.hi !== null) row[`${seriesOf(c)} band`] = [pt.lo, pt.hi];
    }
    PAPER[kind].forEach((p, j) => { const hit = p.points.find(([l]) => l === i + 1); if (hit) row[`paper${j}`] = hit[1]; });
    return row;
  });
  return (
    <figure className="chart" data-testid={`longpi-${kind}`} data-points={curves.length * levels}>
      <figcaption>Recall against {kind} level {kind === 'absolute' ? '(where the pieces sit together)' : '(how far apart they are; 1 = adjacent)'}</figcaption>
      <ResponsiveContainer width="100%" height={260}>
        <ComposedChart data={data} margin={{ top: 8, right: 16, bottom: 16, left: 4 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="level" type="number" domain={[1, levels]} ticks={Array.from({ length: levels }, (_, i) => i + 1)} label={{ value: `${kind} level`, position: 'insideBottom', offset: -8 }} />
          <YAxis domain={[0, 1]} tickFormatter={(v: number) => pct(v)} label={{ value: 'recall %', angle: -90, position: 'insideLeft' }} />
          <Tooltip formatter={(v: unknown) => (Array.isArray(v) ? `${pct(v[0])}–${pct(v[1])}` : pct(Number(v)))} />
          <Legend verticalAlign="top" wrapperStyle={{ fontSize: 12 }} />
          {curves.map((c) => <Area key={`${seriesOf(c)} band`} dataKey={`${seriesOf(c)} band`} stroke="none" fill={colorOf(curves, c)} fillOpacity={0.15} legendType="none" isAnimationActive={false} />)}
          {curves.map((c) => (
            <Line key={seriesOf(c)} dataKey={seriesOf(c)} name={COLORS[c.model] ? c.model : `${seriesOf(c)} (L ${c.L})`} stroke={colorOf(curves, c)}
              strokeDasharray={c.task === 'timeline' ? '2 2' : undefined} dot={{ r: 2 }} isAnimationActive={false} />
          ))}
          {PAPER[kind].map((p, j) => <Line key={p.label} dataKey={`paper${j}`} name={p.label} stroke={PAPER_COLORS[j]} strokeDasharray="5 4" connectNulls dot={{ r: 3 }} isAnimationActive={false} />)}
        </ComposedChart>
      </ResponsiveContainer>
    </figure>
  );
}

function PlacementTable({ curves }: { curves: Curves[] }) {
  return (
    <div className="table-scroll">
    <table className="variants" data-testid="longpi-placement">
      <thead><tr><th>model</th>{LONGPI_PLACEMENTS.map((p) => <th key={p}>query at {p} · recall %</th>)}<th>precision % (both)</th><th>instances/s</th><th>failed</th></tr></thead>
      <tbody>{curves.map((c) => (
        <tr key={seriesOf(c)}><td className="longpi-model">{seriesOf(c)}</td>
          {LONGPI_PLACEMENTS.map((p) => <td key={p}>{pct(c.placement[p].recall)} <span className="muted small">[{pct(c.placement[p].lo)}, {pct(c.placement[p].hi)}]</span></td>)}
          <td>{pct(c.placement.both.precision)}</td><td>{c.instancesPerSec.toFixed(1)}</td>
          <td>{c.failed ? <span className="error small longpi-model" title={c.firstError ?? ''}>{c.failed}: {(c.firstError ?? '').slice(0, 90)}</span> : 0}</td></tr>
      ))}</tbody>
    </table>
    </div>
  );
}

const valueText = (v: number) => String(100 + v);
const keyText = (k: number) => `K${String(k).padStart(2, '0')}`;

function InstanceView({ x }: { x: Instance }) {
  const relevant = new Set(x.positions);
  const key = new Set(x.answer);
  return (
    <div data-testid="longpi-instance">
      <p className="small">{x.kind} level {x.level}, query at {x.placement}: list every row whose key is <b>{keyText(x.key)}</b>. Relevant rows highlighted ({x.positions.length} of {x.rows.length}).</p>
      <div className="longpi-rows" role="img" aria-label="the context's rows, relevant ones highlighted">
        {x.rows.map((r, i) => <span key={i} className={relevant.has(i) ? 'longpi-row relevant' : 'longpi-row'} title={`unit ${i}`}>{keyText(r.key)}:{valueText(r.value)}</span>)}
      </div>
      <div className="table-scroll">
      <table className="variants">
        <thead><tr><th>model</th><th>answer (green: in the key, red: not)</th><th>recall %</th><th>precision %</th></tr></thead>
        <tbody>
          <tr><td>key</td><td>{x.answer.map((v) => valueText(v)).join(' ')}</td><td /><td /></tr>
          {x.answers.map((a) => (
            <tr key={a.model} data-testid={`longpi-answer-${a.model}`}>
              <td>{a.model}</td>
              <td>{a.values.length ? a.values.map((v, i) => <span key={i} className={v !== null && key.has(v) ? 'longpi-hit' : 'longpi-miss'}>{v === null ? '✗' : valueText(v)} </span>) : <span className="muted">(empty)</span>}
                {a.error && <span className="error small"> {a.error}</span>}
                {a.malformed && <span className="error small"> malformed: longer than 1.5× the key</span>}
                {x.answer.filter((v) => !a.values.includes(v)).length > 0 && <span className="muted small"> missed {x.answer.filter((v) => !a.values.includes(v)).map(valueText).join(' ')}</span>}</td>
              <td>{pct(a.recall)}</td><td>{pct(a.precision)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </div>
  );
}

function AskInstance({ detail, onResult }: { detail: RunDetail; onResult: (x: Instance) => void }) {
  const interactive = useInteractive();
  const [kind, setKind] = useState<'absolute' | 'relative'>('relative');
  const [level, setLevel] = useState('1');
  const [placement, setPlacement] = useState<(typeof LONGPI_PLACEMENTS)[number]>('both');
  const [seed, setSeed] = useState('0');
  const [err, setErr] = useState<string>();
  const [busy, setBusy] = useState(false);
  if (!interactive) return <p className="muted small">Disabled in {STATIC_NOTE}.</p>;
  if (detail.run.status !== 'succeeded') return <p className="muted small">New instances need the run's models: available when the run has succeeded.</p>;
  const go = async () => {
    setErr(undefined); setBusy(true);
    try { onResult(await api.query(detail.run.id, 'instance', { kind, level: Number(level), placement, seed: Number(seed) }) as Instance); } catch (e) { setErr((e as Error).message); } finally { setBusy(false); }
  };
  return (
    <div className="row" data-testid="longpi-ask">
      <label className="small">kind <select value={kind} onChange={(e) => setKind(e.target.value as 'absolute' | 'relative')}><option>absolute</option><option>relative</option></select></label>
      <label className="small">level <input value={level} onChange={(e) => setLevel(e.target.value)} style={{ width: 48 }} data-testid="longpi-level" /></label>
      <label className="small">query at <select value={placement} onChange={(e) => setPlacement(e.target.value as typeof placement)}>{LONGPI_PLACEMENTS.map((p) => <option key={p}>{p}</option>)}</select></label>
      <label className="small">seed <input value={seed} onChange={(e) => setSeed(e.target.value)} style={{ width: 64 }} /></label>
      <button onClick={() => void go()} disabled={busy} data-testid="longpi-new">{busy ? 'answering…' : 'New instance'}</button>
      {err && <p className="error" role="alert">{err}</p>}
    </div>
  );
}

/**
 * Your own model beside this run's built-in ones: an ONNX folder or an endpoint, asked both
 * tasks; starts a new run with this run's preset, seed and parameters plus the model, and opens it.
 */
function AddModelForm({ detail }: { detail: RunDetail }) {
  const interactive = useInteractive();
  const [kind, setKind] = useState<'onnx' | 'endpoint'>('endpoint');
  const [folder, setFolder] = useState('');
  const [url, setUrl] = useState('http://127.0.0.1:8088');
  const [model, setModel] = useState('');
  const [route, setRoute] = useState<'completions' | 'chat'>('completions');
  const [rows, setRows] = useState('160');
  const [perLevel, setPerLevel] = useState('2');
  const [err, setErr] = useState<string>();
  if (!interactive) return <p className="muted small">Disabled in {STATIC_NOTE}.</p>;
  const go = async () => {
    setErr(undefined);
    if (kind === 'onnx' && !folder.trim()) { setErr('type the model folder\'s absolute path'); return; }
    if (kind === 'endpoint' && (!url.trim() || !model.trim())) { setErr('the endpoint needs its URL and its model name'); return; }
    const user = kind === 'onnx'
      ? { onnxFolder: folder.trim(), endpointUrl: '' }
      : { onnxFolder: '', endpointUrl: url.trim(), endpointModel: model.trim(), endpointApi: route };
    try {
      const params = { ...detail.run.params, ...user, userL: Number(rows), userPerLevel: Number(perLevel) };
      const run = await api.startRun({ lab: detail.run.lab, preset: detail.run.preset, seed: detail.run.seed, params });
      location.hash = formatRoute({ lab: detail.run.lab, run: run.id });
    } catch (e) { setErr((e as Error).message); }
  };
  return (
    <div className="chart-box" data-testid="longpi-add-model">
      <h3>Add your model</h3>
      <div className="row">
        <label className="small">kind <select value={kind} onChange={(e) => setKind(e.target.value as 'onnx' | 'endpoint')} data-testid="longpi-add-kind">
          <option value="endpoint">OpenAI-compatible endpoint</option><option value="onnx">ONNX folder</option>
        </select></label>
        {kind === 'onnx'
          ? <label className="small">folder <input value={folder} onChange={(e) => setFolder(e.target.value)} placeholder="/path/to/model" style={{ width: 260 }} data-testid="longpi-add-folder" /></label>
          : <>
            <label className="small">URL <input value={url} onChange={(e) => setUrl(e.target.value)} style={{ width: 180 }} data-testid="longpi-add-url" /></label>
            <label className="small">model <input value={model} onChange={(e) => setModel(e.target.value)} style={{ width: 120 }} data-testid="longpi-add-model-name" /></label>
            <label className="small">route <select value={route} onChange={(e) => setRoute(e.target.value as 'completions' | 'chat')}><option>completions</option><option>chat</option></select></label>
          </>}
        <label className="small">rows <input value={rows} onChange={(e) => setRows(e.target.value)} style={{ width: 48 }} data-testid="longpi-add-rows" /></label>
        <label className="small">per level <input value={perLevel} onChange={(e) => setPerLevel(e.target.value)} style={{ width: 40 }} data-testid="longpi-add-per-level" /></label>
        <button onClick={() => void go()} data-testid="longpi-add-go">Evaluate beside this run&apos;s models</button>
      </div>
      <p className="small muted">A new run with this run&apos;s preset, seed and parameters; your model answers table retrieval and timeline reordering at the rows you give (about 9 characters a row).</p>
      {err && <p className="error" role="alert">{err}</p>}
    </div>
  );
}

export function LongpibenchPanel({ detail }: { detail: RunDetail }) {
  const curves = samplesOf(longpibenchSamples, detail.samples, 'curves');
  const example = lastSampleOf(longpibenchSamples, detail.samples, 'instance');
  const [asked, setAsked] = useState<Instance>();
  const shown = asked ?? example;
  if (!curves.length) return <p className="muted">The recall curves appear as each model finishes its sweep.</p>;
  return (
    <div className="panel-longpi">
      <div className="charts">
        <LevelChart kind="absolute" curves={curves} />
        <LevelChart kind="relative" curves={curves} />
      </div>
      <p className="small muted">Bands: bootstrap 95 % intervals over the instances at each level (query at both ends). Paper points dashed: only the levels papers.md gives numbers for are data; the dashes between are not.
        A timeline curve (your model's timeline reordering, dotted) plots the share of positions right.</p>
      <h3>Query placement</h3>
      <PlacementTable curves={curves} />
      <AddModelForm detail={detail} />
      <h3>One instance</h3>
      <AskInstance detail={detail} onResult={setAsked} />
      {shown && <InstanceView x={shown} />}
    </div>
  );
}
