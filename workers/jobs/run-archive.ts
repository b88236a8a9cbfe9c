// A finished run as one archive (`.benchtop-run.tgz`): its record, metrics, samples, logs and
// every file of its folder (checkpoints, artifacts), so a colleague can open it in their own
// app and query its model. Importing treats the archive as untrusted input: sizes are capped
// before and while unpacking, entries must be plain files under relative paths (tar.ts), the
// manifest is validated, the lab must exist here at the same code version, and an import
// always makes a new run: it never overwrites one.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { FINISHED } from '../../common/events';
import { parseJson, stringifyJson } from '../../common/json';
import { findLabSpec } from '../../common/labs';
import type { RunDetail, RunRecord } from '../../common/api';
import { runsDir, writeFileAtomic } from '../runtime/paths';
import { readTar, TarError, writeTar } from '../runtime/tar';
import { gitCommit } from './provenance';
import { newRunId, type RunStore } from './run-store';

export const ARCHIVE_SUFFIX = '.benchtop-run.tgz';
export const MANIFEST = 'benchtop-run.json';
export const ARCHIVE_LIMITS = { compressedBytes: 512 * 2 ** 20, unpackedBytes: 1024 * 2 ** 20, entries: 10_000 };

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
/** Numbers as the common JSON codec reads them (±∞ and NaN allowed: metrics may hold them). */
const anyNumber = z.number();
const manifestSchema = z.object({
  format: z.literal('benchtop-run'),
  version: z.literal(1),
  exportedAt: z.string().max(40),
  exportedBy: z.object({ commit: z.string().max(80), host: z.string().max(80) }).strict(),
  labCodeVersion: z.number().int().min(0),
  run: z.object({
    id: z.string().regex(/^[a-z0-9-]{6,80}$/),
    lab: z.string().min(1).max(64),
    preset: z.enum(['smoke', 'default', 'paper']),
    seed: z.number().int().min(0).max(2 ** 31 - 1),
    status: z.enum(FINISHED as unknown as ['succeeded', 'failed', 'cancelled', 'interrupted']),
    params: z.record(z.string(), z.unknown()),
    backend: z.object({ name: z.string().max(40), kernelFixes: z.array(z.string().max(200)).max(100) }).passthrough().nullable(),
    provenance: z.record(z.string(), z.unknown()).nullable(),
    summary: z.object({ metrics: z.record(z.string(), anyNumber.nullable()), checks: z.record(z.string(), z.boolean()) }).passthrough().nullable(),
    error: z.string().max(100_000).nullable(),
    name: z.string().max(120).nullable(),
    tags: z.array(z.string().max(40)).max(20),
    note: z.string().max(4000),
    createdAt: finite, startedAt: finite.nullable(), finishedAt: finite.nullable(),
  }).strict(),
  metrics: z.record(z.string().max(200), z.array(z.object({ step: anyNumber, value: anyNumber }).strict()).max(1_000_000)),
  samples: z.array(z.object({ seq: z.number().int().min(0), kind: z.string().min(1).max(64), data: z.unknown() }).strict()).max(100_000),
  logs: z.array(z.object({ seq: z.number().int().min(0), level: z.string().max(16), message: z.string().max(100_000), at: finite }).strict()).max(100_000),
  artifacts: z.array(z.object({ name: z.string().min(1).max(200), mime: z.string().max(100), file: z.string().min(1).max(400) }).strict()).max(1000),
}).strict();
export type RunManifest = z.infer<typeof manifestSchema>;

/** Every regular file under `dir`, as paths relative to it (links are not followed or taken). */
function filesUnder(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    const st = lstatSync(full);
    if (st.isDirectory()) return filesUnder(full, base);
    return st.isFile() ? [relative(base, full).split(sep).join('/')] : [];
  });
}

/** Writes a finished run's archive; returns its path and size. */
export function exportRun(store: RunStore, runId: string, output?: string): { path: string; bytes: number } {
  const detail = store.getDetail(runId);
  if (!detail) throw new Error(`no run ${runId}`);
  const r = detail.run;
  if (!FINISHED.includes(r.status)) throw new Error(`run ${runId} is ${r.status}: export it when it has finished`);
  const files = filesUnder(r.runDir).filter((f) => !f.includes('.tmp-'));
  const inside = (p: string) => { const rel = relative(resolve(r.runDir), resolve(p)); return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : undefined; };
  const manifest: RunManifest = {
    format: 'benchtop-run', version: 1, exportedAt: new Date().toISOString(),
    exportedBy: { commit: gitCommit(), host: r.host },
    labCodeVersion: r.provenance?.labCodeVersion ?? 1,
    run: {
      id: r.id, lab: r.lab, preset: r.preset, seed: r.seed, status: r.status as RunManifest['run']['status'], params: r.params, backend: r.backend ? { ...r.backend, kernelFixes: [...r.backend.kernelFixes] } : null,
      provenance: r.provenance as unknown as Record<string, unknown> | null, summary: r.summary as RunManifest['run']['summary'], error: r.error,
      name: r.name, tags: r.tags, note: r.note, createdAt: r.createdAt, startedAt: r.startedAt, finishedAt: r.finishedAt,
    },
    metrics: detail.metrics, samples: detail.samples, logs: detail.logs,
    artifacts: detail.artifacts.flatMap((a) => { const file = inside(a.path); return file ? [{ name: a.name, mime: a.mime, file }] : []; }),
  };
  const entries = [{ name: MANIFEST, data: new TextEncoder().encode(stringifyJson(manifest)) }, ...files.map((f) => ({ name: `files/${f}`, data: readFileSync(join(r.runDir, f)) }))];
  const packed = gzipSync(writeTar(entries));
  const path = output ?? join(dirname(r.runDir), '..', 'exports', `${r.id}${ARCHIVE_SUFFIX}`);
  writeFileAtomic(path, packed);
  return { path: resolve(path), bytes: packed.length };
}

