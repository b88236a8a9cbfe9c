// idempotent-codec: the codec comparison of the MSE and the perceptual decode of the same
// bits at every rate, the table behind it (with bootstrap intervals), BD metrics, a
// side-by-side grid with zoom and re-compression, and the user's own image decoded both ways.
import { useState } from 'react';
import { CartesianGrid, LabelList, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { z } from 'zod';
import type { RunDetail } from '../../../common/api';
import { lastSampleOf } from '../../../common/lab-contract';
import { idempotentCodecQueries, idempotentCodecSamples } from '../../../common/labs/idempotent-codec';
import { formatMetric } from '../../../common/metrics';
import { ANCHOR_LABELS } from '../../../common/anchors';
import { api } from '../bridge';
import { CodecComparison, type RdCurve } from './CodecComparison';
import { DrawPad } from './DrawPad';
import { ImageStrip } from './ImageStrip';
import { fileToModelInput } from './imageFile';
import { STATIC_NOTE, useInteractive } from './interactive';

type Decoded = z.output<typeof idempotentCodecQueries.decode.result>;
type Recompressed = z.output<typeof idempotentCodecQueries.recompress.result>;
const db = (v: number) => formatMetric(v, 'dB');
const num = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : String(v));
const ci = ([a, b]: [number, number], d = 2) => `[${num(a, d)}, ${num(b, d)}]`;
const RATE_COLUMNS = ['λ', 'bpp', 'images', 'decoder', 'PSNR MSE / perc.', 'FD MSE → perc.', 'FD gain, 95 %', 'MSE ratio, 95 %', 'same bits perc. / MSE', 'PSNR x̄ vs h(x̂)', 's / image'];
const toBytes = (x: number[]) => x.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255));

function Grid({ detail, grid }: { detail: RunDetail; grid: NonNullable<ReturnType<typeof lastSampleOf<typeof idempotentCodecSamples, 'grid'>>> }) {
  const [at, setAt] = useState(grid.length - 1);
  const [zoom, setZoom] = useState(3);
  const [re, setRe] = useState<{ row: string; results: Recompressed[] }[]>();
  const [err, setErr] = useState<string>();
  const interactive = useInteractive();
  const g = grid[Math.min(at, grid.length - 1)];
  const recompress = async () => {
    setErr(undefined); setRe(undefined);
    try {
      const rows = [{ row: 'MSE decode', imgs: g.mse }, ...g.perceptual.map((imgs, k) => ({ row: `perceptual ${k + 1}`, imgs }))];
      const out = [];
      for (const r of rows) {
        const results = [];
        for (let i = 0; i < r.imgs.length; i++) {
          results.push(await api.query(detail.run.id, 'recompress', { lambda: g.lambda, original: g.original[i].map((v) => v / 255), decoded: r.imgs[i].map((v) => v / 255) }) as Recompressed);
        }
        out.push({ row: r.row, results });
      }
      setRe(out);
    } catch (e) { setErr((e as Error).message); }
  };
  return (
    <div className="chart-box" data-testid="idem-grid">
      <h3>Side by side: the same bits, decoded for MSE and perceptually</h3>
      <div className="row small">
        <label>rate <select value={at} onChange={(e) => { setAt(Number(e.target.value)); setRe(undefined); }} data-testid="grid-rate">
          {grid.map((x, i) => <option key={x.lambda} value={i}>λ={x.lambda}</option>)}
        </select></label>
        <label>zoom <input type="range" min={2} max={8} value={zoom} onChange={(e) => setZoom(Number(e.target.value))} aria-label="zoom" /> {zoom}×</label>
        <button onClick={() => void recompress()} disabled={!interactive || detail.run.status !== 'succeeded'} data-testid="recompress">Re-compress the decodes</button>
        {!interactive && <span className="muted static-note">Re-compressing is disabled in {STATIC_NOTE}.</span>}
      </div>
      <ImageStrip scale={zoom} rows={[g.original, g.mse, ...g.perceptual, ...g.anchors.map((a) => a.images)]}
        labels={['original', 'MSE decode', ...g.perceptual.map((_, k) => `perceptual ${k + 1}`), ...g.anchors.map((a) => `${a.format.toUpperCase()} q${a.quality}`)]} />
      <p className="muted small">bits per image: {g.bpp.map((b) => num(b, 3)).join(', ')} bpp · PSNR of the MSE decode: {g.psnrMse.map(db).join(', ')} · of perceptual sample 1: {g.psnrIdem[0].map(db).join(', ')}
        {g.anchors.map((a) => <span key={a.format}> · {ANCHOR_LABELS[a.format]} at the nearest rate, {num(a.bpp, 3)} bpp: {a.psnr.map(db).join(', ')}</span>)}</p>
      {err && <p className="error" role="alert">{err}</p>}
      {re && (
        <table className="variants" data-testid="recompress-table">
          <thead><tr><th>re-compressed (8-bit pixels)</th>{g.original.map((_, i) => <th key={i}>image {i + 1}</th>)}</tr></thead>
          <tbody>{re.map((r) => <tr key={r.row}><td>{r.row}</td>{r.results.map((x, i) => <td key={i}>{x.identical ? 'same bits ✓' : `differs (|Δŷ| ${num(x.symbolDistance, 3)})`}</td>)}</tr>)}</tbody>
        </table>
      )}
    </div>
  );
}

