import { useEffect, useMemo, useState } from 'react';
import type { LabInfo } from '../../common/api';
import { PRESET_NAMES, type PresetName } from '../../common/lab';
import { api, onConnectionChange } from './bridge';
import { formToParams, ParamsForm, presetValues, valuesForPreset } from './components/ParamsForm';
import { SweepForm } from './components/SweepForm';
import { ImportButton } from './components/RunArchive';
import { RunsTable } from './components/RunsTable';
import { RunView } from './components/RunView';
import { CompareView } from './components/CompareView';
import { useRunDetail, useRuns } from './state';
import { ErrorBoundary } from './components/ErrorBoundary';
import { parseRoute, useRoute, type Route } from './route';
import { initialPreset, needsConfirmation, presetCost, rememberConfirmation, rememberPreset } from './components/presetCost';
import { metricLabel, metricUnit } from '../../common/metrics';

function LabPage({ lab, labs, route, navigate }: { lab: LabInfo; labs: LabInfo[]; route: Route; navigate: (r: Route, opts?: { replace?: boolean }) => void }) {
  const [preset, setPreset] = useState<PresetName>(() => initialPreset(lab.id));
  const [seed, setSeed] = useState('1');
  const [values, setValues] = useState(() => presetValues(lab, preset));
  // Fields changed by hand: they keep their value when the preset changes.
  const [edited, setEdited] = useState<Set<string>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string>();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  // The run shown and the comparison live in the URL (route.ts), so Back and links work.
  const active = route.run;
  const comparing = route.compare;
  const setActive = (id: string, opts?: { replace?: boolean }) => navigate({ lab: lab.id, run: id }, opts);
  const setComparing = (ids: string[] | undefined) => navigate(ids ? { lab: lab.id, compare: ids } : { lab: lab.id, run: active });
  // The runs table shows this lab's runs, or every lab's (with a lab column and filter).
  const [allLabs, setAllLabs] = useState(false);
  const [listed, reloadRuns] = useRuns(allLabs ? undefined : lab.id);
  const runs = useMemo(() => listed.filter((r) => r.lab === lab.id), [listed, lab.id]);
  const detail = useRunDetail(active);

  useEffect(() => { setValues((v) => valuesForPreset(lab, preset, v, edited)); rememberPreset(lab.id, preset); setConfirming(false); }, [lab, preset]);
  // Show the newest run when none is named — unless the user has meanwhile gone to another lab
  // (this page's runs can arrive just after a click elsewhere; the URL is the newer truth).
  useEffect(() => {
    if (active || comparing || !runs.length) return;
    const now = parseRoute(location.hash).lab;
    if (!now || now === lab.id) setActive(runs[0].id, { replace: true });
  }, [runs, active, comparing]);

  const cost = presetCost(lab, preset, runs);
  const start = async (confirmed = false) => {
    setError(undefined);
    if (!confirmed && needsConfirmation(lab.id, preset, cost)) { setConfirming(true); return; }
    if (confirmed) rememberConfirmation(lab.id, preset);
    setConfirming(false);
    const form = formToParams(lab, values);
    if ('error' in form) { setError(form.error); return; }
    const s = Number(seed);
    if (!Number.isInteger(s) || s < 0) { setError('seed: must be a whole number ≥ 0'); return; }
    // Send only what differs from the preset, so the run records which preset it used.
    const base = presetValues(lab, preset);
    const overrides = Object.fromEntries(Object.entries(form.params).filter(([k]) => values[k] !== base[k]));
    try { const run = await api.startRun({ lab: lab.id, preset, seed: s, params: overrides }); setActive(run.id); }
    catch (e) { setError((e as Error).message); }
  };
  const live = detail && (detail.run.status === 'running' || detail.run.status === 'queued');
  const lead = lab.keyMetrics[0] ?? lab.metrics[0];
  const headline = lead ? { lab: lab.id, name: lead, label: metricLabel(lead, lab.metricInfo), unit: metricUnit(lead, lab.metricInfo) } : undefined;
  const toggle = (id: string) => setSelected((s) => { const n = new Set(s); n.has(id) ? n.delete(id) : n.add(id); return n; });
  const basePreset = presetValues(lab, preset);
  const overridesShown = Object.fromEntries(Object.entries(values).filter(([k, v]) => v !== basePreset[k]));
  const editedNames = [...edited].filter((k) => values[k] !== basePreset[k]);

  return (
    <main className="lab-page">
      <header className="lab-head">
        <h1>{lab.title}</h1>
        <p className="muted">{lab.paper.title}{lab.paper.arxiv !== '—' && <> · arXiv {lab.paper.arxiv}</>}</p>
        <p>{lab.summary} <span className="muted">Default preset: {lab.defaultTime}.</span></p>
      </header>
      <section className="run-controls">
        <label className="field"><span className="field-name">preset</span>
          <select value={preset} onChange={(e) => setPreset(e.target.value as PresetName)} data-testid="preset">
            {PRESET_NAMES.map((ps) => <option key={ps} value={ps}>{ps} · {presetCost(lab, ps, runs).label}</option>)}
          </select></label>
        <label className="field"><span className="field-name">seed</span><input value={seed} onChange={(e) => setSeed(e.target.value)} data-testid="seed" /></label>
        <button className="primary" onClick={() => void start()} data-testid="run">Run</button>
        <button onClick={() => active && api.cancelRun(active)} disabled={!live} data-testid="cancel">Cancel</button>
        {error && <span className="error" role="alert">{error}</span>}
      </section>
      {confirming && (
        <div className="confirm-run" role="alertdialog" data-testid="confirm-run">
          The {preset} preset takes {cost.measured ? 'about ' : ''}{cost.label}; it runs in the background and can be cancelled.
          <button className="primary" onClick={() => void start(true)} data-testid="confirm-run-yes">Run it</button>
          <button onClick={() => setConfirming(false)}>Not now</button>
          <span className="muted small">(asked once per preset)</span>
        </div>
      )}
      <details className="params">
        <summary>Parameters{editedNames.length > 0 && <span className="muted small"> · {editedNames.length} changed from {preset}: {editedNames.join(', ')} (kept when the preset changes)</span>}</summary>
        <ParamsForm lab={lab} values={values} edited={new Set(editedNames)}
          onChange={(v, field) => { setValues(v); setEdited((e) => new Set(e).add(field)); }}
          onReset={(field) => { setValues((v) => ({ ...v, [field]: basePreset[field] })); setEdited((e) => { const n = new Set(e); n.delete(field); return n; }); }} />
      </details>
      <details className="sweep" data-testid="sweep">
        <summary>Sweep: seeds × one param&apos;s values</summary>
        <SweepForm lab={lab} preset={preset} overrides={overridesShown} cost={cost}
          onStarted={(started) => { setSelected(new Set(started.map((r) => r.id))); reloadRuns(); if (started[0]) setActive(started[0].id); }} />
      </details>
      <ErrorBoundary what={comparing ? 'comparison' : 'run view'} resetKey={comparing ? comparing.join() : active}>
        {comparing ? <CompareView runIds={comparing} lab={lab} onClose={() => setComparing(undefined)} /> : detail && <RunView detail={detail} lab={lab} />}
        {!comparing && active && runs.length > 0 && !runs.some((r) => r.id === active) && (
          <p className="muted" data-testid="no-such-run">Run {active} is not among this lab&apos;s runs (deleted, or from another store).</p>
        )}
      </ErrorBoundary>
      <section>
        <header className="runs-head">
          <h2>Runs</h2>
          <button disabled={selected.size < 2} onClick={() => setComparing([...selected])} data-testid="compare">Compare {selected.size > 1 ? selected.size : ''}</button>
          <label className="small"><input type="checkbox" checked={allLabs} onChange={(e) => setAllLabs(e.target.checked)} data-testid="all-labs" /> every lab&apos;s runs</label>
          <ImportButton onImported={(run) => { reloadRuns(); navigate({ lab: run.lab, run: run.id }); }} />
        </header>
        <ErrorBoundary what="runs table" resetKey={runs}>
          <RunsTable runs={listed} selected={selected} active={active} headline={headline} labs={allLabs ? labs : undefined}
            onOpen={(id) => { const r = listed.find((x) => x.id === id); navigate({ lab: r?.lab ?? lab.id, run: id }); }} onToggle={toggle}
            onSelectMany={(ids) => setSelected(new Set(ids))} onCompare={(ids) => setComparing(ids)}
            onAnnotate={async (id, change) => { await api.annotateRun(id, change); reloadRuns(); }}
            onDelete={async (id) => {
              await api.deleteRun(id);
              setSelected((s) => { const n = new Set(s); n.delete(id); return n; });
              reloadRuns();
              if (id === active) navigate({ lab: lab.id }, { replace: true });
            }} />
        </ErrorBoundary>
      </section>
    </main>
  );
}

