import { useState } from 'react';
import type { z } from 'zod';
import type { RunDetail } from '../../../common/api';
import { lastSampleOf } from '../../../common/lab-contract';
import { referenceClassifierQueries, referenceClassifierSamples } from '../../../common/labs/reference-classifier';
import { api } from '../bridge';
import { STATIC_NOTE, useInteractive } from './interactive';
import { ConfusionMatrix } from './ConfusionMatrix';
import { DrawPad } from './DrawPad';

type Prediction = z.output<typeof referenceClassifierQueries.classify.result>;

export function ReferenceClassifierPanel({ detail }: { detail: RunDetail }) {
  const confusion = lastSampleOf(referenceClassifierSamples, detail.samples, 'confusion');
  const [pred, setPred] = useState<Prediction>();
  const [err, setErr] = useState<string>();
  const canQuery = detail.run.status === 'succeeded';
  const interactive = useInteractive();
  return (
    <div className="panel panel-classifier">
      <div>
        <h3>Confusion matrix (test split)</h3>
        {confusion ? <ConfusionMatrix classes={confusion.classes} matrix={confusion.matrix} /> : <p className="muted">appears when training ends</p>}
      </div>
      {canQuery && (
        <div>
          <h3>Try it: draw a digit</h3>
          {!interactive
            ? <p className="muted static-note" data-testid="static-note">The draw pad is disabled in {STATIC_NOTE}.</p>
            : <DrawPad onDigit={(pixels) => { setErr(undefined); api.query(detail.run.id, 'classify', { pixels }).then((r) => setPred(r as Prediction), (e: Error) => setErr(e.message)); }} />}
          {err && <p className="error">{err}</p>}
          {pred && (
            <div className="prediction" data-testid="prediction">
              <b>{pred.label} · {pred.className}</b>
              {pred.probs.map((p, i) => <div key={i} className="bar-row"><span>{i}</span><div className="bar" style={{ width: `${(p * 100).toFixed(1)}%` }} /><span className="num">{(p * 100).toFixed(1)}%</span></div>)}
            </div>
          )}
        </div>
      )}
    </div>
  );
}