function YourImage({ detail }: { detail: RunDetail }) {
  const [out, setOut] = useState<Decoded & { note: string }>();
  const [err, setErr] = useState<string>();
  const [busy, setBusy] = useState(false);
  const interactive = useInteractive();
  const decode = (pixels: number[], note: string) => {
    setErr(undefined); setBusy(true);
    api.query(detail.run.id, 'decode', { pixels, samples: 2, seed: 0 }).then((r) => setOut({ ...(r as Decoded), note }), (e: Error) => setErr(e.message)).finally(() => setBusy(false));
  };
  const onFile = async (file: File | undefined) => {
    if (!file) return;
    try { const { pixels, inverted } = await fileToModelInput(file); decode(pixels, `${file.name}, grey-scaled and resized to 28×28${inverted ? ', inverted (light background)' : ''}`); } catch (e) { setErr((e as Error).message); }
  };
  if (!interactive) return <p className="muted static-note" data-testid="static-note">Decoding your own image is disabled in {STATIC_NOTE}.</p>;
  if (detail.run.status !== 'succeeded') return <p className="muted">Your own image: available when the run has succeeded.</p>;
  return (
    <div className="chart-box" data-testid="idem-yours">
      <h3>Your image, through the headline codec</h3>
      <div className="row">
        <DrawPad size={140} onDigit={(px) => decode(px, 'drawn')} />
        <label className="dropzone">PNG or JPEG: <input type="file" accept="image/png,image/jpeg" onChange={(e) => { void onFile(e.target.files?.[0]); e.target.value = ''; }} data-testid="idem-image-input" /></label>
        {busy && <span className="muted">decoding (two perceptual samples)…</span>}
      </div>
      {err && <p className="error" role="alert" data-testid="idem-error">{err}</p>}
      {out && (
        <div data-testid="idem-decoded">
          <ImageStrip scale={4} rows={[[toBytes(out.mse)], out.perceptual.map(toBytes)]} labels={['MSE decode', 'perceptual']} />
          <p className="small">{out.note}: {out.bytes} bytes ({num(out.bpp, 3)} bpp at λ={out.lambda}). PSNR {db(out.psnrMse)} (MSE decode), {out.psnrIdem.map(db).join(', ')} (perceptual).
            Re-encoded: MSE decode {out.sameBitsMse ? 'same bits ✓' : 'different bits'}; perceptual {out.sameBitsIdem.map((s) => (s ? 'same bits ✓' : 'different bits')).join(', ')}. {num(out.decodeSeconds, 1)} s.</p>
        </div>
      )}
    </div>
  );
}

