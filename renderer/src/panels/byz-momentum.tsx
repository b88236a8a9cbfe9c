// Byzantine-robust training: the headline table (the chosen γ's test accuracy ± standard
// error per configuration), accuracy curves against rounds, epochs or uplink bytes, the
// grid's accuracy heatmaps (attack × aggregator, one per method; a cell opens its curves),
// and a worker strip: each worker's server-side vector's distance to the aggregate at
// every evaluation, Byzantine workers marked.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { z } from 'zod';
import type { RunDetail } from '../../../common/api';
import { samplesOf as samplesOfKind } from '../../../common/lab-contract';
import { byzMomentumSamples, METHOD_LABEL, selectionScore } from '../../../common/labs/byz-momentum';
import { MetricChart, type Series } from '../charts/MetricChart';

type Curve = z.output<typeof byzMomentumSamples.curve>;
type Point = Curve['points'][number];
type Axis = 'round' | 'epoch' | 'bytes';

const samplesOf = <N extends keyof typeof byzMomentumSamples>(d: RunDetail, kind: N) => samplesOfKind(byzMomentumSamples, d.samples, kind);
const pct = (v: number) => (100 * v).toFixed(1);
const AGG_LABEL: Record<string, string> = { mean: 'mean', cm: 'coord. median', cwtm: 'trimmed mean', rfa: 'geometric median', krum: 'Krum', cc: 'centered clipping' };
const AXIS_LABEL: Record<Axis, string> = { round: 'round', epoch: 'epoch', bytes: 'uplink bytes per worker' };

/** Red (0.5, chance on the binary task) → yellow → green (≥ 0.9); light enough (65–85 % lightness) for dark text in either theme. */
function accColour(acc: number): string {
  const x = Math.max(0, Math.min(1, (acc - 0.5) / 0.4));
  const hue = 120 * x;
  return `hsl(${hue}, 70%, ${85 - 20 * x}%)`;
}

function configLabel(c: { method: keyof typeof METHOD_LABEL; attack: string; aggregator: string; attackMode?: string; key: string }) {
  if (c.attack === 'none') return `${METHOD_LABEL[c.method]}, no attack (f = 0)`;
  return `${METHOD_LABEL[c.method]}, ${c.attack.toUpperCase()}${c.attackMode === 'state' ? ' (state)' : ''}, ${AGG_LABEL[c.aggregator] ?? c.aggregator}`;
}

function WorkerStrip({ curve }: { curve: Curve }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<{ worker: number; col: number } | null>(null);
  const cols = curve.distances.length, rows = curve.n, CW = Math.max(6, Math.min(24, Math.floor(560 / Math.max(1, cols)))), RH = 12, LABEL = 40;
  useEffect(() => {
    const c = ref.current; if (!c) return;
    const g = c.getContext('2d')!;
    g.fillStyle = '#fff'; g.fillRect(0, 0, c.width, c.height);
    g.font = '10px sans-serif'; g.textBaseline = 'middle';
    for (let w = 0; w < rows; w++) {
      g.fillStyle = w < curve.byzantine ? '#b91c1c' : '#374151';
      g.fillText(`${w < curve.byzantine ? 'B' : 'w'}${w}`, 2, w * RH + RH / 2);
    }
    // Per column, distances on a log scale between that column's smallest and largest, so
    // the strip shows who is far from the aggregate at every point of training.
    curve.distances.forEach((col, j) => {
      const logs = col.map((v) => Math.log10(v + 1e-12));
      const lo = Math.min(...logs), hi = Math.max(...logs), span = hi - lo || 1;
      col.forEach((_, w) => {
        const x = (logs[w] - lo) / span;
        g.fillStyle = `rgb(${Math.round(255 - 200 * x)}, ${Math.round(255 - 230 * x)}, ${Math.round(255 - 120 * x)})`;
        g.fillRect(LABEL + j * CW, w * RH, CW - 1, RH - 1);
      });
    });
  }, [curve, cols, rows, CW]);
  const move = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const col = Math.floor((e.clientX - r.left - LABEL) / CW), worker = Math.floor((e.clientY - r.top) / RH);
    setHover(col >= 0 && col < cols && worker >= 0 && worker < rows ? { worker, col } : null);
  };
  return (
    <div>
      <canvas ref={ref} width={LABEL + cols * CW} height={rows * RH} onMouseMove={move} onMouseLeave={() => setHover(null)} data-testid="worker-strip" />
      <p className="muted small">
        {hover
          ? `worker ${hover.worker}${hover.worker < curve.byzantine ? ' (Byzantine)' : ''}, round ${curve.points[hover.col]?.round}: distance to the aggregate ${curve.distances[hover.col][hover.worker].toPrecision(3)}`
          : `Rows: workers (B = Byzantine, the first ${curve.byzantine}); columns: evaluations every ${curve.points[0]?.round ?? '?'} rounds; darker = farther from the aggregate (log scale within a column). Hover for values.`}
      </p>
    </div>
  );
}

