// Two or more runs: final metrics as one sortable table (runs as rows, columns picked), groups
// over seeds with their n (failed and cancelled seeds left out, and named), and small
// multiples of the curves picked. Runs are named by the params in which they differ.
import { useEffect, useMemo, useState } from 'react';
import type { LabInfo, RunDetail } from '../../../common/api';
import { axisUnitLabel, formatMetric, metricGroups, metricLabel, metricUnit } from '../../../common/metrics';
import { api } from '../bridge';
import { MetricChart } from '../charts/MetricChart';
import { meanStd } from '../charts/series';
import { download, runsToCsv, runsToJson } from './export';

const COUNTED = new Set(['succeeded']);
const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** A checkbox list with a filter, in a closed <details>: which metrics to show. */
function Picker({ label, names, chosen, onChange, info, testId }: {
  label: string; names: string[]; chosen: string[]; onChange: (c: string[]) => void; info?: LabInfo['metricInfo']; testId: string;
}) {
  const [q, setQ] = useState('');
  const shown = names.filter((n) => !q || `${n} ${metricLabel(n, info)}`.toLowerCase().includes(q.toLowerCase()));
  const toggle = (n: string) => onChange(chosen.includes(n) ? chosen.filter((c) => c !== n) : [...chosen, n]);
  return (
    <details className="picker" data-testid={testId}>
      <summary>{label} ({chosen.length} of {names.length})</summary>
      <div className="picker-body">
        <input type="search" placeholder="filter" value={q} onChange={(e) => setQ(e.target.value)} aria-label={`filter ${label}`} />
        <button className="link" onClick={() => onChange([])}>none</button>
        {metricGroups(shown).map(([group, members]) => (
          <fieldset key={group}><legend>{group}</legend>
            {members.map((n) => <label key={n}><input type="checkbox" checked={chosen.includes(n)} onChange={() => toggle(n)} /> {metricLabel(n, info)}</label>)}
          </fieldset>
        ))}
      </div>
    </details>
  );
}

