// Export a finished run as one archive (written beside the runs folder), and import one a
// colleague sent: the file is sent to the host in 4 MiB pieces (under the WebSocket's 8 MiB
// message limit), checked there as untrusted input, and becomes a new run.
import { useRef, useState } from 'react';
import { IMPORT_CHUNK_BYTES, type RunRecord } from '../../../common/api';
import { api } from '../bridge';

const MAX_ARCHIVE_BYTES = 512 * 2 ** 20;

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function ExportButton({ run }: { run: RunRecord }) {
  const [out, setOut] = useState<{ path?: string; error?: string; busy?: boolean }>();
  const finished = !['running', 'queued'].includes(run.status);
  const go = () => {
    setOut({ busy: true });
    api.exportRun(run.id).then(({ path, bytes }) => setOut({ path: `${path} (${(bytes / 2 ** 20).toFixed(1)} MiB)` }), (e: Error) => setOut({ error: e.message }));
  };
  return (
    <>
      <button onClick={go} disabled={!finished || out?.busy} data-testid="export" title="one archive with the run's record, metrics, samples, artifacts and checkpoint">Export</button>
      {out?.path && <span data-testid="export-path">archive <code>{out.path}</code></span>}
      {out?.error && <span className="error" role="alert">{out.error}</span>}
    </>
  );
}

export function ImportButton({ onImported }: { onImported: (run: RunRecord) => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [state, setState] = useState<{ progress?: string; error?: string; done?: string }>();
  const importFile = async (file: File | undefined) => {
    if (!file) return;
    setState({ progress: 'reading…' });
    try {
      if (file.size === 0) throw new Error(`${file.name} is empty`);
      if (file.size > MAX_ARCHIVE_BYTES) throw new Error(`${file.name} is over ${MAX_ARCHIVE_BYTES / 2 ** 20} MiB, the archive limit`);
      const bytes = new Uint8Array(await file.arrayBuffer());
      const upload = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
      for (let index = 0, at = 0; ; index++) {
        const chunk = bytes.subarray(at, at + IMPORT_CHUNK_BYTES);
        at += chunk.length;
        const last = at >= bytes.length;
        const res = await api.importRunChunk({ upload, index, base64: toBase64(chunk), last, fileName: file.name });
        if ('run' in res) { setState({ done: `imported ${file.name} as ${res.run.id}` }); onImported(res.run); return; }
        setState({ progress: `sending ${Math.round((100 * at) / bytes.length)} %` });
      }
    } catch (e) {
      setState({ error: `could not import ${file.name}: ${(e as Error).message}` });
    } finally {
      if (input.current) input.current.value = '';
    }
  };
  return (
    <span className="import-run">
      <button onClick={() => input.current?.click()} title="a .benchtop-run.tgz archive exported from Benchtop">Import run…</button>
      <input ref={input} type="file" accept=".tgz,.gz,application/gzip" hidden onChange={(e) => void importFile(e.target.files?.[0])} data-testid="import-input" />
      {state?.progress && <span className="muted small">{state.progress}</span>}
      {state?.done && <span className="small" data-testid="import-done">{state.done}</span>}
      {state?.error && <span className="error small" role="alert" data-testid="import-error">{state.error}</span>}
    </span>
  );
}