export function ByzMomentumPanel({ detail }: { detail: RunDetail }) {
  // A single configuration streams its curve per evaluation: keep the latest per (configuration, γ).
  const curves = useMemo(() => {
    const latest = new Map<string, Curve>();
    for (const c of samplesOf(detail, 'curve')) latest.set(`${c.key} ${c.gamma}`, c);
    return [...latest.values()];
  }, [detail]);
  const cells = samplesOf(detail, 'grid-cell');
  const testRows = detail.metrics.testRows?.at(-1)?.value;
  const [axis, setAxis] = useState<Axis>('round');
  const [focus, setFocus] = useState<string>();
  // The chosen γ per configuration: the cell's, or while a configuration still runs, the best validation so far (the run's rule).
  const rule = detail.run.params.gammaSelection as 'final' | 'lastQuarter' | undefined;
  const chosen = useMemo(() => {
    const m = new Map<string, Curve>();
    for (const c of curves) {
      const cell = cells.find((x) => x.key === c.key);
      const prev = m.get(c.key);
      const score = (x: Curve) => selectionScore({ gammaSelection: rule }, { curve: x.points, finalValAcc: x.finalValAcc });
      if (cell?.gamma !== undefined ? c.gamma === cell.gamma : !prev || score(c) > score(prev)) m.set(c.key, c);
    }
    return m;
  }, [curves, cells, rule]);
  const headline = cells.filter((c) => c.headline);
  const headKeys = headline.filter((c) => c.attackMode !== 'state').map((c) => c.key);
  const focused = focus ?? headKeys[0] ?? curves[0]?.key;
  const focusCurve = focused ? chosen.get(focused) : undefined;
  const x = (p: Point) => (axis === 'round' ? p.round : axis === 'epoch' ? p.epoch : p.bytes);
  const headSeries: Series[] = (headKeys.length ? headKeys : [...chosen.keys()]).map((k) => chosen.get(k)).filter((c): c is Curve => !!c)
    .map((c) => ({ label: `${configLabel(c)} (γ = ${c.gamma})`, points: c.points.map((p) => ({ step: x(p), value: p.testAcc })) }));
  const focusSeries: Series[] = curves.filter((c) => c.key === focused).map((c) => ({ label: `γ = ${c.gamma}${c === focusCurve ? ' (chosen on validation)' : ''}`, points: c.points.map((p) => ({ step: x(p), value: p.testAcc })) }));
  const lossSeries: Series[] = curves.filter((c) => c.key === focused).map((c) => ({ label: `γ = ${c.gamma}`, points: c.points.map((p) => ({ step: x(p), value: p.loss })) }));
  const gridMethods = [...new Set(cells.filter((c) => c.attack !== 'none').map((c) => c.method))];
  const gridAttacks = [...new Set(cells.filter((c) => c.attack !== 'none').map((c) => c.attack))];
  const gridAggs = [...new Set(cells.filter((c) => c.attack !== 'none' && c.attackMode !== 'state').map((c) => c.aggregator))];
  const showGrid = gridAggs.length > 1 || gridAttacks.length > 2;
  const se = (p: number) => (testRows ? Math.sqrt((p * (1 - p)) / testRows) : NaN);

  if (!curves.length && !cells.length) return <div className="panel" data-testid="panel-byz-momentum"><p className="muted">Waiting for the first run of the study (each configuration runs once per step size γ)…</p></div>;
  return (
    <div className="panel panel-byz" data-testid="panel-byz-momentum">
      <section>
        <h3>Final test accuracy at the γ chosen on validation (%, ± standard error{testRows ? ` on ${testRows} test rows` : ''})</h3>
        <table className="variants" data-testid="byz-headline">
          <thead><tr><th>configuration</th><th>γ</th><th>test</th><th>validation</th><th>bytes / round</th></tr></thead>
          <tbody>
            {headline.map((c) => {
              const cur = chosen.get(c.key);
              return (
                <tr key={c.key} className={c.key === focused ? 'selected' : ''} onClick={() => setFocus(c.key)} style={{ cursor: 'pointer' }}>
                  <td>{configLabel(c)}</td><td className="num">{c.gamma}</td>
                  <td className="num">{c.acc !== undefined ? `${pct(c.acc)} ± ${pct(se(c.acc))}` : '…'}</td>
                  <td className="num">{cur ? pct(cur.finalValAcc) : '…'}</td>
                  <td className="num">{cur ? Math.round(cur.bytesPerRound).toLocaleString() : '…'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <p className="muted small">
          n = {curves[0]?.n} workers, the first f Byzantine; messages are real bytes (top-k: index gaps as varints + float32 values; SGDM: float32 vectors).
          {' '}Click a row or a grid cell for its curves and worker strip.
        </p>
      </section>
      <section>
        <div className="row">
          <span>x axis:</span>
          {(['round', 'epoch', 'bytes'] as Axis[]).map((a) => <label key={a}><input type="radio" name="byz-axis" checked={axis === a} onChange={() => setAxis(a)} /> {AXIS_LABEL[a]}</label>)}
          {axis === 'bytes' && <span className="muted small">(log scale: uncompressed SGDM sends ~60× the bytes of top-1 %)</span>}
        </div>
        <MetricChart title={`test accuracy vs ${AXIS_LABEL[axis]}`} series={headSeries} width={560} xLabel={AXIS_LABEL[axis]} logX={axis === 'bytes'} />
      </section>
      {showGrid && (
        <section>
          <h3>Grid: final test accuracy (%), attack × aggregator{cells.some((c) => c.aggregator !== 'mean') ? ' (after NNM)' : ''}</h3>
          <div className="row" style={{ alignItems: 'flex-start' }}>
            {gridMethods.map((m) => (
              <table key={m} className="variants heat" data-testid={`grid-${m}`}>
                <thead><tr><th>{METHOD_LABEL[m]}</th>{gridAggs.map((a) => <th key={a}>{AGG_LABEL[a] ?? a}</th>)}</tr></thead>
                <tbody>
                  {gridAttacks.map((at) => (
                    <tr key={at}><td>{at}</td>{gridAggs.map((ag) => {
                      const cell = cells.find((c) => c.method === m && c.attack === at && c.aggregator === ag && c.attackMode !== 'state');
                      if (!cell) return <td key={ag} className="num muted">·</td>;
                      if (cell.refused) return <td key={ag} className="num muted" title={cell.refused}>refused</td>;
                      const look = { background: accColour(cell.acc!), color: '#111827', cursor: 'pointer', outline: cell.key === focused ? '2px solid #111' : undefined };
                      return <td key={ag} className="num" title={`γ = ${cell.gamma}`} style={look} onClick={() => setFocus(cell.key)}>{pct(cell.acc!)}</td>;
                    })}</tr>
                  ))}
                </tbody>
              </table>
            ))}
          </div>
        </section>
      )}
      {focused && (
        <section>
          <h3>{focusCurve ? configLabel(focusCurve) : focused}: every step size γ</h3>
          <div className="row" style={{ alignItems: 'flex-start' }}>
            <MetricChart title={`test accuracy (${focused})`} series={focusSeries} width={420} xLabel={AXIS_LABEL[axis]} />
            <MetricChart title={`training loss (${focused})`} series={lossSeries} width={420} xLabel={AXIS_LABEL[axis]} />
          </div>
          {focusCurve && <><h3>Worker strip: distance of each worker&apos;s server-side vector to the aggregate (γ = {focusCurve.gamma})</h3><WorkerStrip curve={focusCurve} /></>}
        </section>
      )}
    </div>
  );
}
