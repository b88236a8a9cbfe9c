// The mixture explorer: every SFT arm's held-out accuracy per category (grouped bars), its SFT
// samples as token shares (a stacked bar per arm), sliders that show the shares a mixture would
// give before you run it, and held-out predictions with their pictures, answer and key.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { RunDetail } from '../../../common/api';
import { lastSampleOf, samplesOf } from '../../../common/lab-contract';
import { MM15_ARM_LABEL, MM15_ARMS, MM15_CATEGORY_IDS, MM15_CATEGORY_LABEL, mm15MixtureSamples, mm15SftShares, type Mm15Arm, type Mm15CategoryId } from '../../../common/labs/mm15-mixture';

const COLOURS: Record<Mm15CategoryId, string> = { general: '#60a5fa', textRich: '#f59e0b', knowledge: '#a78bfa', grounding: '#34d399', multiImage: '#f472b6', textOnly: '#94a3b8' };
const pct = (v: number) => `${(100 * v).toFixed(1)}`;

function Legend() {
  return (
    <p className="small mm15-legend">{MM15_CATEGORY_IDS.map((c) => <span key={c}><i style={{ background: COLOURS[c] }} /> {MM15_CATEGORY_LABEL[c]}</span>)}</p>
  );
}

function SharesBar({ shares, label }: { shares: Record<string, number>; label: string }) {
  const total = Object.values(shares).reduce((a, b) => a + b, 0) || 1;
  return (
    <div className="mm15-shares" role="img" aria-label={`${label}: ${MM15_CATEGORY_IDS.map((c) => `${MM15_CATEGORY_LABEL[c]} ${pct((shares[c] ?? 0) / total)} %`).join(', ')}`}>
      {MM15_CATEGORY_IDS.map((c) => (shares[c] ?? 0) > 0 && <span key={c} style={{ width: `${(100 * (shares[c] ?? 0)) / total}%`, background: COLOURS[c] }} title={`${MM15_CATEGORY_LABEL[c]} ${pct((shares[c] ?? 0) / total)} %`} />)}
    </div>
  );
}

/** A picture (any multiple of 28 on each side) drawn at 2×. */
function Picture({ image }: { image: { width: number; height: number; pixels: number[] } }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current; if (!c) return;
    const g = c.getContext('2d')!;
    const data = g.createImageData(image.width, image.height);
    image.pixels.forEach((v, i) => { data.data[4 * i] = v; data.data[4 * i + 1] = v; data.data[4 * i + 2] = v; data.data[4 * i + 3] = 255; });
    g.putImageData(data, 0, 0);
  }, [image]);
  return <canvas ref={ref} width={image.width} height={image.height} style={{ width: image.width * 2, height: image.height * 2, imageRendering: 'pixelated' }} />;
}

/** Sliders for the mixture weights and the shares they give: what a run with these params would train on. */
function MixturePreview({ params }: { params: Record<string, unknown> }) {
  const [w, setW] = useState(() => ({
    alphaTextRich: Number(params.alphaTextRich ?? 1), alphaKnowledge: Number(params.alphaKnowledge ?? 0.5), alphaGrounding: Number(params.alphaGrounding ?? 2),
    singleImageWeight: Number(params.singleImageWeight ?? 0.8), multiImageWeight: Number(params.multiImageWeight ?? 0.1), textOnlyWeight: Number(params.textOnlyWeight ?? 0.1),
  }));
  const shares = mm15SftShares(w);
  return (
    <div className="chart-box" data-testid="mm15-preview">
      <h3>Try a mixture</h3>
      <p className="small muted">The sample shares a mixture gives (α against the general set). Set the same values in Parameters, or sweep one of them, to run it.</p>
      <div className="mm15-sliders">
        {(Object.keys(w) as (keyof typeof w)[]).map((k) => (
          <label key={k} className="small">{k}{' '}
            <input type="range" min={0} max={k.startsWith('alpha') ? 4 : 1} step={0.05} value={w[k]} onChange={(e) => setW({ ...w, [k]: Number(e.target.value) })} data-testid={`mm15-slider-${k}`} />
            {' '}<span className="mono">{w[k].toFixed(2)}</span></label>
        ))}
      </div>
      <SharesBar shares={shares} label="previewed mixture" />
      <p className="small mono" data-testid="mm15-preview-shares">{MM15_CATEGORY_IDS.map((c) => `${MM15_CATEGORY_LABEL[c]} ${pct(shares[c])} %`).join(' · ')}</p>
    </div>
  );
}

