// The entry inlined into `benchtop report` HTML files: the run's data is in the page,
// drawn with the app's own components.
import { parseJson } from '../../common/json';
import { createRoot } from 'react-dom/client';
import type { RunDetail } from '../../common/api';
import { MetricChart } from './charts/MetricChart';
import { Progress } from './components/Progress';
import './styles.css';

function Report({ detail }: { detail: RunDetail }) {
  const s = detail.run.summary;
  return (
    <main className="lab-page report">
      <h1>{detail.run.lab} <span className="mono muted">{detail.run.id}</span></h1>
      <Progress detail={detail} />
      <p className="muted">preset {detail.run.preset} · seed {detail.run.seed} · commit {detail.run.provenance?.gitCommit ?? '?'}</p>
      {s && <div className="summary">
        {Object.entries(s.metrics).map(([k, v]) => <div key={k} className="kv"><span>{k}</span><b>{Number(v).toPrecision(4)}</b></div>)}
        {Object.entries(s.checks).map(([k, v]) => <div key={k} className={`kv check-${v ? 'pass' : 'fail'}`}><span>{k}</span><b>{v ? 'pass' : 'fail'}</b></div>)}
      </div>}
      <div className="charts">{Object.entries(detail.metrics).map(([name, pts]) => <MetricChart key={name} title={name} series={[{ label: detail.run.id, points: pts }]} />)}</div>
      <h3>Params</h3><pre>{JSON.stringify(detail.run.params, null, 2)}</pre>
    </main>
  );
}

const data = parseJson(document.getElementById('benchtop-data')!.textContent!) as RunDetail;
createRoot(document.getElementById('root')!).render(<Report detail={data} />);
