// The mixture explorer: every SFT arm's held-out accuracy per category (grouped bars), its SFT
// samples as token shares (a stacked bar per arm), a line per category along a sweep's weight,
// the sliders that run a mixture or sweep a weight (./mm15-explorer), and held-out predictions
// with their pictures, answer and key.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { RunDetail } from '../../../common/api';
import { lastSampleOf, samplesOf } from '../../../common/lab-contract';
import { MM15_ARM_LABEL, MM15_ARMS, MM15_CATEGORY_IDS, MM15_CATEGORY_LABEL, mm15MixtureSamples, type Mm15Arm, type Mm15CategoryId } from '../../../common/labs/mm15-mixture';
import { MixtureExplorer, SweepLines } from './mm15-explorer';
import { CATEGORY_COLOURS, Legend, pct, SharesBar } from './mm15-shares';

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
      {!arms.length && <p className="muted">The scores appear when the arms have finished their SFT and held-out scoring (they train side by side; progress above).</p>}
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
                            <div className="mm15-bar"><span style={{ width: `${100 * sc.acc}%`, background: CATEGORY_COLOURS[c] }} /></div>
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
      <SweepLines detail={detail} />
      <MixtureExplorer detail={detail} />
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
