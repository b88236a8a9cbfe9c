// The codec comparison: rate–distortion (bpp → PSNR) and rate–perception (bpp → Fréchet
// distance) curves of every decoder a codec lab reports, plus curves the user loads in
// CompressAI's results shape ({name, results: {bpp: [...], psnr: [...]}}), exported in the
// same shape. Shared by the codec labs (idempotent-codec first; cond-perceptual and
// activation-codec join it).
import { useState } from 'react';
import { z } from 'zod';
import { CartesianGrid, Legend, ReferenceLine, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import { download } from '../components/export';

export interface RdCurve { name: string; points: { bpp: number; psnr: number; fd?: number }[]; dashed?: boolean }

const COLORS = ['#111827', '#dc2626', '#2563eb', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777'];
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const compressAiResult = z.object({
  name: z.string().min(1).max(80),
  results: z.object({ bpp: z.array(finite.refine((v) => v > 0, 'must be positive')).min(1).max(200), psnr: z.array(finite).min(1).max(200), fd: z.array(finite).max(200).optional() }).passthrough(),
}).passthrough().refine((r) => r.results.bpp.length === r.results.psnr.length, 'results.bpp and results.psnr must have the same length');
const compressAiFile = z.union([compressAiResult, z.array(compressAiResult).min(1).max(20)]);

/** A results file's text → curves, or an error naming the problem. */
export function parseResultsJson(text: string, fileName: string): RdCurve[] {
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (e) { throw new Error(`${fileName} is not JSON (${(e as Error).message})`); }
  const parsed = compressAiFile.safeParse(raw);
  if (!parsed.success) { const i = parsed.error.issues[0]; throw new Error(`${fileName} is not in CompressAI's results shape: ${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`); }
  return (Array.isArray(parsed.data) ? parsed.data : [parsed.data]).map((r) => ({
    name: r.name, dashed: true, points: r.results.bpp.map((bpp, i) => ({ bpp, psnr: r.results.psnr[i], fd: r.results.fd?.[i] })),
  }));
}

/** Curves in CompressAI's shape (a list of {name, results}); FD rides along where known. */
export function toResultsJson(curves: readonly RdCurve[]): string {
  return JSON.stringify(curves.map((c) => ({
    name: c.name,
    results: { bpp: c.points.map((p) => p.bpp), psnr: c.points.map((p) => p.psnr), ...(c.points.every((p) => p.fd !== undefined) ? { fd: c.points.map((p) => p.fd) } : {}) },
  })), null, 2);
}

function RdChart({ curves, y, yLabel, floor }: { curves: RdCurve[]; y: 'psnr' | 'fd'; yLabel: string; floor?: { value: number; label: string } }) {
  const shown = curves.filter((c) => c.points.some((p) => p[y] !== undefined && Number.isFinite(p[y])));
  return (
    <div className="chart-box" data-testid={`rd-${y}`}>
      <h3>{y === 'psnr' ? 'Rate–distortion' : 'Rate–perception'}: bpp → {yLabel}</h3>
      <ResponsiveContainer width="100%" height={260}>
        <ScatterChart margin={{ top: 8, right: 16, bottom: 14, left: 10 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="bpp" type="number" domain={[0, 'auto']} tick={{ fontSize: 11 }} tickFormatter={(v: number) => v.toPrecision(2)} label={{ value: 'rate (bpp)', position: 'insideBottom', offset: -10, fontSize: 11 }} />
          <YAxis dataKey={y} type="number" domain={['auto', 'auto']} tick={{ fontSize: 11 }} tickFormatter={(v: number) => v.toPrecision(3)}
            label={{ value: yLabel, angle: -90, position: 'insideLeft', fontSize: 11, style: { textAnchor: 'middle' } }} />
          <Tooltip formatter={(v) => Number(v).toPrecision(4)} />
          <Legend wrapperStyle={{ fontSize: 11, paddingTop: 16 }} />
          {floor && <ReferenceLine y={floor.value} stroke="#6b7280" strokeDasharray="4 3" label={{ value: floor.label, fontSize: 10, position: 'insideTopRight' }} />}
          {shown.map((c, i) => (
            <Scatter key={c.name} name={c.name} data={[...c.points].filter((p) => p[y] !== undefined).sort((a, b) => a.bpp - b.bpp)} fill={COLORS[i % COLORS.length]}
              line={{ stroke: COLORS[i % COLORS.length], strokeDasharray: c.dashed ? '5 3' : undefined }} isAnimationActive={false} />
          ))}
        </ScatterChart>
      </ResponsiveContainer>
    </div>
  );
}

export function CodecComparison({ curves, fdFloor, fdLabel = 'Fréchet distance (lower is better)' }: { curves: RdCurve[]; fdFloor?: { value: number; label: string }; fdLabel?: string }) {
  const [loaded, setLoaded] = useState<RdCurve[]>([]);
  const [error, setError] = useState<string>();
  const all = [...curves, ...loaded];
  const load = async (file: File | undefined) => {
    if (!file) return;
    setError(undefined);
    try {
      if (file.size > 2 ** 20) throw new Error(`${file.name} is over 1 MiB: not a results file`);
      const got = parseResultsJson(await file.text(), file.name);
      setLoaded((l) => [...l.filter((c) => !got.some((g) => g.name === c.name)), ...got]);
    } catch (e) { setError((e as Error).message); }
  };
  return (
    <div className="codec-comparison" data-testid="codec-comparison">
      <div className="row small">
        <label>Add curves (CompressAI results JSON) <input type="file" accept=".json,application/json" onChange={(e) => { void load(e.target.files?.[0]); e.target.value = ''; }} data-testid="results-input" /></label>
        <button onClick={() => download('benchtop-rd-curves.json', toResultsJson(all), 'application/json')} data-testid="results-export">Export curves</button>
        {loaded.map((c) => <span key={c.name} className="tag">{c.name} <button className="link" onClick={() => setLoaded((l) => l.filter((x) => x !== c))} aria-label={`remove ${c.name}`}>×</button></span>)}
        {error && <span className="error" role="alert" data-testid="results-error">{error}</span>}
      </div>
      <div className="rd-charts">
        <RdChart curves={all} y="psnr" yLabel="PSNR (dB)" />
        {all.some((c) => c.points.some((p) => p.fd !== undefined)) && <RdChart curves={all} y="fd" yLabel={fdLabel} floor={fdFloor} />}
      </div>
    </div>
  );
}
