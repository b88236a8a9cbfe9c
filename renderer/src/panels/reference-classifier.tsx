import { useState } from 'react';
import type { RunDetail } from '../../../common/api';
import { api } from '../bridge';
import { ConfusionMatrix } from './ConfusionMatrix';
import { DrawPad } from './DrawPad';

interface Prediction { probs: number[]; label: number; className: string }

export function ReferenceClassifierPanel({ detail }: { detail: RunDetail }) {
  const confusion = detail.samples.filter((s) => s.kind === 'confusion').at(-1)?.data as { classes: string[]; matrix: number[][] } | undefined;
  const [pred, setPred] = useState<Prediction>();
  const [err, setErr] = useState<string>();
  const canQuery = detail.run.status === 'succeeded';
  return (
    <div className="panel panel-classifier">
      <div>
        <h3>Confusion matrix (test split)</h3>
        {confusion ? <ConfusionMatrix classes={confusion.classes} matrix={confusion.matrix} /> : <p className="muted">appears when training ends</p>}
      </div>
      {canQuery && (
        <div>
          <h3>Try it: draw a digit</h3>
          <DrawPad onDigit={(pixels) => { setErr(undefined); api.query(detail.run.id, 'classify', { pixels }).then((r) => setPred(r as Prediction), (e: Error) => setErr(e.message)); }} />
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
