// One run: progress, live charts of every metric, summary, logs, and the lab's own panel.
import { useState } from 'react';
import type { LabInfo, RunDetail } from '../../../common/api';
import { api } from '../bridge';
import { axisUnitLabel, formatMetric, metricLabel, metricUnit } from '../../../common/metrics';
import { MetricChart } from '../charts/MetricChart';
import { PANELS } from '../panels';
import { PanelInteractive } from '../panels/interactive';
import { Progress } from './Progress';
import { ErrorBoundary } from './ErrorBoundary';
import { MetricsTable } from './MetricsTable';
import { ExportButton } from './RunArchive';
import { useHostKind } from '../state';

/** The run's result: its key metrics by name and unit, its checks (marked where a check is not meant for this preset), every metric on request. */
export function Summary({ detail, lab }: { detail: RunDetail; lab?: LabInfo }) {
  const s = detail.run.summary!;
  const info = lab?.metricInfo;
  const keys = (lab?.keyMetrics ?? []).filter((k) => k in s.metrics);
  const metric = (k: string) => <div key={k} className="kv" title={k}><span>{metricLabel(k, info)}</span><b>{formatMetric(s.metrics[k], metricUnit(k, info))}</b></div>;
  const all = Object.keys(s.metrics);
  return (
    <div className="summary" data-testid="summary">
      {(keys.length ? keys : all.slice(0, 6)).map(metric)}
      {Object.entries(s.checks).map(([k, v]) => {
        const meantFor = lab?.checkPresets[k];
        const applies = !meantFor || meantFor.includes(detail.run.preset);
        return (
          <div key={k} className={`kv check-${applies ? (v ? 'pass' : 'fail') : 'na'}`} title={applies ? undefined : `this check is meant for the ${meantFor!.join(' and ')} preset${meantFor!.length > 1 ? 's' : ''}`}>
            <span>{k}</span><b>{applies ? (v ? 'pass' : 'fail') : `not judged on ${detail.run.preset}`}</b>
          </div>
        );
      })}
      {all.length > keys.length && (
        <details className="all-metrics"><summary>all {all.length} metrics</summary><MetricsTable metrics={s.metrics} info={info} /></details>
      )}
    </div>
  );
}

/** Where the run's files are, and its HTML report written there on request. */
function RunFiles({ detail }: { detail: RunDetail }) {
  const [report, setReport] = useState<{ path?: string; error?: string }>();
  const [copied, setCopied] = useState(false);
  const host = useHostKind();
  const finished = !['running', 'queued'].includes(detail.run.status);
  const write = () => { setReport(undefined); api.writeReport(detail.run.id).then(({ path }) => setReport({ path }), (e: Error) => setReport({ error: e.message })); };
  return (
    <div className="run-files small" data-testid="run-files">
      <span className="muted">run folder</span> <code>{detail.run.runDir}</code>
      {host === 'electron'
        ? <button onClick={() => { setReport(undefined); api.openRunFolder(detail.run.id).catch((e: Error) => setReport({ error: e.message })); }} data-testid="open-folder">Open folder</button>
        : (
          <button onClick={() => { void navigator.clipboard?.writeText(detail.run.runDir).then(() => setCopied(true), () => setCopied(false)); }}
            title="the browser cannot open a folder on this machine: copy its path" data-testid="copy-folder">{copied ? 'Copied' : 'Copy path'}</button>
        )}
      <button onClick={write} disabled={!finished} data-testid="report">Report</button>
      <ExportButton run={detail.run} />
      {report?.path && <span data-testid="report-path">written to <code>{report.path}</code> (one self-contained HTML file)</span>}
      {report?.error && <span className="error" role="alert">{report.error}</span>}
    </div>
  );
}

/** The run page; `report` draws it for a static HTML report (no host: no Report button, query widgets disabled). */
export function RunView({ detail, lab, report = false }: { detail: RunDetail; lab?: LabInfo; report?: boolean }) {
  const Panel = PANELS[detail.run.lab];
  return (
    <div className="run-view">
      <Progress detail={detail} />
      {!report && <RunFiles detail={detail} />}
      {detail.run.summary && <Summary detail={detail} lab={lab} />}
      {Panel && (
        <ErrorBoundary what={`${detail.run.lab} panel`} resetKey={detail.run.id}>
          <PanelInteractive.Provider value={!report}><Panel detail={detail} /></PanelInteractive.Provider>
        </ErrorBoundary>
      )}
      <div className="charts">
        {Object.entries(detail.metrics).filter(([, pts]) => pts.length > 1).map(([name, pts]) => (
          <ErrorBoundary key={name} what={`chart ${name}`} resetKey={detail.run.id}>
            <MetricChart metric={name} title={metricLabel(name, lab?.metricInfo)} yLabel={axisUnitLabel(metricUnit(name, lab?.metricInfo))} series={[{ label: detail.run.id, points: pts }]} />
          </ErrorBoundary>
        ))}
      </div>
      {detail.logs.length > 0 && (
        <details className="logs"><summary>log ({detail.logs.length})</summary>
          <pre>{detail.logs.slice(-200).map((l) => `${new Date(l.at).toLocaleTimeString()} ${l.level}: ${l.message}`).join('\n')}</pre>
        </details>
      )}
    </div>
  );
}