export function CompareView({ runIds, lab, onClose }: { runIds: string[]; lab?: LabInfo; onClose: () => void }) {
  const [details, setDetails] = useState<RunDetail[]>();
  const [missing, setMissing] = useState<string[]>([]);
  useEffect(() => {
    Promise.all(runIds.map((id) => api.getRun(id))).then((ds) => {
      setDetails(ds.filter((d): d is RunDetail => !!d));
      setMissing(runIds.filter((_, i) => !ds[i]));
    }, () => setDetails([]));
  }, [runIds]);
  const info = lab?.metricInfo;
  const finalNames = useMemo(() => [...new Set((details ?? []).flatMap((d) => Object.keys(d.run.summary?.metrics ?? {})))], [details]);
  const curveNames = useMemo(() => [...new Set((details ?? []).flatMap((d) => Object.entries(d.metrics).filter(([, p]) => p.length > 1).map(([n]) => n)))], [details]);
  const [columns, setColumns] = useState<string[]>();
  const [curves, setCurves] = useState<string[]>();
  const [sort, setSort] = useState<{ by: string; desc: boolean }>();
  if (!details) return <p className="muted">loading…</p>;
  if (!details.length) return <p className="muted">None of these runs exist any more.</p>;

  const keyFirst = (names: string[], fallback: number) => {
    const keys = (lab?.keyMetrics ?? []).filter((k) => names.includes(k));
    return keys.length ? keys : names.slice(0, fallback);
  };
  const chosenColumns = columns ?? keyFirst(finalNames, 6);
  const chosenCurves = curves ?? keyFirst(curveNames, 4);
  const paramNames = [...new Set(details.flatMap((d) => Object.keys(d.run.params)))].filter((n) => n !== 'seed');
  const differing = paramNames.filter((n) => new Set(details.map((d) => show(d.run.params[n]))).size > 1);
  const presetsDiffer = new Set(details.map((d) => d.run.preset)).size > 1;
  const settingOf = (d: RunDetail) => [presetsDiffer ? d.run.preset : '', ...differing.map((n) => `${n}=${show(d.run.params[n])}`)].filter(Boolean).join(' ');
  const runLabel = (d: RunDetail) => `${settingOf(d) || d.run.preset} · seed ${d.run.seed}`;

  // Groups: everything but the seed; only succeeded runs count, the others are named.
  const groups = new Map<string, RunDetail[]>();
  for (const d of details) groups.set(settingOf(d), [...(groups.get(settingOf(d)) ?? []), d]);
  const rows = [...details];
  if (sort) {
    const val = (d: RunDetail): number | string => (sort.by === 'run' ? runLabel(d) : sort.by === 'status' ? d.run.status : sort.by === 'seed' ? d.run.seed
      : differing.includes(sort.by) ? show(d.run.params[sort.by]) : (d.run.summary?.metrics[sort.by] ?? -Infinity));
    rows.sort((a, b) => { const x = val(a), y = val(b); return (x < y ? -1 : x > y ? 1 : 0) * (sort.desc ? -1 : 1); });
  }
  const th = (col: string, label: string, title?: string) => (
    <th key={col} title={title} aria-sort={sort?.by === col ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
      <button className="sort" onClick={() => setSort((s) => ({ by: col, desc: s?.by === col ? !s.desc : true }))} data-testid={`compare-sort-${col}`}>
        {label}{sort?.by === col ? (sort.desc ? ' ▾' : ' ▴') : ''}
      </button>
    </th>
  );
  const cell = (d: RunDetail, n: string) => formatMetric(d.run.summary?.metrics[n], metricUnit(n, info));

  return (
    <section className="compare" data-testid="compare-view">
      <header className="compare-head">
        <h2>Compare {details.length} runs</h2>
        <button onClick={() => download('benchtop-runs.csv', runsToCsv(details), 'text/csv')}>Export CSV</button>
        <button onClick={() => download('benchtop-runs.json', runsToJson(details), 'application/json')}>Export JSON</button>
        <button onClick={onClose}>Close</button>
      </header>
      {missing.length > 0 && <p className="muted">Not found (deleted?): {missing.join(', ')}</p>}
      <p className="muted small">
        {differing.length || presetsDiffer
          ? <>Runs differ in {[presetsDiffer ? 'preset' : '', ...differing].filter(Boolean).join(', ')}; each is named by those values.</>
          : 'Same params: the runs differ only by seed.'}
      </p>

      <h3>Final metrics</h3>
      <Picker label="columns" names={finalNames} chosen={chosenColumns} onChange={setColumns} info={info} testId="compare-columns" />
      <div className="table-scroll">
        <table className="diff-table compare-table" data-testid="compare-table">
          <thead><tr>
            {th('run', 'run')}{th('status', 'status')}{th('seed', 'seed')}
            {differing.map((n) => th(n, n))}
            {chosenColumns.map((n) => th(n, metricLabel(n, info), n))}
          </tr></thead>
          <tbody>{rows.map((d) => (
            <tr key={d.run.id}>
              <td>{settingOf(d) || d.run.preset} <span className="mono muted">{d.run.id}</span></td>
              <td><span className={`status status-${d.run.status}`}>{d.run.status}</span></td><td>{d.run.seed}</td>
              {differing.map((n) => <td key={n}>{show(d.run.params[n])}</td>)}
              {chosenColumns.map((n) => <td key={n} className="num">{cell(d, n)}</td>)}
            </tr>
          ))}</tbody>
        </table>
      </div>

      {groups.size < details.length && <>
        <h3>Over seeds: mean ± std of succeeded runs</h3>
        <div className="table-scroll">
          <table className="diff-table" data-testid="compare-groups">
            <thead><tr><th>setting</th><th className="num">n</th><th>left out</th>{chosenColumns.map((n) => <th key={n} title={n}>{metricLabel(n, info)}</th>)}</tr></thead>
            <tbody>{[...groups.entries()].map(([setting, g]) => {
              const counted = g.filter((d) => COUNTED.has(d.run.status));
              const left = g.filter((d) => !COUNTED.has(d.run.status));
              return (
                <tr key={setting}>
                  <td>{setting || 'same params'}</td><td className="num">{counted.length}</td>
                  <td className="small">{left.length ? left.map((d) => `seed ${d.run.seed} (${d.run.status})`).join(', ') : '—'}</td>
                  {chosenColumns.map((n) => {
                    const ms = meanStd(counted.map((d) => d.run.summary?.metrics[n]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v)));
                    const unit = metricUnit(n, info);
                    return <td key={n} className="num">{ms.n === 0 ? '—' : ms.n === 1 ? formatMetric(ms.mean, unit) : `${formatMetric(ms.mean, unit)} ± ${formatMetric(ms.std, unit === 'count' ? 'number' : unit)}`}</td>;
                  })}
                </tr>
              );
            })}</tbody>
          </table>
        </div>
      </>}

      <h3>Curves</h3>
      {curveNames.length === 0 ? <p className="muted">These runs logged no curves (every metric is a single final value).</p> : <>
        <Picker label="curves" names={curveNames} chosen={chosenCurves} onChange={setCurves} info={info} testId="compare-curves" />
        <div className="charts small-multiples">
          {chosenCurves.map((m) => (
            <MetricChart key={m} metric={m} title={metricLabel(m, info)} yLabel={axisUnitLabel(metricUnit(m, info))} height={180} width={360}
              series={details.map((d) => ({ label: runLabel(d), points: d.metrics[m] ?? [] }))} />
          ))}
        </div>
      </>}
    </section>
  );
}
