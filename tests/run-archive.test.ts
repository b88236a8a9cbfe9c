// Run archives: our tar round-trips bit-exactly and refuses what it must; a finished run
// exported from one store imports into another as a new run with the same record, events and
// files, and its model answers queries there; untrusted archives are refused by name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { JobService } from '../workers/jobs/job-service';
import { RunStore } from '../workers/jobs/run-store';
import { ArchiveError, exportRun, importRun, MANIFEST, readRunArchive } from '../workers/jobs/run-archive';
import { readTar, TarError, writeTar, type TarEntry } from '../workers/runtime/tar';
import { parseJson, stringifyJson } from '../common/json';
import { dbPath, runsDir } from '../workers/runtime/paths';

const workerPath = join(__dirname, '..', 'out', 'main', 'lab-worker.js');
const bytes = (s: string) => new TextEncoder().encode(s);

/** A tar header for `name` with a chosen type flag, checksummed as ustar does. */
function rawHeader(name: string, type: string, size = 0): Uint8Array {
  const h = writeTar([{ name: 'x', data: new Uint8Array(size) }]).slice(0, 512);
  h.fill(0, 0, 100); h.set(bytes(name).subarray(0, 100), 0);
  h[156] = type.charCodeAt(0);
  h.fill(0x20, 148, 156);
  let sum = 0; for (const b of h) sum += b;
  h.set(bytes(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
  return h;
}
const tarOf = (...parts: Uint8Array[]) => { const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0) + 1024); let at = 0; for (const p of parts) { out.set(p, at); at += p.length; } return out; };

describe('tar', () => {
  it('round-trips files bit-exactly: empty, exactly one block, a path longer than 100 bytes', () => {
    const entries: TarEntry[] = [
      { name: 'empty.txt', data: new Uint8Array(0) },
      { name: 'block.bin', data: Uint8Array.from({ length: 512 }, (_, i) => (i * 7) & 255) },
      { name: `${'deep/'.repeat(30)}file.ckpt`, data: Uint8Array.from({ length: 1000 }, (_, i) => (i * 13) & 255) },
    ];
    const back = readTar(writeTar(entries), { maxEntries: 10 });
    expect(back.map((e) => e.name)).toEqual(entries.map((e) => e.name));
    back.forEach((e, i) => expect(Buffer.compare(Buffer.from(e.data), Buffer.from(entries[i].data))).toBe(0));
  });

  it('refuses links, devices, absolute paths, dot segments, bad checksums, truncation and duplicates', () => {
    const cases: [Uint8Array, RegExp][] = [
      [tarOf(rawHeader('files/link', '2')), /"files\/link" is a symbolic link/],
      [tarOf(rawHeader('files/hard', '1')), /"files\/hard" is a hard link/],
      [tarOf(rawHeader('files/dev', '3')), /a character device/],
      [tarOf(rawHeader('files/pax', 'x')), /a PAX header/],
      [tarOf(rawHeader('/etc/passwd', '0')), /absolute path/],
      [tarOf(rawHeader('files/../../x', '0')), /"\." or "\.\." segment/],
      [tarOf(rawHeader('files/./x', '0')), /"\." or "\.\." segment/],
      [tarOf(rawHeader('files\\x', '0')), /backslash/],
      [(() => { const t = writeTar([{ name: 'a', data: bytes('hello') }]); t[0] ^= 1; return t; })(), /bad checksum/],
      [writeTar([{ name: 'a', data: new Uint8Array(2000) }]).slice(0, 1024), /runs past the end/],
      [writeTar([{ name: 'a', data: bytes('1') }, { name: 'a', data: bytes('2') }]), /appears twice/],
      [writeTar([{ name: 'a', data: bytes('1') }]).slice(0, 100), /ends inside an entry header/],
    ];
    for (const [tar, pattern] of cases) expect(() => readTar(tar, { maxEntries: 10 })).toThrow(pattern);
    expect(() => readTar(writeTar([{ name: 'a', data: bytes('') }, { name: 'b', data: bytes('') }]), { maxEntries: 1 })).toThrow(TarError);
    expect(() => writeTar([{ name: '../up', data: bytes('') }])).toThrow(/segment/);
  });
});

