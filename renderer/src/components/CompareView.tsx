// Two or more runs: overlaid curves, a diff of their params, and mean ± std of final
// metrics across seeds of the same params.
import { useEffect, useState } from 'react';
import type { RunDetail } from '../../../common/api';
import { api } from '../bridge';
import { MetricChart } from '../charts/MetricChart';
import { meanStd } from '../charts/series';
import { download, runsToCsv, runsToJson } from './export';

export function CompareView({ runIds, onClose }: { runIds: string[]; onClose: () => void }) {
  const [details, setDetails] = useState<RunDetail[]>([]);
  useEffect(() => {
    Promise.all(runIds.map((id) => api.getRun(id))).then((ds) => setDetails(ds.filter((d): d is RunDetail => !!d)));
  }, [runIds]);
  if (!details.length) return <p className="muted">loading…</p>;
  const metricNames = [...new Set(details.flatMap((d) => Object.keys(d.metrics)))];
  const paramNames = [...new Set(details.flatMap((d) => Object.keys(d.run.params)))].filter((n) => n !== 'seed');
  const differing = paramNames.filter((n) => new Set(details.map((d) => JSON.stringify(d.run.params[n]))).size > 1);
  // Group runs by everything but the seed.
  const groups = new Map<string, RunDetail[]>();
  for (const d of details) {
    const key = JSON.stringify([d.run.lab, d.run.preset, paramNames.map((n) => d.run.params[n])]);
    groups.set(key, [...(groups.get(key) ?? []), d]);
  }
  const summaryNames = [...new Set(details.flatMap((d) => Object.keys(d.run.summary?.metrics ?? {})))];
  return (
    <section className="compare" data-testid="compare-view">
      <header className="compare-head">
        <h2>Compare {details.length} runs</h2>
        <button onClick={() => download('benchtop-runs.csv', runsToCsv(details), 'text/csv')}>Export CSV</button>
        <button onClick={() => download('benchtop-runs.json', runsToJson(details), 'application/json')}>Export JSON</button>
        <button onClick={onClose}>Close</button>
      </header>
      <h3>Params that differ</h3>
      {differing.length === 0 ? <p className="muted">Same params (runs differ only by seed or preset).</p> : (
        <table className="diff-table"><thead><tr><th>param</th>{details.map((d) => <th key={d.run.id} className="mono">{d.run.id}</th>)}</tr></thead>
          <tbody>{differing.map((n) => <tr key={n}><td>{n}</td>{details.map((d) => <td key={d.run.id}>{JSON.stringify(d.run.params[n])}</td>)}</tr>)}</tbody></table>
      )}
      {summaryNames.length > 0 && <>
        <h3>Final metrics, mean ± std over seeds</h3>
        <table className="diff-table"><thead><tr><th>group</th><th>seeds</th>{summaryNames.map((n) => <th key={n}>{n}</th>)}</tr></thead>
          <tbody>{[...groups.values()].map((g, i) => (
            <tr key={i}><td>{g[0].run.lab} / {g[0].run.preset}{differing.length ? ` / ${differing.map((n) => `${n}=${JSON.stringify(g[0].run.params[n])}`).join(' ')}` : ''}</td>
              <td>{g.map((d) => d.run.seed).join(', ')}</td>
              {summaryNames.map((n) => { const ms = meanStd(g.map((d) => d.run.summary?.metrics[n]).filter((v): v is number => typeof v === 'number')); return <td key={n} className="num">{ms.n === 0 ? '—' : ms.n === 1 ? `${ms.mean.toPrecision(4)} (one seed)` : `${ms.mean.toPrecision(4)} ± ${ms.std.toPrecision(2)}`}</td>; })}
            </tr>))}</tbody></table>
      </>}
      <div className="charts">
        {metricNames.map((m) => <MetricChart key={m} title={m} series={details.map((d) => ({ label: `${d.run.id} (seed ${d.run.seed})`, points: d.metrics[m] ?? [] }))} />)}
      </div>
    </section>
  );
}
