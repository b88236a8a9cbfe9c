// MoE routing heatmaps: a 16-image batch denoising step by step, with how many experts
// chose each patch (or which patches one expert took) per MoE block and step, EC beside
// token choice; expert load bars; hover for a patch's router probabilities. Plus the
// quality table, sample grids and the ink–experts correlation by block and step.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { z } from 'zod';
import type { RunDetail } from '../../../common/api';
import { samplesOf as samplesOfKind } from '../../../common/lab-contract';
import { ecDitQueries, ecDitSamples } from '../../../common/labs/ec-dit';
import { api } from '../bridge';
import { STATIC_NOTE, useInteractive } from './interactive';
import { ImageStrip } from './ImageStrip';
import { readableTextOn } from '../charts/contrast';

type RoutingBatch = z.output<typeof ecDitSamples.routing>;
type Spear = z.output<typeof ecDitSamples.spearman>;
type Generated = z.output<typeof ecDitQueries.generate.result>;

const MODEL_LABEL: Record<string, string> = { ec: 'expert choice', dense: 'dense', tc: 'token choice top-2' };
const samplesOf = <N extends keyof typeof ecDitSamples>(d: RunDetail, kind: N) => samplesOfKind(ecDitSamples, d.samples, kind);
const SIDE = 7, PATCH = 4, SCALE = 4, CELL = 28 * SCALE, GAP = 4, COLS = 4;
/** Flat images (784 values each) in rows of COLS, for ImageStrip. */
const imageRows = (images: ArrayLike<number> & { slice(a: number, b: number): number[] }) =>
  Array.from({ length: Math.ceil(images.length / 784 / COLS) }, (_, r) => Array.from({ length: Math.min(COLS, images.length / 784 - r * COLS) }, (_, c) => images.slice((r * COLS + c) * 784, (r * COLS + c + 1) * 784)));

/** Sequential colour for 0..1 (light yellow → red → dark purple), readable over grey digits. */
function heat(v: number): [number, number, number] {
  const stops: [number, number, number][] = [[255, 255, 204], [253, 141, 60], [227, 26, 28], [128, 0, 38], [45, 0, 75]];
  const x = Math.max(0, Math.min(1, v)) * (stops.length - 1), i = Math.min(stops.length - 2, Math.floor(x)), f = x - i;
  return [0, 1, 2].map((c) => Math.round(stops[i][c] + f * (stops[i + 1][c] - stops[i][c]))) as [number, number, number];
}

