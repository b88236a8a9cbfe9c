// The CoT chain inspector: the variants table (± standard errors), DPO curves, the pairs
// DPO trained on, and K chains for a held-out question or digits you draw.
import { useEffect, useRef, useState } from 'react';
import type { z } from 'zod';
import type { RunDetail } from '../../../common/api';
import { samplesOf as samplesOfKind } from '../../../common/lab-contract';
import { cotDpoQueries, cotDpoSamples } from '../../../common/labs/cot-dpo';
import { MetricChart } from '../charts/MetricChart';
import { api } from '../bridge';
import { STATIC_NOTE, useInteractive } from './interactive';
import { DrawPad } from './DrawPad';

type Variant = z.output<typeof cotDpoSamples.variant>;
type Acc = NonNullable<Variant['direct']>;
type Inspection = z.output<typeof cotDpoQueries.inspect.result>;

const variantLabels = (rounds: number): Record<string, string> => ({
  directSft: 'SFT direct only', cotSft: 'SFT CoT only', mixSft: 'SFT direct + CoT',
  dpoRound1: '+ DPO, round 1 (the paper\'s one round)', dpoControlRound1: '+ control, round 1',
  dpo: rounds > 1 ? `+ DPO, ${rounds} rounds` : '+ DPO', dpoControl: rounds > 1 ? `+ DPO, random labels (control), ${rounds} rounds` : '+ DPO, random labels (control)',
  rerank: 'best-of-N by DPO reward', vote: 'reward-weighted vote', majority: 'majority vote',
});
const pct = (a?: Pick<Acc, 'acc' | 'se'>) => (a ? `${(a.acc * 100).toFixed(1)} ± ${(a.se * 100).toFixed(1)}` : '—');
const samplesOf = <N extends keyof typeof cotDpoSamples>(d: RunDetail, kind: N) => samplesOfKind(cotDpoSamples, d.samples, kind);
const lastOf = <N extends keyof typeof cotDpoSamples>(d: RunDetail, kind: N) => samplesOf(d, kind).at(-1);

/** A chain with its reasoning steps and its answer visibly apart. */
export function ChainText({ text }: { text: string }) {
  const at = text.lastIndexOf('### Answer:');
  const steps = (at < 0 ? text : text.slice(0, at)).split('. ').filter((s) => s.trim().length);
  return (
    <span className="chain">
      {steps.map((s, i) => <span key={i} className="chain-step">{s.replace(/\.$/, '')}.</span>)}
      {at >= 0 ? <span className="chain-answer">{text.slice(at)}</span> : <span className="chain-nomarker">no answer marker</span>}
    </span>
  );
}

function QuestionImage({ image, scale = 4 }: { image: number[]; scale?: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current; if (!c) return;
    const g = c.getContext('2d')!;
    const img = g.createImageData(84, 28);
    image.forEach((v, i) => { img.data[i * 4] = 255 - v; img.data[i * 4 + 1] = 255 - v; img.data[i * 4 + 2] = 255 - v; img.data[i * 4 + 3] = 255; });
    const tmp = document.createElement('canvas'); tmp.width = 84; tmp.height = 28;
    tmp.getContext('2d')!.putImageData(img, 0, 0);
    g.imageSmoothingEnabled = false;
    g.drawImage(tmp, 0, 0, 84 * scale, 28 * scale);
  }, [image, scale]);
  return <canvas ref={ref} width={84 * scale} height={28 * scale} className="question-image" data-testid="question-image" />;
}

