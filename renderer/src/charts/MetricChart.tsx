import { useMemo, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { MetricPoint } from '../../../common/api';
import { downsample, smooth } from './series';

export interface Series { label: string; points: MetricPoint[] }
const compactFormat = new Intl.NumberFormat('en', { notation: 'compact', maximumSignificantDigits: 3 });
const compact = (v: number) => compactFormat.format(v);
const COLORS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];

/** Axes counted in whole units get whole-number ticks. */
const INTEGER_AXES = new Set(['step', 'round', 'epoch', 'iteration']);

/**
 * One metric, one or more runs: smoothing, log axis, at most ~2 points per pixel column.
 * The x axis is titled (`xLabel`), the y axis by `yLabel` (the metric's unit) where given.
 */
export function MetricChart({ title, series, height = 220, width = 480, xLabel = 'step', yLabel, logX = false, metric }: {
  title: string; series: Series[]; height?: number; width?: number; xLabel?: string; yLabel?: string; logX?: boolean;
  /** The metric's name in the store, when the title is its display label (tests find the chart by it). */
  metric?: string;
}) {
  const [smoothing, setSmoothing] = useState(0);
  const [logY, setLogY] = useState(false);
  const data = useMemo(() => {
    // Merge series on step so recharts draws them on one x axis.
    const byStep = new Map<number, Record<string, number>>();
    series.forEach((s, i) => {
      for (const p of downsample(smooth(s.points, smoothing), Math.max(50, Math.floor(width / 2)))) {
        if (logY && !(p.value > 0)) continue;
        const row = byStep.get(p.step) ?? { step: p.step };
        row[`s${i}`] = p.value;
        byStep.set(p.step, row);
      }
    });
    return [...byStep.values()].sort((a, b) => a.step - b.step);
  }, [series, smoothing, logY, width]);
  const points = series.reduce((n, s) => n + s.points.length, 0);
  return (
    <figure className="chart" data-testid={`chart-${metric ?? title}`} data-points={points}>
      <figcaption>
        <span className="chart-title">{title}</span>
        <label title="exponential moving average">smooth <input type="range" min={0} max={0.99} step={0.01} value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))} aria-label={`smoothing of ${title}`} />
          <output className="mono" data-testid="smoothing-value">{smoothing.toFixed(2)}</output></label>
        <label><input type="checkbox" checked={logY} onChange={(e) => setLogY(e.target.checked)} /> log y</label>
      </figcaption>
      {points === 0 ? <div className="chart-empty" style={{ height }}>waiting for data…</div> : (
        <ResponsiveContainer width="100%" height={height}>
          <LineChart data={data} margin={{ top: 8, right: 16, bottom: 14, left: yLabel ? 10 : 4 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="step" type="number" scale={logX ? 'log' : 'auto'} domain={['dataMin', 'dataMax']} tick={{ fontSize: 11 }} tickFormatter={compact}
              allowDecimals={!INTEGER_AXES.has(xLabel)} label={{ value: xLabel, position: 'insideBottom', offset: -10, fontSize: 11 }} />
            <YAxis scale={logY ? 'log' : 'auto'} domain={['auto', 'auto']} tick={{ fontSize: 11 }} width={56} tickFormatter={(v: number) => Number(v).toPrecision(3)}
              label={yLabel ? { value: yLabel, angle: -90, position: 'insideLeft', offset: -2, fontSize: 11, style: { textAnchor: 'middle' } } : undefined} />
            <Tooltip formatter={(v) => Number(v).toPrecision(4)} labelFormatter={(s) => `${xLabel} ${Number(s).toLocaleString(undefined, { maximumFractionDigits: 3 })}`} />
            {series.length > 1 && <Legend wrapperStyle={{ fontSize: 11, paddingTop: 16 }} />}
            {series.map((s, i) => (
              <Line key={i} dataKey={`s${i}`} name={s.label} stroke={COLORS[i % COLORS.length]} dot={data.length < 3} strokeWidth={1.6} isAnimationActive={false} connectNulls />
            ))}
          </LineChart>
        </ResponsiveContainer>
      )}
    </figure>
  );
}
