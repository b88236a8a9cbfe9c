// cond-perceptual: the codec comparison of x̄ and the four G2 decoders of the same bits
// (conditional FD on the perception axis), the table behind it, the ε effect, the low
// rate's side-by-side grid, and the Y picker: one image's bits fixed, Y changed at the
// decoder (a class, or a painted 7 × 7 mask), every decoder's answer with several ε draws.
import { useEffect, useState } from 'react';
import type { z } from 'zod';
import type { RunDetail } from '../../../common/api';
import { lastSampleOf, samplesOf } from '../../../common/lab-contract';
import { condPerceptualQueries, condPerceptualSamples, type CondDecoder } from '../../../common/labs/cond-perceptual';
import { formatMetric } from '../../../common/metrics';
import { api } from '../bridge';
import { CodecComparison, type RdCurve } from './CodecComparison';
import { ImageStrip } from './ImageStrip';
import { STATIC_NOTE, useInteractive } from './interactive';

type Decoded = z.output<typeof condPerceptualQueries.decode.result>;
type Grid = z.output<typeof condPerceptualSamples.grid>;

export const DECODER_LABELS: Record<CondDecoder, string> = {
  mse: 'MSE decode x̄ (G1 with Y)',
  cond: 'G2 · critic with Y · ε',
  uncondCritic: 'G2 · critic without Y · ε',
  noEps: 'G2 · critic with Y · no ε',
  uncondAll: 'G1, G2 and critic without Y · ε',
};
const num = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : String(v));
const db = (v: number) => formatMetric(v, 'dB');
const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
const toBytes = (x: number[]) => x.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255));

function MaskPainter({ mask, onChange }: { mask: number[]; onChange: (m: number[]) => void }) {
  return (
    <div className="mask-painter" role="grid" aria-label="7 × 7 mask: click a cell to flip it" data-testid="mask-painter">
      {mask.map((v, i) => (
        <button key={i} className={v ? 'cell on' : 'cell'} aria-label={`cell ${Math.floor(i / 7) + 1}, ${(i % 7) + 1}: ${v ? 'ink' : 'empty'}`}
          onClick={() => onChange(mask.map((x, j) => (j === i ? 1 - x : x)))} />
      ))}
    </div>
  );
}

