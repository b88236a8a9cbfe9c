// The entry inlined into `benchtop report` HTML files: the run's data and its lab's
// description are in the page, drawn with the app's own run page (headline, every metric
// grouped, the lab's panel with its samples and heatmaps, curves), its query widgets disabled.
import './report-api'; // first: the panels' bridge must find the report's host-less API
import { createRoot } from 'react-dom/client';
import type { LabInfo, RunDetail } from '../../common/api';
import { parseJson } from '../../common/json';
import { RunView } from './components/RunView';
import './styles.css';

export interface ReportData { detail: RunDetail; lab?: LabInfo }

const when = (t: number | null) => (t ? new Date(t).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '—');

function KeyValues({ rows }: { rows: [string, unknown][] }) {
  return (
    <div className="table-scroll"><table className="diff-table kv-table"><tbody>
      {rows.map(([k, v]) => <tr key={k}><th>{k}</th><td className="mono">{typeof v === 'string' ? v : JSON.stringify(v)}</td></tr>)}
    </tbody></table></div>
  );
}

function Report({ detail, lab }: ReportData) {
  const r = detail.run;
  const p = r.provenance;
  return (
    <main className="lab-page report" data-testid="report">
      <h1>{lab?.title ?? r.lab} <span className="muted">· {r.name ?? r.id}</span></h1>
      {lab && <p className="muted">{lab.paper.title}{lab.paper.arxiv !== '—' && <> · arXiv {lab.paper.arxiv}</>}</p>}
      <p className="small">run <span className="mono">{r.id}</span> · preset {r.preset} · seed {r.seed} · started {when(r.startedAt)} · finished {when(r.finishedAt)}
        {r.tags.length > 0 && <> · tags {r.tags.join(', ')}</>}</p>
      {r.note && <p className="run-note-full">{r.note}</p>}
      {r.error && <p className="error">{r.error}</p>}
      <RunView detail={detail} lab={lab} report />
      <h2>Params</h2>
      <KeyValues rows={Object.entries(r.params)} />
      <h2>Provenance</h2>
      {p ? (
        <KeyValues rows={[
          ['commit', p.gitCommit], ['backend', p.backend], ['kernel fixes', p.kernelFixes.join(', ') || 'none'], ['node', p.node], ['platform', p.platform], ['host', r.host],
          ...(p.worker ? [['queue worker', `${p.worker.host} (${p.worker.arch}) from ${p.worker.queue}, attempt ${p.worker.attempt}${p.worker.attempt > 1 ? ' (handed over)' : ''}`] as [string, unknown]] : []),
          ...Object.entries(p.packages).map(([k, v]) => [k, v] as [string, unknown]),
        ]} />
      )
        : <p className="muted">not recorded (the run did not start)</p>}
    </main>
  );
}

const data = parseJson(document.getElementById('benchtop-data')!.textContent!) as ReportData;
createRoot(document.getElementById('root')!).render(<Report detail={data.detail} lab={data.lab} />);