export function App() {
  const [labs, setLabs] = useState<LabInfo[]>([]);
  const [fatal, setFatal] = useState<string>();
  const [route, navigate] = useRoute();
  useEffect(() => {
    api.listLabs().then(setLabs, (e: Error) => setFatal(e.message));
  }, []);
  const labId = route.lab && labs.some((l) => l.id === route.lab) ? route.lab : labs[0]?.id;
  const setLabId = (id: string) => navigate({ lab: id });
  const lab = useMemo(() => labs.find((l) => l.id === labId), [labs, labId]);
  const [connected, setConnected] = useState(true);
  useEffect(() => onConnectionChange(setConnected), []);
  return (
    <div className="app">
      {!connected && (
        <div className="connection-lost" role="alert" data-testid="connection-lost">
          Lost the connection to the Benchtop host (is <code>benchtop web</code> still running?); reconnecting every second… Runs keep going in the host.
        </div>
      )}
      <nav className="sidebar">
        <div className="brand">Benchtop</div>
        {labs.map((l) => (
          <button key={l.id} className={l.id === labId ? 'lab-link active' : 'lab-link'} onClick={() => setLabId(l.id)} data-testid={`lab-${l.id}`}>
            <span>{l.title}</span><small>{l.paper.arxiv !== '—' ? `arXiv ${l.paper.arxiv}` : 'foundation'}</small>
          </button>
        ))}
      </nav>
      {fatal ? <main className="lab-page"><p className="error">{fatal}</p></main>
        : lab ? <ErrorBoundary what={`${lab.title} page`} resetKey={lab.id}><LabPage key={lab.id} lab={lab} labs={labs} route={route.lab === lab.id ? route : { lab: lab.id }} navigate={navigate} /></ErrorBoundary>
          : <main className="lab-page muted">loading…</main>}
    </div>
  );
}
