// One run: progress, live charts of every metric, summary, logs, and the lab's own panel.
import type { RunDetail } from '../../../common/api';
import { MetricChart } from '../charts/MetricChart';
import { PANELS } from '../panels';
import { formatNumber } from '../format';
import { ErrorBoundary } from './ErrorBoundary';

export function Progress({ detail }: { detail: RunDetail }) {
  const p = detail.run.progress;
  const live = detail.run.status === 'running' || detail.run.status === 'queued';
  const frac = p && p.total > 0 ? p.done / p.total : 0;
  return (
    <div className="progress" data-testid="progress">
      <div className="progress-label">
        <span className={`status status-${detail.run.status}`}>{detail.run.status}</span>
        {p && <span>{p.phase}: {p.done}/{p.total}</span>}
        {detail.run.backend && <span className="muted">backend {detail.run.backend.name}</span>}
      </div>
      {live && <div className="progress-track"><div className="progress-fill" style={{ width: `${(frac * 100).toFixed(1)}%` }} /></div>}
      {detail.run.error && <pre className="error">{detail.run.error.split('\n').slice(0, 4).join('\n')}</pre>}
    </div>
  );
}

export function RunView({ detail }: { detail: RunDetail }) {
  const Panel = PANELS[detail.run.lab];
  const s = detail.run.summary;
  return (
    <div className="run-view">
      <Progress detail={detail} />
      {s && (
        <div className="summary" data-testid="summary">
          {Object.entries(s.metrics).map(([k, v]) => <div key={k} className="kv"><span>{k}</span><b>{formatNumber(v)}</b></div>)}
          {Object.entries(s.checks).map(([k, v]) => <div key={k} className={`kv check-${v ? 'pass' : 'fail'}`}><span>{k}</span><b>{v ? 'pass' : 'fail'}</b></div>)}
        </div>
      )}
      {Panel && <ErrorBoundary what={`${detail.run.lab} panel`} resetKey={detail.run.id}><Panel detail={detail} /></ErrorBoundary>}
      <div className="charts">
        {Object.entries(detail.metrics).filter(([, pts]) => pts.length > 1).map(([name, pts]) => (
          <ErrorBoundary key={name} what={`chart ${name}`} resetKey={detail.run.id}><MetricChart title={name} series={[{ label: detail.run.id, points: pts }]} /></ErrorBoundary>
        ))}
      </div>
      {detail.logs.length > 0 && (
        <details className="logs"><summary>log ({detail.logs.length})</summary>
          <pre>{detail.logs.slice(-200).map((l) => `${l.level}: ${l.message}`).join('\n')}</pre>
        </details>
      )}
    </div>
  );
}