/** Why an archive cannot be imported, in one sentence naming the problem. */
export class ArchiveError extends Error {}

/** Unpacks and checks an archive (no writes); throws ArchiveError naming the first problem. */
export function readRunArchive(bytes: Uint8Array, limits = ARCHIVE_LIMITS): { manifest: RunManifest; files: Map<string, Uint8Array> } {
  const { compressedBytes, unpackedBytes, entries } = limits;
  const mib = (n: number) => `${n / 2 ** 20} MiB`;
  if (bytes.length > compressedBytes) throw new ArchiveError(`the archive is over ${mib(compressedBytes)}`);
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) throw new ArchiveError(`not a Benchtop run archive (${ARCHIVE_SUFFIX}): it is not gzip data`);
  let tar: Uint8Array;
  try { tar = gunzipSync(bytes, { maxOutputLength: unpackedBytes }); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ArchiveError(code === 'ERR_BUFFER_TOO_LARGE' ? `the archive unpacks to more than ${mib(unpackedBytes)}` : `the archive's gzip data is damaged (${(e as Error).message})`);
  }
  let list;
  try { list = readTar(tar, { maxEntries: entries }); } catch (e) { throw new ArchiveError(e instanceof TarError ? `refused: ${e.message}` : (e as Error).message); }
  const manifestEntry = list.find((e) => e.name === MANIFEST);
  if (!manifestEntry) throw new ArchiveError(`not a Benchtop run archive: it has no ${MANIFEST}`);
  const stray = list.find((e) => e.name !== MANIFEST && !e.name.startsWith('files/'));
  if (stray) throw new ArchiveError(`refused: entry "${stray.name}" is outside files/`);
  let raw: unknown;
  try { raw = parseJson(new TextDecoder('utf-8', { fatal: true }).decode(manifestEntry.data)); } catch (e) { throw new ArchiveError(`${MANIFEST} is not valid JSON (${(e as Error).message})`); }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) { const i = parsed.error.issues[0]; throw new ArchiveError(`${MANIFEST}: ${i.path.join('.') || 'the manifest'}: ${i.message}`); }
  const files = new Map(list.filter((e) => e.name.startsWith('files/')).map((e) => [e.name.slice('files/'.length), e.data]));
  const missing = parsed.data.artifacts.find((a) => !files.has(a.file));
  if (missing) throw new ArchiveError(`artifact "${missing.name}" names ${missing.file}, which the archive does not hold`);
  return { manifest: parsed.data, files };
}

/** Imports an archive as a new run (never over an existing one); returns its record. */
export function importRun(store: RunStore, home: string, bytes: Uint8Array, source: string, limits = ARCHIVE_LIMITS): RunRecord {
  const { manifest, files } = readRunArchive(bytes, limits);
  const m = manifest.run;
  const spec = findLabSpec(m.lab);
  if (!spec) throw new ArchiveError(`the run is of lab "${m.lab}", which this app does not have`);
  if (manifest.labCodeVersion !== spec.codeVersion) {
    throw new ArchiveError(`the run was made by version ${manifest.labCodeVersion} of ${m.lab}'s code and this app has version ${spec.codeVersion}: `
      + 'its checkpoint would not load here (open it with a Benchtop at the same version)');
  }
  const params = spec.params.safeParse(m.params);
  if (!params.success) { const i = params.error.issues[0]; throw new ArchiveError(`its params do not fit this app's ${m.lab}: ${i.path.join('.')}: ${i.message}`); }
  const id = newRunId();
  const runDir = join(runsDir(home), id);
  try {
    for (const [rel, data] of files) {
      const target = resolve(runDir, rel);
      if (!target.startsWith(resolve(runDir) + sep)) throw new ArchiveError(`refused: entry "files/${rel}" lands outside the run folder`);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, data, { flag: 'wx' }); // never over an existing file
    }
    const record: RunRecord = {
      id, lab: m.lab, preset: m.preset, seed: m.seed, status: m.status, params: m.params,
      backend: m.backend as RunRecord['backend'], provenance: m.provenance as unknown as RunRecord['provenance'], summary: m.summary as RunRecord['summary'],
      error: m.error, progress: null, host: 'import', runDir, createdAt: Date.now(), startedAt: m.startedAt, finishedAt: m.finishedAt,
      name: m.name, tags: [...new Set([...m.tags, 'imported'])].slice(0, 20), note: m.note, sweep: null,
    };
    const note: RunDetail['logs'][number] = { seq: Math.max(0, ...manifest.logs.map((l) => l.seq)) + 1, level: 'info', at: Date.now(),
      message: `imported from ${source}: run ${m.id}, exported ${manifest.exportedAt} by a Benchtop at ${manifest.exportedBy.commit}` };
    store.insertImported(record, {
      metrics: manifest.metrics, samples: manifest.samples, logs: [...manifest.logs, note],
      artifacts: manifest.artifacts.map((a) => ({ name: a.name, mime: a.mime, path: join(runDir, a.file) })),
    });
    return store.getRun(id)!;
  } catch (e) {
    rmSync(runDir, { recursive: true, force: true });
    throw e;
  }
}
