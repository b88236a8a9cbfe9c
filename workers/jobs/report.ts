// A run's report (`benchtop report`, the run page's Report button): one self-contained HTML
// file carrying the run's data and its lab's description, drawn by the app's own run page and
// lab panel (renderer/src/report.tsx; recharts and canvases draw client-side).
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunDetail } from '../../common/api';
import { stringifyJson } from '../../common/json';
import { builtFile, writeFileAtomic } from '../runtime/paths';
import { labInfos } from './api-handlers';

/** Where a run's report is written unless asked otherwise: report.html in its folder. */
export const reportPath = (detail: RunDetail) => join(detail.run.runDir, 'report.html');

export function writeReport(detail: RunDetail, output: string): void {
  const bundle = builtFile('report/report.js');
  // JSON inside <script> must not close the tag early.
  const data = stringifyJson({ detail, lab: labInfos().find((l) => l.id === detail.run.lab) }).replace(/</g, '\\u003c');
  const title = `${detail.run.lab} · ${detail.run.id}`;
  const reportDir = dirname(bundle);
  const css = readdirSync(reportDir).filter((f) => f.endsWith('.css')).map((f) => readFileSync(join(reportDir, f), 'utf8')).join('\n');
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>Benchtop report — ${title}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<style>${css.replace(/<\/style/gi, '')}</style>
</head><body><div id="root"></div>
<script id="benchtop-data" type="application/json">${data}</script>
<script>${readFileSync(bundle, 'utf8').replace(/<\/script/gi, '<\\/script')}</script>
</body></html>`;
  writeFileAtomic(output, html);
}
