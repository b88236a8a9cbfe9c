// A lab's runs: sortable by any column, searchable (id, name, tags, note, status, preset, seed,
// host, params), filtered by preset, status and tag, each run renamed, tagged and annotated in
// place, sweeps kept together under a header, reachable from the keyboard (Tab to a row,
// Enter opens it), and deletable after a confirmation (the run's store rows and its folder).
import { useMemo, useState } from 'react';
import { formatMetric, type MetricUnit } from '../../../common/metrics';
import type { RunAnnotation, RunRecord } from '../../../common/api';

/** "Dec 2, 08:01:38", with the year when it is not this year's. */
const fmtWhen = (t: number | null) => {
  if (!t) return '—';
  const d = new Date(t);
  return d.toLocaleString(undefined, { ...(d.getFullYear() !== new Date().getFullYear() ? { year: 'numeric' } : {}), month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
};
const durationMs = (r: RunRecord) => (r.startedAt ? (r.finishedAt ?? Date.now()) - r.startedAt : undefined);
const fmtDur = (r: RunRecord) => { const ms = durationMs(r); return ms === undefined ? '—' : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`; };
const FINISHED = new Set(['succeeded', 'failed', 'cancelled', 'interrupted']);

type Column = 'id' | 'status' | 'preset' | 'seed' | 'where' | 'started' | 'took' | 'headline';
const COLUMNS = 11;

/** Name, tags and note of one run, edited in a row under it. */
function RunEditor({ run, onSave, onClose }: { run: RunRecord; onSave: (c: RunAnnotation) => Promise<void>; onClose: () => void }) {
  const [name, setName] = useState(run.name ?? '');
  const [tags, setTags] = useState(run.tags.join(', '));
  const [note, setNote] = useState(run.note);
  const [error, setError] = useState<string>();
  const save = async () => {
    setError(undefined);
    try { await onSave({ name: name.trim() || null, tags: tags.split(',').map((t) => t.trim()).filter(Boolean), note }); onClose(); } catch (e) { setError((e as Error).message); }
  };
  return (
    <tr className="run-editor" onClick={(e) => e.stopPropagation()}>
      <td colSpan={COLUMNS}><div className="editor-body">
        <label className="field"><span className="field-name">name</span><input value={name} onChange={(e) => setName(e.target.value)} placeholder={run.id} data-testid="edit-name" maxLength={120} /></label>
        <label className="field"><span className="field-name">tags (comma-separated)</span><input value={tags} onChange={(e) => setTags(e.target.value)} data-testid="edit-tags" /></label>
        <label className="field note"><span className="field-name">note</span><textarea value={note} onChange={(e) => setNote(e.target.value)} rows={2} data-testid="edit-note" maxLength={4000} /></label>
        <span className="editor-actions"><button className="primary" onClick={() => void save()} data-testid="edit-save">Save</button> <button onClick={onClose}>Cancel</button></span>
        {error && <span className="error" role="alert">{error}</span>}
      </div></td>
    </tr>
  );
}

export function RunsTable({ runs, selected, active, onOpen, onToggle, onSelectMany, onCompare, onDelete, onAnnotate, headline, labs }: {
  runs: RunRecord[]; selected: Set<string>; active?: string; headline?: { lab: string; name: string; label: string; unit: MetricUnit };
  /** Given when the table lists every lab's runs: a lab column and a lab filter appear. */
  labs?: readonly { id: string; title: string }[];
  onOpen: (id: string) => void; onToggle: (id: string) => void; onSelectMany: (ids: string[]) => void; onCompare: (ids: string[]) => void;
  onDelete: (id: string) => Promise<void>; onAnnotate: (id: string, change: RunAnnotation) => Promise<void>;
}) {
  const [sort, setSort] = useState<{ by: Column; desc: boolean }>({ by: 'started', desc: true });
  const [query, setQuery] = useState('');
  const [filter, setFilter] = useState<{ lab: string; preset: string; status: string; tag: string }>({ lab: '', preset: '', status: '', tag: '' });
  const [deleting, setDeleting] = useState<string>();
  const [editing, setEditing] = useState<string>();
  const [error, setError] = useState<string>();
  const key = (r: RunRecord, c: Column): string | number => {
    switch (c) {
      case 'started': return r.startedAt ?? r.createdAt;
      case 'took': return durationMs(r) ?? -1;
      case 'seed': return r.seed;
      case 'where': return `${r.backend?.name ?? ''} ${r.host}`;
      case 'headline': return headline && r.lab === headline.lab ? (r.summary?.metrics[headline.name] ?? -Infinity) : -Infinity;
      case 'id': return r.name ?? r.id;
      default: return r[c];
    }
  };
  const statuses = useMemo(() => [...new Set(runs.map((r) => r.status))].sort(), [runs]);
  const tags = useMemo(() => [...new Set(runs.flatMap((r) => r.tags))].sort(), [runs]);
  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    const match = (r: RunRecord) => (!q || [r.id, r.name ?? '', r.note, r.tags.join(' '), r.status, r.preset, String(r.seed), r.host, JSON.stringify(r.params)].some((s) => s.toLowerCase().includes(q)))
      && (!labs || !filter.lab || r.lab === filter.lab) && (!filter.preset || r.preset === filter.preset) && (!filter.status || r.status === filter.status) && (!filter.tag || r.tags.includes(filter.tag));
    const sorted = runs.filter(match);
    sorted.sort((a, b) => { const x = key(a, sort.by), y = key(b, sort.by); return (x < y ? -1 : x > y ? 1 : 0) * (sort.desc ? -1 : 1); });
    // A sweep's runs stay together, at the place of its first run in the sorted order.
    const out: (RunRecord | { sweep: string; members: RunRecord[] })[] = [];
    const emitted = new Set<string>();
    for (const r of sorted) {
      if (!r.sweep) { out.push(r); continue; }
      if (emitted.has(r.sweep.id)) continue;
      emitted.add(r.sweep.id);
      const members = sorted.filter((m) => m.sweep?.id === r.sweep!.id);
      out.push({ sweep: r.sweep.id, members }, ...members);
    }
    return out;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runs, query, filter, sort, headline?.name, labs]);
  if (!runs.length) return <p className="muted">No runs yet.</p>;
  const count = shown.filter((r) => 'id' in r).length;
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
  const select = (name: keyof typeof filter, options: string[], label: string) => (
    <select value={filter[name]} onChange={(e) => setFilter((f) => ({ ...f, [name]: e.target.value }))} aria-label={`filter by ${label}`} data-testid={`filter-${name}`}>
      <option value="">any {label}</option>{options.map((o) => <option key={o} value={o}>{o}</option>)}
    </select>
  );
  return (
    <div>
      <div className="runs-tools">
        <input type="search" placeholder="search runs (name, tag, note, status, seed, params)" value={query} onChange={(e) => setQuery(e.target.value)} data-testid="runs-search" aria-label="search runs" />
        {labs && select('lab', labs.map((l) => l.id), 'lab')}{select('preset', ['smoke', 'default', 'paper'], 'preset')}{select('status', statuses, 'status')}{tags.length > 0 && select('tag', tags, 'tag')}
        <span className="muted small">{count} of {runs.length}</span>
        {error && <span className="error" role="alert">{error}</span>}
      </div>
      <div className="table-scroll">
        <table className="runs-table" data-testid="runs-table">
          <thead>
            <tr>
              <th />{th('id', 'run')}{th('status', 'status')}{th('preset', 'preset')}{th('seed', 'seed')}<th>tags</th>{th('where', 'backend · host', 'the compute backend, and the process that ran it (app, cli)')}
              {th('started', 'started')}{th('took', 'took')}{headline ? th('headline', headline.label, headline.name) : <th />}<th />
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => {
              if (!('id' in r)) {
                const done = r.members.filter((m) => FINISHED.has(m.status)).length;
                const { param, values, seeds } = r.members[0].sweep!;
                return (
                  <tr key={r.sweep} className="sweep-row" data-testid="sweep-row">
                    <td colSpan={COLUMNS}>
                      sweep of <b>{param}</b> = {values.map((v) => JSON.stringify(v)).join(', ')} × seeds {seeds.join(', ')} · {done} of {r.members.length} finished{' '}
                      <button className="link" onClick={() => onSelectMany(r.members.map((m) => m.id))}>select</button>{' '}
                      <button className="link" onClick={() => onCompare(r.members.map((m) => m.id))} data-testid="sweep-compare">compare</button>
                    </td>
                  </tr>
                );
              }
              return [
                <tr key={r.id} className={`${r.id === active ? 'active' : ''}${r.sweep ? ' in-sweep' : ''}`} data-status={r.status} tabIndex={0} onClick={() => onOpen(r.id)}
                  onKeyDown={(e) => { if (e.key === 'Enter' && e.target === e.currentTarget) onOpen(r.id); }}>
                  <td><input type="checkbox" aria-label={`select ${r.id}`} checked={selected.has(r.id)} onClick={(e) => e.stopPropagation()} onChange={() => onToggle(r.id)} /></td>
                  <td>{labs && <span className="lab-chip">{r.lab}</span>}{r.name ? <><b>{r.name}</b> <span className="mono muted">{r.id}</span></> : <span className="mono">{r.id}</span>}
                    {r.sweep && <span className="muted small"> {r.sweep.param}={JSON.stringify(r.params[r.sweep.param])}</span>}
                    {r.note && <div className="muted small run-note" title={r.note}>{r.note}</div>}</td>
                  <td><span className={`status status-${r.status}`}>{r.status}</span></td>
                  <td>{r.preset}</td><td>{r.seed}</td>
                  <td>{r.tags.map((t) => <span key={t} className="tag">{t}</span>)}</td>
                  <td>{r.backend?.name ?? '—'} · {r.host}</td>
                  <td>{fmtWhen(r.startedAt ?? r.createdAt)}</td><td>{fmtDur(r)}</td>
                  <td className="num">{headline && r.lab === headline.lab ? formatMetric(r.summary?.metrics[headline.name], headline.unit) : ''}</td>
                  <td onClick={(e) => e.stopPropagation()} className="row-actions">
                    {deleting === r.id
                      ? (
                        <span className="confirm-delete">
                          delete this run and its folder? <button onClick={() => void confirmDelete(r.id)} data-testid="delete-yes">Delete</button>{' '}
                          <button onClick={() => setDeleting(undefined)}>Keep</button>
                        </span>
                      )
                      : <>
                        <button className="link" onClick={() => setEditing(editing === r.id ? undefined : r.id)} aria-label={`rename, tag or annotate ${r.id}`} data-testid="edit">edit</button>{' '}
                        <button className="link" onClick={() => setDeleting(r.id)} aria-label={`delete ${r.id}`} data-testid="delete">delete</button>
                      </>}
                  </td>
                </tr>,
                editing === r.id && <RunEditor key={`${r.id}-edit`} run={r} onSave={(c) => onAnnotate(r.id, c)} onClose={() => setEditing(undefined)} />,
              ];
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
