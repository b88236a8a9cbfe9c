// A run's status and progress: the phase's place in the run's plan, the phase's own bar,
// the time elapsed and, while a phase runs, an estimate of its time left from the rate
// measured since this view first saw the phase.
import { useEffect, useRef, useState } from 'react';
import type { RunDetail } from '../../../common/api';

export const formatDuration = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s` : `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
};

/** Seconds left in the current phase from its measured rate, once the phase has moved. */
function usePhaseEta(phase: string | undefined, done: number, total: number): number | undefined {
  const first = useRef<{ phase?: string; at: number; done: number }>({ at: 0, done: 0 });
  if (first.current.phase !== phase) first.current = { phase, at: Date.now(), done };
  const { at, done: done0 } = first.current;
  const elapsed = Date.now() - at;
  if (!phase || done <= done0 || elapsed < 1000 || total <= done) return undefined;
  return ((total - done) * elapsed) / (done - done0);
}

export function Progress({ detail }: { detail: RunDetail }) {
  const { run } = detail;
  const p = run.progress;
  const live = run.status === 'running' || run.status === 'queued';
  const frac = p && p.total > 0 ? p.done / p.total : 0;
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [live]);
  const eta = usePhaseEta(live ? p?.phase : undefined, p?.done ?? 0, p?.total ?? 0);
  const elapsed = run.startedAt ? (run.finishedAt ?? now) - run.startedAt : undefined;
  return (
    <div className="progress" data-testid="progress">
      <div className="progress-label">
        <span className={`status status-${run.status}`}>{run.status}</span>
        {p && <span>{p.step ? <span className="muted">phase {p.step} of {p.steps} · </span> : null}{p.phase}: {p.done}/{p.total}</span>}
        {elapsed !== undefined && <span className="muted" data-testid="elapsed">{live ? 'elapsed' : 'took'} {formatDuration(elapsed)}{eta !== undefined ? ` · about ${formatDuration(eta)} left in this phase` : ''}</span>}
        {run.backend && <span className="muted">backend {run.backend.name}{run.params.inference === 'onnxruntime' ? ' · inference on onnxruntime' : ''}</span>}
      </div>
      {live && <div className="progress-track"><div className="progress-fill" style={{ width: `${(frac * 100).toFixed(1)}%` }} /></div>}
      {run.error && <pre className="error">{run.error.split('\n').slice(0, 4).join('\n')}</pre>}
    </div>
  );
}