function RoutingCanvas({ batch, step, layer, expert, onHover }: { batch: RoutingBatch; step: number; layer: number; expert: number | null; onHover: (h: { image: number; patch: number } | null) => void }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const n = batch.labels.length, rows = Math.ceil(n / COLS);
  const frame = batch.frames[Math.min(step, batch.frames.length - 1)];
  useEffect(() => {
    const c = ref.current; if (!c || !frame) return;
    const g = c.getContext('2d')!;
    g.fillStyle = '#fff'; g.fillRect(0, 0, c.width, c.height);
    const img = g.createImageData(28, 28);
    const tmp = document.createElement('canvas'); tmp.width = 28; tmp.height = 28;
    const tg = tmp.getContext('2d')!;
    g.imageSmoothingEnabled = false;
    const r = frame.routing[layer];
    for (let b = 0; b < n; b++) {
      const x0 = (b % COLS) * (CELL + GAP), y0 = Math.floor(b / COLS) * (CELL + GAP);
      for (let p = 0; p < 784; p++) { const v = frame.images[b * 784 + p]; img.data[p * 4] = v; img.data[p * 4 + 1] = v; img.data[p * 4 + 2] = v; img.data[p * 4 + 3] = 255; }
      tg.putImageData(img, 0, 0);
      g.drawImage(tmp, x0, y0, CELL, CELL);
      if (!r) continue;
      for (let k = 0; k < SIDE * SIDE; k++) {
        const tok = b * SIDE * SIDE + k;
        const value = expert === null ? r.expertsPerToken[tok] / batch.experts : (r.expertMask[tok] >> expert) & 1;
        if (value <= 0) continue;
        const [cr, cg, cb] = heat(expert === null ? value : 0.6);
        g.fillStyle = `rgba(${cr},${cg},${cb},${0.2 + 0.4 * Math.min(1, value)})`;
        g.fillRect(x0 + (k % SIDE) * PATCH * SCALE, y0 + Math.floor(k / SIDE) * PATCH * SCALE, PATCH * SCALE, PATCH * SCALE);
      }
    }
  }, [frame, layer, expert, n, batch.experts]);
  const hover = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - rect.left, y = e.clientY - rect.top;
    const col = Math.floor(x / (CELL + GAP)), row = Math.floor(y / (CELL + GAP));
    const ix = x - col * (CELL + GAP), iy = y - row * (CELL + GAP);
    const image = row * COLS + col;
    if (col >= COLS || image >= n || ix >= CELL || iy >= CELL) { onHover(null); return; }
    onHover({ image, patch: Math.floor(iy / (PATCH * SCALE)) * SIDE + Math.floor(ix / (PATCH * SCALE)) });
  };
  return <canvas ref={ref} width={COLS * (CELL + GAP)} height={rows * (CELL + GAP)} onMouseMove={hover} onMouseLeave={() => onHover(null)} data-testid={`routing-canvas-${batch.model}`} />;
}

function LoadBars({ batch, step, layer }: { batch: RoutingBatch; step: number; layer: number }) {
  const r = batch.frames[Math.min(step, batch.frames.length - 1)]?.routing[layer];
  if (!r) return null;
  const load = Array.from({ length: batch.experts }, (_, e) => r.expertMask.reduce((s, m) => s + ((m >> e) & 1), 0));
  const max = Math.max(1, ...load);
  return (
    <div className="load-bars" data-testid={`load-${batch.model}`}>
      {load.map((l, e) => (
        <div key={e} className="load-row"><span>expert {e}</span><div className="bar" style={{ width: `${(120 * l) / max}px` }} /><span className="num">{l}</span></div>
      ))}
      <p className="muted small">tokens processed per expert (of {r.expertsPerToken.length}); a token taken by no expert: {r.expertsPerToken.filter((c) => c === 0).length}</p>
    </div>
  );
}

function SpearmanTable({ s }: { s: Spear }) {
  const cols = s.rho[0]?.length ?? 0;
  const shown = Array.from({ length: cols }, (_, j) => j).filter((j) => j === 0 || j === cols - 1 || j % Math.max(1, Math.round(cols / 5)) === 0);
  return (
    <table className="variants" data-testid={`spearman-${s.model}`}>
      <thead><tr><th>{MODEL_LABEL[s.model]}: MoE block</th>{shown.map((j) => <th key={j}>step {j + 1} (t = {((j + 1) / cols).toFixed(2)})</th>)}</tr></thead>
      <tbody>{s.rho.map((row, i) => <tr key={i}><td>block {s.layers[i] + 1}</td>{shown.map((j) => <td key={j} className="num">{Number.isFinite(row[j]) ? row[j].toFixed(2) : '—'}</td>)}</tr>)}</tbody>
    </table>
  );
}

