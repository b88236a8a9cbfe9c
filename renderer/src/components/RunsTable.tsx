import { formatMetric, type MetricUnit } from '../../../common/metrics';
import type { RunRecord } from '../../../common/api';

const fmtTime = (t: number | null) => (t ? new Date(t).toLocaleTimeString() : '—');
const fmtDur = (r: RunRecord) => (r.startedAt ? `${(((r.finishedAt ?? Date.now()) - r.startedAt) / 1000).toFixed(1)} s` : '—');

export function RunsTable({ runs, selected, active, onOpen, onToggle, headline }: {
  runs: RunRecord[]; selected: Set<string>; active?: string; headline?: { name: string; label: string; unit: MetricUnit };
  onOpen: (id: string) => void; onToggle: (id: string) => void;
}) {
  if (!runs.length) return <p className="muted">No runs yet.</p>;
  return (
    <table className="runs-table" data-testid="runs-table">
      <thead><tr><th /><th>run</th><th>status</th><th>preset</th><th>seed</th><th>backend</th><th>host</th><th>started</th><th>took</th>{headline && <th title={headline.name}>{headline.label}</th>}</tr></thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.id} className={r.id === active ? 'active' : ''} data-status={r.status} onClick={() => onOpen(r.id)}>
            <td><input type="checkbox" aria-label={`select ${r.id}`} checked={selected.has(r.id)} onClick={(e) => e.stopPropagation()} onChange={() => onToggle(r.id)} /></td>
            <td className="mono">{r.id}</td>
            <td><span className={`status status-${r.status}`}>{r.status}</span></td>
            <td>{r.preset}</td><td>{r.seed}</td><td>{r.backend?.name ?? '—'}</td><td>{r.host}</td>
            <td>{fmtTime(r.startedAt ?? r.createdAt)}</td><td>{fmtDur(r)}</td>
            {headline && <td className="num">{formatMetric(r.summary?.metrics[headline.name], headline.unit)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