/** One image's bits, fixed; the Y the decoders read, chosen by the user. */
function YPicker({ detail, grid }: { detail: RunDetail; grid: Grid }) {
  const interactive = useInteractive();
  const side = grid.side;
  const [image, setImage] = useState(0);
  const [cls, setCls] = useState(grid.labels[0]);
  const [mask, setMask] = useState(grid.masks[0]);
  const [seed, setSeed] = useState(0);
  const [out, setOut] = useState<Decoded>();
  const [err, setErr] = useState<string>();
  const [busy, setBusy] = useState(false);
  const pick = (i: number) => { setImage(i); setCls(grid.labels[i]); setMask(grid.masks[i]); };
  const decodeSide = side === 'class' ? cls : mask;
  useEffect(() => {
    if (!interactive || detail.run.status !== 'succeeded') return;
    let live = true;
    setBusy(true); setErr(undefined);
    const encodeSide = side === 'class' ? grid.labels[image] : grid.masks[image];
    api.query(detail.run.id, 'decode', { pixels: grid.original[image].map((v) => v / 255), lambda: grid.lambda, encodeSide, decodeSide, draws: 3, seed })
      .then((r) => { if (live) setOut(r as Decoded); })
      .catch((e: Error) => { if (live) setErr(e.message); })
      .finally(() => { if (live) setBusy(false); });
    return () => { live = false; };
  }, [detail.run.id, detail.run.status, image, JSON.stringify(decodeSide), seed, interactive]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <div className="chart-box" data-testid="y-picker">
      <h3>Change Y at the decoder, keep the bits: λ={grid.lambda}</h3>
      <p className="small muted">The image is encoded once with its own Y; the decoders below read the Y you choose. Y is known to both ends and is not counted in the rate.</p>
      <div className="row small">
        <label>image <select value={image} onChange={(e) => pick(Number(e.target.value))} data-testid="y-image">
          {grid.labels.map((l, i) => <option key={i} value={i}>#{i + 1} (a {l})</option>)}
        </select></label>
        {side === 'class'
          ? <label>Y: class <select value={cls} onChange={(e) => setCls(Number(e.target.value))} data-testid="y-class">
            {Array.from({ length: 10 }, (_, c) => <option key={c} value={c}>{c}</option>)}
          </select></label>
          : <span>Y: paint the mask <MaskPainter mask={mask} onChange={setMask} /></span>}
        <button onClick={() => setSeed((s) => s + 1)} disabled={!interactive || busy} data-testid="y-redraw">New ε draws</button>
        {busy && <span className="muted">decoding…</span>}
        {!interactive && <span className="muted static-note">The Y picker is disabled in {STATIC_NOTE}.</span>}
      </div>
      {err && <p className="error" role="alert" data-testid="y-error">{err}</p>}
      {out && (
        <div data-testid="y-decodes">
          <ImageStrip scale={3} rows={[[grid.original[image]], ...out.decodes.map((d) => d.images.map(toBytes))]}
            labels={['original', ...out.decodes.map((d) => d.decoder)]} />
          <p className="small" data-testid="y-judged">The judge reads: {out.decodes.map((d) => `${d.decoder} ${d.judged.join(' ')}`).join(' · ')}.</p>
          <p className="small muted">{out.bits} bits for this image (one image's own stream, with its coder's termination). Rows: {out.decodes.map((d) => `${d.decoder} = ${DECODER_LABELS[d.decoder]}`).join('; ')}.</p>
        </div>
      )}
    </div>
  );
}

export function CondPerceptualPanel({ detail }: { detail: RunDetail }) {
  // Every rate's row, in λ order (runs before 2026-12-03 emitted one rate a sample; later ones all rates so far).
  const byLambda = new Map(samplesOf(condPerceptualSamples, detail.samples, 'rates').flat().map((r) => [r.lambda, r]));
  const rates = byLambda.size ? [...byLambda.values()].sort((a, b) => a.lambda - b.lambda) : undefined;
  const floor = lastSampleOf(condPerceptualSamples, detail.samples, 'floor');
  const grid = lastSampleOf(condPerceptualSamples, detail.samples, 'grid');
  const eps = lastSampleOf(condPerceptualSamples, detail.samples, 'epsEffect');
  if (!rates) return <div className="panel"><p className="muted">The rates appear once the decoders are trained and scored (G2 and its critic: {String(detail.run.params.generatorSteps)} steps per decoder).</p></div>;
  const decoders = rates[0].decoders.map((d) => d.decoder);
  const curves: RdCurve[] = decoders.map((d) => ({
    name: DECODER_LABELS[d], dashed: d === 'mse',
    points: rates.map((r) => { const s = r.decoders.find((x) => x.decoder === d)!; return { bpp: d === 'uncondAll' ? r.bitsPerImageNoY / 784 : r.bpp, psnr: s.psnr, fd: s.condFd }; }),
  }));
  return (
    <div className="panel panel-cond">
      <p className="small muted">
        Rates are bits per image of one arithmetic-coded stream over all {rates[0].images} decoded images, divided by their number (below a byte an image a
        per-image count would be the coder's termination). Side information Y ({grid?.side ?? String(detail.run.params.side)}) is known to both ends and not counted.
        The perception axis is the conditional Fréchet distance: per class, against training images of that class (its distribution), averaged.
      </p>
      <CodecComparison curves={curves} fdFloor={floor ? { value: floor.condFd, label: `real images (${floor.perClass} a class)` } : undefined} fdLabel="conditional FD (lower is better)" />
      <div className="table-scroll">
        <table className="variants" data-testid="cond-rates">
          <thead><tr><th>λ</th><th>bits / image (with Y · the reference without Y, at its λ)</th><th>decoder</th><th>conditional FD</th><th>FD</th><th>PSNR</th><th>judge agrees</th><th>mask IoU</th><th>diversity</th></tr></thead>
          <tbody>{rates.flatMap((r) => r.decoders.map((s, i) => (
            <tr key={`${r.lambda}-${s.decoder}`}>
              <td>{i === 0 ? r.lambda : ''}</td><td>{i === 0 ? `${num(r.bitsPerImage, 1)} · ${num(r.bitsPerImageNoY, 1)} (λ ${r.referenceLambda ?? r.lambda})` : ''}</td><td>{DECODER_LABELS[s.decoder]}</td>
              <td>{num(s.condFd)}</td><td>{num(s.fd)}</td><td>{db(s.psnr)}</td><td>{pct(s.semanticAgree)}</td><td>{num(s.maskIou)}</td><td>{num(s.diversity, 3)}</td>
            </tr>
          )))}</tbody>
        </table>
      </div>
      <p className="small muted" data-testid="cond-notes">
        {floor && <>Real test images (not decoded) score a conditional FD of {num(floor.condFd)} at {floor.perClass} a class (the floor at this count). </>}
        {eps && <>At the low rate, condFD without ε − with ε = {num(eps.difference)} (95 % interval [{num(eps.lo)}, {num(eps.hi)}], {eps.resamples} resamples of the images within each class). </>}
        Diversity: mean pixel standard deviation across ε draws of the same bits (0 without ε by construction).
      </p>
      {grid && (
        <div className="chart-box" data-testid="cond-grid">
          <h3>The low rate, λ={grid.lambda}: one image a class, each decoder (ε decoders: one row per draw)</h3>
          <ImageStrip scale={2} rows={[grid.original, ...grid.decodes.flatMap((d) => {
            const draws = d.images.length / grid.original.length;
            return Array.from({ length: draws }, (_, k) => d.images.slice(k * grid.original.length, (k + 1) * grid.original.length));
          })]} labels={['original', ...grid.decodes.flatMap((d) => Array.from({ length: d.images.length / grid.original.length }, (_, k) => (k === 0 ? d.decoder : `  ε draw ${k + 1}`)))]} />
        </div>
      )}
      {grid && <YPicker detail={detail} grid={grid} />}
    </div>
  );
}