describe('run archives', () => {
  const homeA = mkdtempSync(join(tmpdir(), 'bt-arch-a-')), homeB = mkdtempSync(join(tmpdir(), 'bt-arch-b-'));
  let storeA: RunStore, storeB: RunStore, jobsA: JobService, jobsB: JobService, runId: string, archive: Uint8Array, archivePath: string;

  beforeAll(async () => {
    storeA = new RunStore(dbPath(homeA)); storeB = new RunStore(dbPath(homeB));
    jobsA = new JobService({ store: storeA, home: homeA, workerPath, host: 'test-a' });
    jobsB = new JobService({ store: storeB, home: homeB, workerPath, host: 'test-b' });
    const run = jobsA.start({ lab: 'reference-classifier', preset: 'smoke', seed: 5, params: { epochs: 1 } });
    expect((await jobsA.waitFor(run.id)).status).toBe('succeeded');
    runId = run.id;
    storeA.annotate(runId, { name: 'shared baseline', tags: ['mnist'], note: 'for a colleague' });
    archivePath = exportRun(storeA, runId).path;
    archive = readFileSync(archivePath);
  }, 120_000);
  afterAll(async () => {
    await jobsA?.shutdown(); await jobsB?.shutdown(); storeA?.close(); storeB?.close();
    rmSync(homeA, { recursive: true, force: true }); rmSync(homeB, { recursive: true, force: true });
  });

  it('a finished run imports elsewhere as a new run with its record, events and files; its model answers there', async () => {
    expect(archivePath).toMatch(/exports\/.*\.benchtop-run\.tgz$/);
    const imported = importRun(storeB, homeB, archive, archivePath);
    const a = storeA.getDetail(runId)!, b = storeB.getDetail(imported.id)!;
    expect(imported.id).not.toBe(runId);
    expect(b.run).toMatchObject({ lab: a.run.lab, preset: 'smoke', seed: 5, status: 'succeeded', params: a.run.params, summary: a.run.summary, name: 'shared baseline', note: 'for a colleague', host: 'import' });
    expect(b.run.tags).toEqual(['mnist', 'imported']);
    expect(b.metrics).toEqual(a.metrics);
    expect(b.samples).toEqual(a.samples);
    expect(b.logs.slice(0, -1).map((l) => l.message)).toEqual(a.logs.map((l) => l.message));
    expect(b.logs.at(-1)!.message).toContain(`run ${runId}`);
    const ckpt = 'checkpoints/classifier.ckpt';
    expect(Buffer.compare(readFileSync(join(b.run.runDir, ckpt)), readFileSync(join(a.run.runDir, ckpt)))).toBe(0);
    const pixels = new Array(784).fill(0).map((_, i) => (i % 28 > 12 && i % 28 < 16 && i > 150 && i < 650 ? 1 : 0)); // a "1"
    expect(await jobsB.query(imported.id, 'classify', { pixels })).toEqual(await jobsA.query(runId, 'classify', { pixels }));
    // Importing again never overwrites: another new run.
    const again = importRun(storeB, homeB, archive, archivePath);
    expect(again.id).not.toBe(imported.id);
    expect(storeB.getRun(imported.id)).toBeDefined();
  }, 120_000);

  it('untrusted archives are refused by name, and a refused import leaves no run and no folder', () => {
    const { manifest, files } = readRunArchive(archive);
    const pack = (entries: TarEntry[]) => gzipSync(writeTar(entries));
    const withManifest = (change: (m: Record<string, unknown>) => void, extra: TarEntry[] = []) => {
      const m = parseJson(stringifyJson(manifest)) as Record<string, unknown>;
      change(m);
      return pack([{ name: MANIFEST, data: bytes(stringifyJson(m)) }, ...[...files].map(([n, d]) => ({ name: `files/${n}`, data: d })), ...extra]);
    };
    const cases: [string, Uint8Array, RegExp][] = [
      ['not gzip', bytes('PK\x03\x04 a zip file'), /it is not gzip data/],
      ['damaged gzip', archive.slice(0, archive.length - 200), /gzip data is damaged|truncated|ends inside/],
      ['no manifest', pack([{ name: 'files/x', data: bytes('x') }]), /has no benchtop-run\.json/],
      ['manifest not JSON', pack([{ name: MANIFEST, data: bytes('{"format":') }]), /is not valid JSON/],
      ['entry outside files/', withManifest(() => {}, [{ name: 'evil.sh', data: bytes('rm -rf /') }]), /"evil\.sh" is outside files\//],
      ['a symlink entry', gzipSync(tarOf(rawHeader('files/checkpoints/classifier.ckpt', '2'))), /is a symbolic link/],
      ['a path with ..', gzipSync(tarOf(rawHeader('files/../../../etc/cron.d/x', '0'))), /"\.\." segment/],
      ['another code version', withManifest((m) => { m.labCodeVersion = 99; }), /version 99 of reference-classifier's code and this app has version 1/],
      ['an unknown lab', withManifest((m) => { (m.run as Record<string, unknown>).lab = 'nope'; }), /lab "nope", which this app does not have/],
      ['params out of range', withManifest((m) => { ((m.run as Record<string, unknown>).params as Record<string, unknown>).epochs = 9999; }), /params do not fit this app's reference-classifier: epochs/],
      ['a running run', withManifest((m) => { (m.run as Record<string, unknown>).status = 'running'; }), /run\.status/],
      ['an extra manifest field', withManifest((m) => { m.owner = 'x'; }), /Unrecognized key/],
      ['a missing artifact file', withManifest((m) => { m.artifacts = [{ name: 'a', mime: 'text/plain', file: 'nowhere.txt' }]; }), /names nowhere\.txt, which the archive does not hold/],
    ];
    const before = storeB.listRuns().length;
    const foldersBefore = readdirSync(runsDir(homeB)).length;
    for (const [what, data, pattern] of cases) {
      let got = '(no error)';
      try { importRun(storeB, homeB, data, what); } catch (e) { got = (e as Error).message; }
      expect(got, what).toMatch(pattern);
    }
    // Size caps, before and while unpacking (a small limit stands in for the real 512 MiB / 1 GiB).
    expect(() => readRunArchive(archive, { compressedBytes: 1000, unpackedBytes: 2 ** 30, entries: 100 })).toThrow(ArchiveError);
    expect(() => readRunArchive(gzipSync(new Uint8Array(4 * 2 ** 20)), { compressedBytes: 2 ** 20, unpackedBytes: 2 ** 20, entries: 100 })).toThrow(/unpacks to more than 1 MiB/);
    expect(storeB.listRuns().length).toBe(before);
    expect(readdirSync(runsDir(homeB)).length).toBe(foldersBefore);
  });
});