export function CotDpoPanel({ detail }: { detail: RunDetail }) {
  const variants = new Map(samplesOf(detail, 'variant').map((v) => [v.name, v]));
  const questions = lastOf(detail, 'questions');
  const pairs = lastOf(detail, 'pairs');
  const rounds = samplesOf(detail, 'pair-stats').filter((x) => (x.tag ?? 'dpo') === 'dpo');
  const stats = rounds.at(-1);
  const labels = variantLabels(stats?.rounds ?? 1);
  const interactive = useInteractive();
  const canQuery = detail.run.status === 'succeeded' && interactive;
  const [picked, setPicked] = useState(0);
  const [mode, setMode] = useState<'heldout' | 'draw'>('heldout');
  const [drawn, setDrawn] = useState<(number[] | null)[]>([null, null, null]);
  const [op, setOp] = useState('sum');
  const [k, setK] = useState(8);
  const [seed, setSeed] = useState(0);
  const [result, setResult] = useState<Inspection>();
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string>();
  const q = questions?.heldOut[picked];

  const run = () => {
    setErr(undefined); setBusy(true);
    const args = mode === 'heldout' ? { index: picked, k, seed } : { digits: drawn.slice(0, op === 'sum3' ? 3 : 2), op, k, seed };
    if (mode === 'draw' && (args as { digits: (number[] | null)[] }).digits.some((d) => !d)) { setErr(`draw ${op === 'sum3' ? 3 : 2} digits first`); setBusy(false); return; }
    api.query(detail.run.id, 'inspect', args).then((r) => setResult(r as Inspection), (e: Error) => setErr(e.message)).finally(() => setBusy(false));
  };

  const dpoCurves = ['loss', 'chosenLogProb', 'rejectedLogProb', 'rewardMargin', 'rewardAccuracy'];
  return (
    <div className="panel panel-cotdpo">
      <div>
        <h3>Held-out accuracy (%, greedy unless marked; ± standard error)</h3>
        <table className="variants" data-testid="variants-table">
          <thead><tr>
            <th>model</th><th>direct prompt</th><th>CoT prompt</th><th>CoT, 3 digits (harder)</th>
            <th title="mean accuracy of single chains sampled at the pair temperature, N per question: what DPO's objective acts on">CoT, one sampled chain</th><th>CoT parse failures</th>
          </tr></thead>
          <tbody>
            {[...variants.values()].map((v) => (
              <tr key={v.name}>
                <td>{labels[v.name] ?? v.name}</td><td className="num">{pct(v.direct)}</td><td className="num"><b>{pct(v.cot)}</b></td><td className="num">{pct(v.hard)}</td>
                <td className="num">{pct(v.sampled)}</td><td className="num">{(v.cot.parseFail * 100).toFixed(1)}%</td>
              </tr>
            ))}
            {!variants.size && <tr><td colSpan={6} className="muted">rows appear as each model is evaluated</td></tr>}
          </tbody>
        </table>
        {rounds.map((st, i) => (
          <p key={i} className="muted small" data-testid="pair-stats">
            DPO pairs{(st.rounds ?? 1) > 1 ? `, round ${st.round} of ${st.rounds} (sampled from the model at the start of the round, which is also its reference)` : ''}:
            {' '}{st.pairs} from {st.kept} of {st.questions} training questions whose sampled accuracy fell in the kept range
            {' '}(histogram of correct chains per question: {st.accuracyHistogram.join(' · ')}).
          </p>
        ))}
      </div>

      {stats && stats.pairs === 0 && <p className="muted">No question fell in the kept accuracy range, so there were no pairs and DPO did not train (typical of a smoke run).</p>}
      {dpoCurves.some((c) => (detail.metrics[`dpo.${c}`]?.length ?? 0) > 0) && <div className="charts">
        {dpoCurves.map((c) => {
          const series = [{ label: 'DPO', points: detail.metrics[`dpo.${c}`] ?? [] }, { label: 'control', points: detail.metrics[`control.${c}`] ?? [] }];
          return <MetricChart key={c} title={`DPO ${c} (vs random-label control)${(stats?.rounds ?? 1) > 1 && c.startsWith('reward') ? ', from each round\'s reference' : ''}`} series={series} height={160} width={360} />;
        })}
      </div>}

      <div>
        <h3>Chain inspector</h3>
        {!interactive ? <p className="muted static-note" data-testid="static-note">Sampling chains is disabled in {STATIC_NOTE}.</p>
          : !canQuery && <p className="muted">Sampling chains needs the trained models: available when the run has succeeded.</p>}
        <div className="row">
          <label><input type="radio" checked={mode === 'heldout'} onChange={() => setMode('heldout')} /> held-out question</label>
          <label><input type="radio" checked={mode === 'draw'} onChange={() => setMode('draw')} /> draw your own digits</label>
          <label>K <input type="number" min={1} max={32} value={k} onChange={(e) => setK(Math.max(1, Math.min(32, Number(e.target.value) || 1)))} style={{ width: 48 }} /></label>
          <label>seed <input type="number" value={seed} onChange={(e) => setSeed(Math.trunc(Number(e.target.value) || 0))} style={{ width: 64 }} /></label>
          <button disabled={!canQuery || busy} onClick={run} data-testid="inspect">{busy ? 'sampling…' : `Sample ${k} chains`}</button>
        </div>
        {mode === 'heldout' && questions && q && (
          <div className="question">
            <select value={picked} onChange={(e) => setPicked(Number(e.target.value))} data-testid="question-picker">
              {questions.heldOut.map((h) => <option key={h.index} value={h.index}>#{h.index}: {h.op} of {h.digits.join(', ')}</option>)}
            </select>
            <QuestionImage image={q.image} />
            <p><b>{questions.ops.find((o) => o.op === q.op)?.question}</b> <span className="muted">annotated answer {q.answer}; teacher: </span><ChainText text={q.rationale} /></p>
          </div>
        )}
        {mode === 'draw' && (
          <div className="question">
            <select value={op} onChange={(e) => setOp(e.target.value)}>
              {questions?.ops.map((o) => <option key={o.op} value={o.op}>{o.op}: {o.question}</option>)}
            </select>
            <p className="muted small">Each pad is one digit slot, centred and scaled as MNIST digits are before the model sees it.</p>
            <div className="row">
              {[0, 1, 2].slice(0, op === 'sum3' ? 3 : 2).map((i) => <DrawPad key={i} size={120} onDigit={(px) => setDrawn((d) => d.map((x, j) => (j === i ? px : x)))} />)}
            </div>
          </div>
        )}
        {err && <p className="error">{err}</p>}
        {result && (
          <div data-testid="chains">
            <p>Expected answer <b>{result.answer ?? '—'}</b> <span className="muted">({result.answerNote}{result.digits ? `; digits ${result.digits.join(', ')}` : ''})</span></p>
            <div className="kv"><span>greedy, SFT direct prompt</span><ChainText text={result.greedy.sftDirect} /></div>
            <div className="kv"><span>greedy, SFT CoT prompt</span><ChainText text={result.greedy.sftCot} /></div>
            <div className="kv"><span>greedy, DPO CoT prompt</span><ChainText text={result.greedy.dpoCot} /></div>
            <table className="chains">
              <thead><tr><th>#</th><th>chain sampled from SFT</th><th>answer</th><th>log p SFT</th><th>log p DPO</th><th title="β·(log p DPO − log p SFT)">DPO score</th></tr></thead>
              <tbody>
                {result.chains.map((c, i) => (
                  <tr key={i} className={c.correct ? 'ok' : 'bad'}>
                    <td>{i + 1}</td><td><ChainText text={c.text} /></td>
                    <td>{c.parsed ?? <i>parse failed</i>} {c.correct ? '✓' : '✗'}</td>
                    <td className="num">{c.logProbSft.toFixed(2)}</td><td className="num">{c.logProbDpo.toFixed(2)}</td><td className="num">{c.score.toFixed(3)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>

      {pairs && pairs.length > 0 && (
        <div>
          <h3>DPO pairs{(stats?.rounds ?? 1) > 1 ? ` of the last round (${stats!.rounds})` : ''} (first {pairs.length}) with their final reward margins</h3>
          <table className="chains" data-testid="pairs-table">
            <thead><tr><th>question</th><th>chosen (correct)</th><th>rejected (incorrect)</th><th>margin</th></tr></thead>
            <tbody>
              {pairs.map((pr, i) => (
                <tr key={i}><td>{pr.op} of {pr.digits.join(', ')} = {pr.answer}</td><td><ChainText text={pr.chosen} /></td><td><ChainText text={pr.rejected} /></td><td className="num">{pr.margin.toFixed(3)}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