export function Mm15MixturePanel({ detail }: { detail: RunDetail }) {
  const arms = samplesOf(mm15MixtureSamples, detail.samples, 'arm');
  const predictions = samplesOf(mm15MixtureSamples, detail.samples, 'predictions');
  const bases = lastSampleOf(mm15MixtureSamples, detail.samples, 'bases');
  const [arm, setArm] = useState<Mm15Arm>('base');
  const [category, setCategory] = useState<Mm15CategoryId>('grounding');
  const byArm = useMemo(() => new Map(arms.map((a) => [a.arm, a])), [arms]);
  const shown = predictions.find((p) => p.arm === arm)?.items.filter((i) => i.category === category) ?? [];
  return (
    <div className="panel panel-mm15">
      {bases && (
        <p className="small muted" data-testid="mm15-bases">
          Bases (cached shared parts): {bases.map((b) => `${b.key} — ${b.steps} steps, first trained in ${b.trainSeconds.toFixed(0)} s, final loss ${b.finalLoss.toFixed(3)}`).join(' · ')}.
        </p>
      )}
      {!arms.length && <p className="muted">The arms appear as each one finishes its SFT and held-out scoring.</p>}
      {arms.length > 0 && (
        <>
          <Legend />
          <div className="table-scroll">
            <table className="variants" data-testid="mm15-scores">
              <thead><tr><th>arm</th>{MM15_CATEGORY_IDS.map((c) => <th key={c}>{MM15_CATEGORY_LABEL[c]}</th>)}<th>average</th><th>SFT samples (token shares)</th></tr></thead>
              <tbody>
                {MM15_ARMS.filter((a) => byArm.has(a)).map((a) => {
                  const s = byArm.get(a)!;
                  const avg = MM15_CATEGORY_IDS.reduce((t, c) => t + (s.scores[c]?.acc ?? 0), 0) / MM15_CATEGORY_IDS.length;
                  return (
                    <tr key={a}>
                      <th title={MM15_ARM_LABEL[a]}>{a}</th>
                      {MM15_CATEGORY_IDS.map((c) => {
                        const sc = s.scores[c];
                        return (
                          <td key={c} title={`${sc.n} questions; ${pct(sc.parseFail)} % answers not of the category's form`}>
                            <div className="mm15-bar"><span style={{ width: `${100 * sc.acc}%`, background: COLOURS[c] }} /></div>
                            <span className="mono">{pct(sc.acc)}</span>{sc.parseFail > 0 && <span className="muted small"> ({pct(sc.parseFail)} % unparsed)</span>}
                          </td>
                        );
                      })}
                      <td className="mono">{pct(avg)}</td>
                      <td style={{ minWidth: 160 }}><SharesBar shares={s.tokens} label={`${a} token shares`} /><span className="small muted">{Object.values(s.counts).reduce((x, y) => x + y, 0)} samples</span></td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <p className="small muted">Accuracy (%) on held-out questions whose pictures come from the test splits; arms: {MM15_ARMS.map((a) => `${a} = ${MM15_ARM_LABEL[a]}`).join('; ')}.</p>
        </>
      )}
      <MixturePreview params={detail.run.params} />
      {predictions.length > 0 && (
        <div className="chart-box" data-testid="mm15-predictions">
          <h3>Held-out predictions</h3>
          <div className="row small">
            <label>arm <select value={arm} onChange={(e) => setArm(e.target.value as Mm15Arm)} data-testid="mm15-arm">{predictions.map((p) => <option key={p.arm}>{p.arm}</option>)}</select></label>
            <label>category{' '}
              <select value={category} onChange={(e) => setCategory(e.target.value as Mm15CategoryId)} data-testid="mm15-category">
                {MM15_CATEGORY_IDS.map((c) => <option key={c} value={c}>{MM15_CATEGORY_LABEL[c]}</option>)}
              </select></label>
          </div>
          {shown.map((it, i) => (
            <div key={i} className="mm15-prediction" data-testid="mm15-prediction">
              <div className="row">{it.images.length ? it.images.map((im, k) => <Picture key={k} image={im} />) : <span className="muted small">(text only)</span>}</div>
              <p className="small"><b>Q</b> {it.prompt} <b>A</b> <span className={it.answer === it.key ? 'ok' : 'error'}>{it.answer || '(empty)'}</span> <b>key</b> {it.key}</p>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