/** The ζ sweep of DPS at the headline rate: distortion (MSE ratio) against perception (FD), one point per ζ. */
function ZetaTrade({ rows }: { rows: { zeta: number | null; fdIdem: number; mseRatio: number; lambda: number; images: number }[] }) {
  const data = rows.map((r) => ({ zeta: r.zeta, fd: r.fdIdem, ratio: r.mseRatio }));
  return (
    <div className="chart-box" data-testid="zeta-trade">
      <h3>ζ sweep: the FD–MSE trade of DPS at λ={rows[0].lambda} ({rows[0].images} images per ζ)</h3>
      <ResponsiveContainer width="100%" height={220}>
        <ScatterChart margin={{ top: 8, right: 16, bottom: 14, left: 10 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="ratio" type="number" domain={['auto', 'auto']} tick={{ fontSize: 11 }} label={{ value: 'MSE ratio (perceptual / MSE decode)', position: 'insideBottom', offset: -10, fontSize: 11 }} />
          <YAxis dataKey="fd" type="number" domain={['auto', 'auto']} tick={{ fontSize: 11 }} label={{ value: 'Fréchet distance', angle: -90, position: 'insideLeft', fontSize: 11, style: { textAnchor: 'middle' } }} />
          <Tooltip formatter={(v) => Number(v).toPrecision(4)} />
          <Scatter data={data} fill="#dc2626" line isAnimationActive={false}>
            <LabelList dataKey="zeta" position="top" formatter={(v: unknown) => `ζ=${String(v)}`} style={{ fontSize: 11 }} />
          </Scatter>
        </ScatterChart>
      </ResponsiveContainer>
    </div>
  );
}

export function IdempotentCodecPanel({ detail }: { detail: RunDetail }) {
  const rates = lastSampleOf(idempotentCodecSamples, detail.samples, 'rates');
  const floor = lastSampleOf(idempotentCodecSamples, detail.samples, 'floor');
  const grid = lastSampleOf(idempotentCodecSamples, detail.samples, 'grid');
  const bd = lastSampleOf(idempotentCodecSamples, detail.samples, 'bd');
  const anchors = lastSampleOf(idempotentCodecSamples, detail.samples, 'anchors') ?? [];
  if (!rates) return <div className="panel"><p className="muted">The rates appear as each is decoded (the perceptual decode samples the prior {detail.run.params.dsgSteps as number} steps per image batch).</p></div>;
  const main = rates.filter((r) => r.zeta === null);
  const sweep = rates.filter((r) => r.zeta !== null);
  const curves: RdCurve[] = [
    { name: 'MSE decode x̄', points: main.map((r) => ({ bpp: r.bpp, psnr: r.psnrMse, fd: r.fdMse })) },
    { name: 'perceptual decode', points: main.map((r) => ({ bpp: r.bpp, psnr: r.psnrIdem, fd: r.fdIdem })) },
    ...anchors.map((a) => ({ name: ANCHOR_LABELS[a.format], dashed: true, points: a.points.map((pt) => ({ bpp: pt.bpp, psnr: pt.psnr, fd: pt.fd })) })),
  ];
  return (
    <div className="panel panel-idem">
      <CodecComparison curves={curves} fdFloor={floor ? { value: floor.fd, label: `real images (${floor.images})` } : undefined} />
      <div className="table-scroll">
        <table className="variants" data-testid="idem-rates">
          <thead><tr>{RATE_COLUMNS.map((c) => <th key={c}>{c}</th>)}</tr></thead>
          <tbody>{rates.map((r) => (
            <tr key={`${r.lambda}-${r.zeta}`}>
              <td>{r.lambda}</td><td>{num(r.bpp, 3)}</td><td>{r.images}</td><td>{r.sampler.toUpperCase()}{r.zeta !== null ? ` ζ=${r.zeta}` : ''}</td>
              <td>{db(r.psnrMse)} / {db(r.psnrIdem)}</td><td>{num(r.fdMse)} → {num(r.fdIdem)}</td><td>{ci(r.fdDiffCi)}</td><td>{num(r.mseRatio)}× {ci(r.mseRatioCi)}</td>
              <td>{num(r.reencodeSamePct, 0)} % / {num(r.reencodeSamePctMse, 0)} %</td><td>{db(r.psnrReencode)}</td><td>{num(r.decodeSecPerImage, 2)}</td>
            </tr>
          ))}</tbody>
        </table>
      </div>
      <p className="muted small">
        FD: Fréchet distance of judge features to {floor?.reference ?? '?'} held-out test images, over the images in the row
        (real test images score {floor ? num(floor.fd) : '?'} with {floor?.images ?? '?'} images: the floor at this count).
        FD gain = FD(MSE) − FD(perceptual), a paired bootstrap over images. Same bits: re-encoding the decode gives back exactly the received symbols.
        {bd && <> BD over {bd.rates} rates ({bd.interpolation}): BD-FD {bd.bdFd === null ? '—' : num(bd.bdFd)} (lower is better), BD-PSNR {bd.bdPsnr === null ? '—' : db(bd.bdPsnr)}.</>}
      </p>
      {sweep.length > 0 && <ZetaTrade rows={sweep} />}
      {grid && grid.length > 0 && <Grid detail={detail} grid={grid} />}
      <YourImage detail={detail} />
    </div>
  );
}
