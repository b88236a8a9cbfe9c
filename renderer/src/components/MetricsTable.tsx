// Every final metric of a run as a table: grouped by the name's first word, searchable by
// name or label, each value in its unit (counts as integers, fractions as percents).
import { useState } from 'react';
import { formatMetric, metricGroups, metricLabel, metricUnit, type MetricInfo } from '../../../common/metrics';

export function MetricsTable({ metrics, info }: { metrics: Record<string, number | null>; info?: Record<string, MetricInfo> }) {
  const [query, setQuery] = useState('');
  const q = query.trim().toLowerCase();
  const names = Object.keys(metrics).filter((n) => !q || n.toLowerCase().includes(q) || metricLabel(n, info).toLowerCase().includes(q));
  return (
    <div className="metrics-table" data-testid="metrics-table">
      <input type="search" placeholder="filter metrics" value={query} onChange={(e) => setQuery(e.target.value)} aria-label="filter metrics" data-testid="metrics-search" />
      <span className="muted small"> {names.length} of {Object.keys(metrics).length}</span>
      <div className="table-scroll">
        <table className="diff-table">
          <thead><tr><th>metric</th><th className="num">value</th><th>name in the store</th></tr></thead>
          {metricGroups(names).map(([group, members]) => (
            <tbody key={group}>
              <tr className="group-row"><th colSpan={3}>{group} <span className="muted small">({members.length})</span></th></tr>
              {members.map((n) => (
                <tr key={n}><td>{metricLabel(n, info)}</td><td className="num">{formatMetric(metrics[n], metricUnit(n, info))}</td><td className="mono muted">{n}</td></tr>
              ))}
            </tbody>
          ))}
        </table>
      </div>
    </div>
  );
}
