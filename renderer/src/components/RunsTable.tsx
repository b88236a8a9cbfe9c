// A lab's runs: sortable by any column, searchable (id, status, preset, seed, host, params),
// reachable from the keyboard (Tab to a row, Enter opens it), and deletable after a
// confirmation (the run's store rows and its folder; a running run must be cancelled first).
import { useMemo, useState } from 'react';
import { formatMetric, type MetricUnit } from '../../../common/metrics';
import type { RunRecord } from '../../../common/api';

const fmtWhen = (t: number | null) => (t ? new Date(t).toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '—');
const durationMs = (r: RunRecord) => (r.startedAt ? (r.finishedAt ?? Date.now()) - r.startedAt : undefined);
const fmtDur = (r: RunRecord) => { const ms = durationMs(r); return ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`; };

type Column = 'id' | 'status' | 'preset' | 'seed' | 'backend' | 'host' | 'started' | 'took' | 'headline';

export function RunsTable({ runs, selected, active, onOpen, onToggle, onDelete, headline }: {
  runs: RunRecord[]; selected: Set<string>; active?: string; headline?: { name: string; label: string; unit: MetricUnit };
  onOpen: (id: string) => void; onToggle: (id: string) => void; onDelete: (id: string) => Promise<void>;
}) {
  const [sort, setSort] = useState<{ by: Column; desc: boolean }>({ by: 'started', desc: true });
  const [query, setQuery] = useState('');
  const [deleting, setDeleting] = useState<string>();
  const [error, setError] = useState<string>();
  const key = (r: RunRecord, c: Column): string | number => {
    switch (c) {
      case 'started': return r.startedAt ?? r.createdAt;
      case 'took': return durationMs(r) ?? -1;
      case 'seed': return r.seed;
      case 'backend': return r.backend?.name ?? '';
      case 'headline': return headline ? (r.summary?.metrics[headline.name] ?? -Infinity) : 0;
      default: return r[c];
    }
  };
  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    const match = (r: RunRecord) => !q || [r.id, r.status, r.preset, String(r.seed), r.host, JSON.stringify(r.params)].some((s) => s.toLowerCase().includes(q));
    const out = runs.filter(match);
    out.sort((a, b) => { const x = key(a, sort.by), y = key(b, sort.by); return (x < y ? -1 : x > y ? 1 : 0) * (sort.desc ? -1 : 1); });
    return out;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runs, query, sort, headline?.name]);
  if (!runs.length) return <p className="muted">No runs yet.</p>;
  const th = (c: Column, label: string, title?: string) => (
    <th title={title} aria-sort={sort.by === c ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
      <button className="sort" onClick={() => setSort((s) => ({ by: c, desc: s.by === c ? !s.desc : c === 'started' }))} data-testid={`sort-${c}`}>
        {label}{sort.by === c ? (sort.desc ? ' ▾' : ' ▴') : ''}
      </button>
    </th>
  );
  const confirmDelete = async (id: string) => {
    setError(undefined);
    try { await onDelete(id); setDeleting(undefined); } catch (e) { setError((e as Error).message); }
  };
  return (
    <div>
      <div className="runs-tools">
        <input type="search" placeholder="search runs (id, status, preset, seed, params)" value={query} onChange={(e) => setQuery(e.target.value)} data-testid="runs-search" aria-label="search runs" />
        <span className="muted small">{shown.length} of {runs.length}</span>
        {error && <span className="error" role="alert">{error}</span>}
      </div>
      <table className="runs-table" data-testid="runs-table">
        <thead>
          <tr>
            <th />{th('id', 'run')}{th('status', 'status')}{th('preset', 'preset')}{th('seed', 'seed')}{th('backend', 'backend')}{th('host', 'host')}
            {th('started', 'started')}{th('took', 'took')}{headline && th('headline', headline.label, headline.name)}<th />
          </tr>
        </thead>
        <tbody>
          {shown.map((r) => (
            <tr key={r.id} className={r.id === active ? 'active' : ''} data-status={r.status} tabIndex={0} onClick={() => onOpen(r.id)}
              onKeyDown={(e) => { if (e.key === 'Enter' && e.target === e.currentTarget) onOpen(r.id); }}>
              <td><input type="checkbox" aria-label={`select ${r.id}`} checked={selected.has(r.id)} onClick={(e) => e.stopPropagation()} onChange={() => onToggle(r.id)} /></td>
              <td className="mono">{r.id}</td>
              <td><span className={`status status-${r.status}`}>{r.status}</span></td>
              <td>{r.preset}</td><td>{r.seed}</td><td>{r.backend?.name ?? '—'}</td><td>{r.host}</td>
              <td>{fmtWhen(r.startedAt ?? r.createdAt)}</td><td>{fmtDur(r)}</td>
              {headline && <td className="num">{formatMetric(r.summary?.metrics[headline.name], headline.unit)}</td>}
              <td onClick={(e) => e.stopPropagation()}>
                {deleting === r.id
                  ? (
                    <span className="confirm-delete">
                      delete this run and its folder? <button onClick={() => void confirmDelete(r.id)} data-testid="delete-yes">Delete</button>{' '}
                      <button onClick={() => setDeleting(undefined)}>Keep</button>
                    </span>
                  )
                  : <button className="link" onClick={() => setDeleting(r.id)} aria-label={`delete ${r.id}`} data-testid="delete">delete</button>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