export function EcDitPanel({ detail }: { detail: RunDetail }) {
  const grids = samplesOf(detail, 'grid');
  const spears = samplesOf(detail, 'spearman');
  const fromRun = samplesOf(detail, 'routing');
  const [generated, setGenerated] = useState<Generated>();
  const batches = useMemo(() => {
    if (generated) return Object.values(generated.models).filter((m): m is RoutingBatch => 'frames' in m);
    const latest = new Map<string, RoutingBatch>();
    for (const b of fromRun) latest.set(b.model, b);
    return [...latest.values()];
  }, [generated, fromRun]);
  const steps = batches[0]?.frames.length ?? 0, layers = batches[0]?.frames[0]?.routing.length ?? 0, experts = batches[0]?.experts ?? 0;
  const [step, setStep] = useState(Number.MAX_SAFE_INTEGER);
  const [layer, setLayer] = useState(Number.MAX_SAFE_INTEGER);
  const [expert, setExpert] = useState<number | null>(null);
  const [playing, setPlaying] = useState(false);
  const [hover, setHover] = useState<{ model: string; image: number; patch: number } | null>(null);
  const [classes, setClasses] = useState<number[]>([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const [seed, setSeed] = useState(0);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string>();
  const s = Math.min(step, Math.max(0, steps - 1)), l = Math.min(layer, Math.max(0, layers - 1));

  // Playback: one sampling step per animation frame (60 frames/s), then stop at the last.
  useEffect(() => {
    if (!playing) return;
    let at = 0, raf = 0;
    const tick = () => { setStep(at); at++; if (at < steps) raf = requestAnimationFrame(tick); else setPlaying(false); };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
  }, [playing, steps]);

  const generate = () => {
    setErr(undefined); setBusy(true);
    api.query(detail.run.id, 'generate', { classes, seed }).then((r) => { setGenerated(r as Generated); setStep(Number.MAX_SAFE_INTEGER); }, (e: Error) => setErr(e.message)).finally(() => setBusy(false));
  };
  const interactive = useInteractive();
  const canQuery = detail.run.status === 'succeeded' && interactive;
  const hovered = hover && batches.find((b) => b.model === hover.model);
  const hoverProbs = hovered && hover ? hovered.frames[s]?.routing[l]?.probs.slice((hover.image * 49 + hover.patch) * experts, (hover.image * 49 + hover.patch + 1) * experts) : undefined;
  const dense = generated?.models.dense as { images: number[] } | undefined;

  return (
    <div className="panel panel-ecdit">
      <div>
        <h3>Quality at equal training steps and activated compute</h3>
        <table className="variants" data-testid="quality-table">
          <thead><tr><th>model</th><th>validation flow loss</th><th>judge accuracy on samples</th><th>Fréchet distance (judge features)</th></tr></thead>
          <tbody>
            {grids.map((g) => <tr key={g.model}><td>{MODEL_LABEL[g.model]}</td><td className="num">{g.valLoss.toFixed(4)}</td><td className="num">{(g.classAcc * 100).toFixed(1)}%</td><td className="num">{g.fd.toFixed(2)}</td></tr>)}
            {!grids.length && <tr><td colSpan={4} className="muted">rows appear as each model is trained and sampled</td></tr>}
          </tbody>
        </table>
      </div>

      {grids.length > 0 && <div>
        <h3>Samples ({grids[0].perClass} per class, the same noise for every model)</h3>
        <div className="row">
          {grids.map((g) => (
            <div key={g.model}><p className="muted small">{MODEL_LABEL[g.model]}</p>
              <ImageStrip rows={Array.from({ length: 10 }, (_, c) => g.images.slice(c * g.perClass, (c + 1) * g.perClass))} labels={Array.from({ length: 10 }, (_, c) => `class ${c}`)} scale={2} />
            </div>
          ))}
        </div>
      </div>}

      <div>
        <h3>Routing heatmaps</h3>
        <p className="muted small">
          Expert choice routes all tokens of a batch together, so a sample depends on its batch-mates: the batch (its size and classes) is fixed here, and every model gets the same noise.
          {' '}The conditional branch is shown; the null branch of guidance is routed as its own group.
        </p>
        <div className="row">
          <span>classes</span>
          {Array.from({ length: 10 }, (_, c) => (
            <label key={c}><input type="checkbox" checked={classes.includes(c)} onChange={(e) => setClasses((cs) => (e.target.checked ? [...cs, c].sort((a, b) => a - b) : cs.filter((x) => x !== c)))} />{c}</label>
          ))}
          <label>seed <input type="number" value={seed} min={0} onChange={(e) => setSeed(Math.max(0, Math.trunc(Number(e.target.value) || 0)))} style={{ width: 64 }} /></label>
          <button disabled={!canQuery || busy || !classes.length} onClick={generate} data-testid="generate">{busy ? 'generating…' : 'Generate a batch'}</button>
          {!interactive ? <span className="muted small static-note" data-testid="static-note">Generating is disabled in {STATIC_NOTE}; the run&apos;s own sampling batch is shown.</span>
            : !canQuery && <span className="muted small">(generation needs the trained models: available when the run has succeeded; until then the run's first sampling batch is shown)</span>}
        </div>
        {err && <p className="error">{err}</p>}
        {batches.length > 0 && <>
          <div className="row">
            <label>
              MoE block <input type="range" min={0} max={Math.max(0, layers - 1)} value={l} onChange={(e) => setLayer(Number(e.target.value))} data-testid="layer-slider" />
              {' '}{batches[0].frames[0]?.routing[l] ? batches[0].frames[0].routing[l].layer + 1 : ''}
            </label>
            <label>
              step <input type="range" min={0} max={Math.max(0, steps - 1)} value={s} onChange={(e) => { setPlaying(false); setStep(Number(e.target.value)); }} data-testid="step-slider" />
              {' '}{s + 1}/{steps} (t = {batches[0].frames[s]?.t.toFixed(2)})
            </label>
            <button onClick={() => setPlaying(true)} disabled={playing}>▶ play</button>
            <label>view <select value={expert === null ? 'count' : String(expert)} onChange={(e) => setExpert(e.target.value === 'count' ? null : Number(e.target.value))} data-testid="expert-view">
              <option value="count">experts per patch</option>
              {Array.from({ length: experts }, (_, e) => <option key={e} value={e}>patches expert {e} took</option>)}
            </select></label>
          </div>
          <div className="legend row small">{expert === null ? <>experts per patch: {Array.from({ length: experts + 1 }, (_, k) => {
            const rgb: [number, number, number] = k ? heat(k / experts) : [255, 255, 255];
            return <span key={k} className="swatch" style={{ background: `rgb(${rgb.join(',')})`, color: readableTextOn(rgb) }}>{k}</span>;
          })}</> : <>highlighted: patches expert {expert} processed</>}</div>
          <div className="row routing">
            {batches.map((b) => (
              <div key={b.model}>
                <p><b>{MODEL_LABEL[b.model]}</b></p>
                <RoutingCanvas batch={b} step={s} layer={l} expert={expert} onHover={(h) => setHover(h ? { model: b.model, ...h } : null)} />
                <LoadBars batch={b} step={s} layer={l} />
              </div>
            ))}
            {dense && (
              <div>
                <p><b>dense</b> (final samples)</p>
                <ImageStrip rows={imageRows(dense.images)} labels={[]} scale={4} />
              </div>
            )}
          </div>
          <p className="small" data-testid="hover-probs">
            {hover && hoverProbs ? <>
              {MODEL_LABEL[hover.model]}, image {hover.image + 1} (class {hovered!.labels[hover.image]}), patch row {Math.floor(hover.patch / 7) + 1} col {(hover.patch % 7) + 1}:
              {' '}router probabilities {Array.from(hoverProbs).map((p, e) => `e${e} ${p.toFixed(3)}`).join(' · ')}
            </> : <span className="muted">hover a patch for its router probabilities</span>}
          </p>
        </>}
      </div>

      {spears.length > 0 && <div>
        <h3>Spearman ρ between a sample's patch ink and the experts choosing the patch (mean over samples)</h3>
        {spears.map((sp) => <SpearmanTable key={sp.model} s={sp} />)}
      </div>}
    </div>
  );
}
