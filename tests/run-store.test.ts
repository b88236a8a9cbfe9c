import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { MIGRATIONS, RunStore } from '../workers/jobs/run-store';

const dir = mkdtempSync(join(tmpdir(), 'bt-store-'));
const requireHere = createRequire(import.meta.url);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('RunStore', () => {
  it('a fresh store is at the newest schema version', () => {
    const s = new RunStore(join(dir, 'fresh.sqlite'));
    expect(s.schemaVersion).toBe(MIGRATIONS.length);
    s.close();
  });

  it('a run is renamed, tagged and annotated; fields left out stay; an empty name clears it', () => {
    const s = new RunStore(join(dir, 'annotate.sqlite'));
    s.createRun({ id: 'run-annot-1', lab: 'x', preset: 'smoke', seed: 1, params: {}, host: 'test', runDir: '/tmp/x' });
    s.annotate('run-annot-1', { name: 'baseline', tags: ['a', 'b', 'a'] });
    expect(s.getRun('run-annot-1')).toMatchObject({ name: 'baseline', tags: ['a', 'b'], note: '' });
    s.annotate('run-annot-1', { note: 'lr too high' });
    expect(s.getRun('run-annot-1')).toMatchObject({ name: 'baseline', tags: ['a', 'b'], note: 'lr too high' });
    s.annotate('run-annot-1', { name: '' });
    expect(s.getRun('run-annot-1')!.name).toBeNull();
    s.close();
  });

  it('migrates an old database forward and keeps its runs', () => {
    const path = join(dir, 'old.sqlite');
    const { Database } = requireHere('node-sqlite3-wasm');
    const db = new Database(path);
    db.exec(MIGRATIONS[0]);
    db.exec('PRAGMA user_version = 1');
    db.run(`INSERT INTO runs (id, lab, preset, seed, status, params, host, run_dir, created_at) VALUES ('old-run-1', 'x', 'smoke', 1, 'succeeded', '{}', 'cli', '/tmp', 1)`);
    db.close();
    const s = new RunStore(path);
    expect(s.schemaVersion).toBe(MIGRATIONS.length);
    expect(s.getRun('old-run-1')).toMatchObject({ status: 'succeeded', name: null, tags: [], note: '', sweep: null });
    s.appendEvents('old-run-1', [{ type: 'log', level: 'info', message: 'logs table exists now' }]);
    expect(s.getDetail('old-run-1')?.logs.map((l) => l.message)).toEqual(['logs table exists now']);
    s.close();
  });

  it('a file that is not a database gets a message naming it, and is left untouched', () => {
    const path = join(dir, 'garbage.sqlite');
    const text = 'not a database, just text that happens to be long enough to look like a header.......';
    require('node:fs').writeFileSync(path, text);
    expect(() => new RunStore(path)).toThrow(/garbage.sqlite cannot be opened .* left untouched/);
    expect(require('node:fs').readFileSync(path, 'utf8')).toBe(text);
  });

  it('stores every event kind, numbered, and reads them back', () => {
    const s = new RunStore(join(dir, 'events.sqlite'));
    s.createRun({ id: 'ev-run-1', lab: 'l', preset: 'smoke', seed: 3, params: { a: 1, b: 'x' }, host: 'test', runDir: '/tmp/r' });
    const stored = s.appendEvents('ev-run-1', [
      { type: 'metric', step: 1, name: 'loss', value: 0.5 },
      { type: 'metric', step: 2, name: 'loss', value: 0.25 },
      { type: 'progress', phase: 'train', done: 2, total: 10 },
      { type: 'sample', kind: 'chain', data: { text: 'L=3 R=5' } },
      { type: 'artifact', name: 'a.png', mime: 'image/png', path: '/tmp/r/artifacts/a.png' },
      { type: 'log', level: 'warn', message: 'careful' },
    ]);
    expect(stored.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    s.setStatus('ev-run-1', 'succeeded', { summary: { metrics: { loss: 0.25 }, checks: {} } });
    const d = s.getDetail('ev-run-1')!;
    expect(d.metrics.loss).toEqual([{ step: 1, value: 0.5 }, { step: 2, value: 0.25 }]);
    expect(d.samples).toEqual([{ seq: 4, kind: 'chain', data: { text: 'L=3 R=5' } }]);
    expect(d.artifacts[0].name).toBe('a.png');
    expect(d.run.progress).toEqual({ type: 'progress', phase: 'train', done: 2, total: 10 });
    expect(d.run.status).toBe('succeeded');
    expect(d.run.params).toEqual({ a: 1, b: 'x' });
    expect(d.lastSeq).toBe(6);
    s.close();
  });

  describe('crash recovery', () => {
    let writer: string;
    beforeAll(async () => {
      // Inside the repo, so the bundle resolves node_modules.
      writer = join(__dirname, '..', 'test-results', 'store-writer.cjs');
      await build({ entryPoints: [join(__dirname, 'fixtures/store-writer.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: writer, packages: 'external', logLevel: 'silent', absWorkingDir: join(__dirname, '..') });
    });

    it('a writer killed mid-run loses at most the event in flight; its run shows as interrupted', async () => {
      const path = join(dir, 'crash.sqlite');
      const child = spawn(process.execPath, [writer, path], { cwd: join(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
      let committed = 0;
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => {
          const lines = b.toString().trim().split('\n');
          committed = Math.max(committed, Number(lines.at(-1)));
          if (committed >= 200) { child.kill('SIGKILL'); resolve(); }
        });
        child.on('exit', (code) => { if (committed < 200) reject(new Error(`writer exited early (${code})`)); });
      });
      await new Promise((r) => child.on('close', r));
      const s = new RunStore(path);
      const run = s.getRun('crash-run-1')!;
      expect(run.status).toBe('interrupted');
      const n = s.getDetail('crash-run-1')!.metrics.loss.length;
      // Everything reported committed is there; at most the one event in flight beyond it.
      expect(n).toBeGreaterThanOrEqual(committed);
      expect(n).toBeLessThanOrEqual(committed + 1 + 64); // stdout may lag the commits by a pipe buffer
      s.close();
    });
  });

  it('keeps ±Infinity and NaN: metrics, samples and summaries read back as the numbers they were', () => {
    const s = new RunStore(join(dir, 'nonfinite.sqlite'));
    s.createRun({ id: 'inf-run-1', lab: 'l', preset: 'smoke', seed: 1, params: { x: Infinity }, host: 'test', runDir: '/tmp/r' });
    s.appendEvents('inf-run-1', [
      { type: 'metric', step: 1, name: 'psnrDb', value: Infinity },
      { type: 'metric', step: 2, name: 'psnrDb', value: NaN },
      { type: 'metric', step: 3, name: 'psnrDb', value: -Infinity },
      { type: 'sample', kind: 'image', data: { psnrDb: Infinity, list: [1, NaN, -Infinity], label: 'ok' } },
    ]);
    s.setStatus('inf-run-1', 'succeeded', { summary: { metrics: { psnrDb: Infinity }, checks: {} } });
    const d = s.getDetail('inf-run-1')!;
    expect(d.metrics.psnrDb.map((p) => p.value)).toEqual([Infinity, NaN, -Infinity]);
    expect(d.samples[0].data).toEqual({ psnrDb: Infinity, list: [1, NaN, -Infinity], label: 'ok' });
    expect(d.run.summary?.metrics.psnrDb).toBe(Infinity);
    expect(d.run.params.x).toBe(Infinity);
    s.close();
  });

  it('a folder or a file in the way gets a message naming the cause, not "Could not open the database"', () => {
    const folder = join(dir, 'is-a-folder.sqlite');
    require('node:fs').mkdirSync(folder);
    expect(() => new RunStore(folder)).toThrow(/is-a-folder.sqlite cannot be opened: that path is a folder, not a database file/);
    const blocker = join(dir, 'blocker');
    require('node:fs').writeFileSync(blocker, 'x');
    expect(() => new RunStore(join(blocker, 'benchtop.sqlite'))).toThrow(/its folder .*blocker cannot be created \(a file is in the way\)/);
  });

  it('a lock held by a live process is waited for, then named with its process; the store is left as it was', async () => {
    const path = join(dir, 'held.sqlite');
    const s = new RunStore(path);
    s.createRun({ id: 'held-run-1', lab: 'l', preset: 'smoke', seed: 1, params: {}, host: 'test', runDir: '/tmp/r' });
    s.close();
    const fs = require('node:fs') as typeof import('node:fs');
    const before = fs.readFileSync(path);
    // Another process holds the lock, as one stopped mid-transaction would: its pid is in the lock directory.
    const holder = spawn(process.execPath, ['-e', `console.log('up'); setTimeout(() => {}, 60000)`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((r) => holder.stdout!.once('data', () => r()));
    fs.mkdirSync(`${path}.lock`);
    fs.writeFileSync(join(`${path}.lock`, 'owner'), String(holder.pid));
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(`${path}.lock`, old, old);
    try {
      expect(() => new RunStore(path)).toThrow(new RegExp(`held.sqlite is busy: another Benchtop process holds its lock \\(pid ${holder.pid}: .*node -e.*\\)\\. Your runs are safe: nothing was changed`));
      expect(fs.existsSync(`${path}.lock`)).toBe(true); // a live holder keeps its lock
      expect(fs.readFileSync(path).equals(before)).toBe(true);
    } finally { holder.kill('SIGKILL'); }
    await new Promise((r) => holder.on('close', r));
    // Dated in the future, so the age rule can never clear it: only its holder being gone can.
    const future = new Date(Date.now() + 3_600_000);
    fs.utimesSync(`${path}.lock`, future, future);
    const again = new RunStore(path);
    expect(again.getRun('held-run-1')?.status).toBe('queued');
    expect(fs.existsSync(`${path}.lock`)).toBe(false);
    again.close();
  }, 60_000);

  it('does not mark another live process\'s running run as interrupted', () => {
    const path = join(dir, 'shared.sqlite');
    const a = new RunStore(path);
    a.createRun({ id: 'live-run-1', lab: 'l', preset: 'smoke', seed: 1, params: {}, host: 'app', runDir: '/tmp/x' });
    a.setStatus('live-run-1', 'running');
    const b = new RunStore(path); // same pid, e.g. a CLI opening the app's store
    expect(b.getRun('live-run-1')?.status).toBe('running');
    a.close(); b.close();
  });
});
