// CSV / JSON export of runs, done in the renderer from data it already holds.
import type { RunDetail } from '../../../common/api';

export function runsToCsv(details: RunDetail[]): string {
  const rows = ['run_id,lab,preset,seed,metric,step,value'];
  for (const d of details) for (const [name, pts] of Object.entries(d.metrics)) for (const p of pts) {
    rows.push([d.run.id, d.run.lab, d.run.preset, d.run.seed, JSON.stringify(name), p.step, p.value].join(','));
  }
  return rows.join('\n') + '\n';
}

export function runsToJson(details: RunDetail[]): string {
  return JSON.stringify(details.map((d) => ({ run: d.run, metrics: d.metrics, samples: d.samples, artifacts: d.artifacts })), null, 2);
}

export function download(name: string, text: string, mime: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = document.createElement('a');
  a.href = url; a.download = name; a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
