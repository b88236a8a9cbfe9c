// Live run state for the renderer: the runs list and one run's detail, kept current by
// the host's pushed updates.
import { useEffect, useRef, useState } from 'react';
import type { RunDetail, RunRecord, RunUpdate } from '../../common/api';
import { api, onConnectionChange } from './bridge';

let hostInfo: ReturnType<typeof api.hostInfo> | undefined;
/** What serves the app (asked once): the desktop window can open folders, the browser host cannot; either may send sweeps to a queue. */
export function useHostInfo(): Awaited<ReturnType<typeof api.hostInfo>> | undefined {
  const [info, setInfo] = useState<Awaited<ReturnType<typeof api.hostInfo>>>();
  useEffect(() => { (hostInfo ??= api.hostInfo()).then(setInfo, () => {}); }, []);
  return info;
}
export const useHostKind = (): 'electron' | 'web' | undefined => useHostInfo()?.host;

export function useRuns(lab?: string): [RunRecord[], () => void] {
  const [runs, setRuns] = useState<RunRecord[]>([]);
  // No argument for every lab (the WebSocket bridge would send undefined as null).
  const reload = () => { (lab ? api.listRuns(lab) : api.listRuns()).then(setRuns).catch(() => {}); };
  useEffect(() => {
    reload();
    const offConnection = onConnectionChange((connected) => { if (connected) reload(); }); // what changed while away
    const offUpdates = api.onRunUpdate((u) => {
      if (!u.run) return;
      const run = u.run;
      if (lab && run.lab !== lab) return;
      setRuns((rs) => (rs.some((r) => r.id === run.id) ? rs.map((r) => (r.id === run.id ? run : r)) : [run, ...rs]));
    });
    return () => { offConnection(); offUpdates(); };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [lab]);
  return [runs, reload];
}

function applyUpdate(d: RunDetail, u: RunUpdate): RunDetail {
  const metrics = { ...d.metrics };
  const samples = [...d.samples];
  const logs = [...d.logs];
  const artifacts = [...d.artifacts];
  let run = u.run ?? d.run;
  for (const e of u.events) {
    if (e.type === 'metric') metrics[e.name] = [...(metrics[e.name] ?? []), { step: e.step, value: e.value }];
    else if (e.type === 'sample') samples.push({ seq: e.seq, kind: e.kind, data: e.data });
    else if (e.type === 'log') logs.push({ seq: e.seq, level: e.level, message: e.message, at: e.at });
    else if (e.type === 'artifact') artifacts.push({ name: e.name, mime: e.mime, path: e.path });
    else if (e.type === 'progress') run = { ...run, progress: { phase: e.phase, done: e.done, total: e.total, step: e.step, steps: e.steps } };
  }
  const lastSeq = Math.max(d.lastSeq, ...u.events.map((e) => e.seq));
  return { run, metrics, samples, logs, artifacts, lastSeq };
}

/** A run's full detail, fetched once and then extended by live events. */
export function useRunDetail(runId: string | undefined): RunDetail | undefined {
  const [detail, setDetail] = useState<RunDetail>();
  const buffered = useRef<RunUpdate[]>([]);
  useEffect(() => {
    setDetail(undefined);
    if (!runId) return;
    let loaded = false;
    buffered.current = [];
    const off = api.onRunUpdate((u) => {
      if (u.runId !== runId) return;
      if (!loaded) { buffered.current.push(u); return; }
      // Another process's run (a CLI run): its events are in the store, so read them from there.
      if (u.external) { api.getRun(runId).then((d) => { if (d) setDetail(d); }).catch(() => {}); return; }
      setDetail((d) => (d ? applyUpdate(d, u) : d));
    });
    api.getRun(runId).then((d) => {
      loaded = true;
      if (!d) return;
      // Events that arrived while fetching and are newer than the fetched detail.
      let merged = d;
      for (const u of buffered.current) merged = applyUpdate(merged, { ...u, events: u.events.filter((e) => e.seq > d.lastSeq) });
      setDetail(merged);
    }).catch(() => {});
    return off;
  }, [runId]);
  return detail;
}
