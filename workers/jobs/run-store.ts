// The run store: SQLite (node-sqlite3-wasm, which writes the file directly through its own
// VFS: no native addon to rebuild for Electron, no in-memory copy to lose on a crash).
// One RunStore per process does all writes; processes (the app, a CLI run) share the file
// through the VFS's lock directory, taken per transaction. Events are written as they
// arrive, one transaction per batch, so a killed process loses only the events in flight.
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import type { LabEvent, RunStatus, StoredEvent } from '../../common/events';
import type { RunRecord, RunDetail, MetricPoint } from '../../common/api';

const requireHere = createRequire(__filename);
type Db = import('node-sqlite3-wasm').Database;

/** Versioned migrations: index i brings the schema to version i + 1. Never edit one that shipped. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE runs (
     id TEXT PRIMARY KEY, lab TEXT NOT NULL, preset TEXT NOT NULL, seed INTEGER NOT NULL,
     status TEXT NOT NULL, params TEXT NOT NULL, backend TEXT, provenance TEXT, summary TEXT,
     error TEXT, progress TEXT, host TEXT NOT NULL, owner_pid INTEGER, run_dir TEXT NOT NULL,
     created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER);
   CREATE TABLE params (run_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, name));
   CREATE TABLE metrics (run_id TEXT NOT NULL, seq INTEGER NOT NULL, step REAL NOT NULL, name TEXT NOT NULL, value REAL NOT NULL, at INTEGER NOT NULL);
   CREATE INDEX metrics_run ON metrics (run_id, name, seq);
   CREATE TABLE samples (run_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL, at INTEGER NOT NULL);
   CREATE INDEX samples_run ON samples (run_id, seq);
   CREATE TABLE artifacts (run_id TEXT NOT NULL, name TEXT NOT NULL, mime TEXT NOT NULL, path TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (run_id, name));`,
  `CREATE TABLE logs (run_id TEXT NOT NULL, seq INTEGER NOT NULL, level TEXT NOT NULL, message TEXT NOT NULL, at INTEGER NOT NULL);
   CREATE INDEX logs_run ON logs (run_id, seq);`,
];

const STALE_LOCK_MS = 5000;
const sleepBuf = new Int32Array(new SharedArrayBuffer(4));
const sleepSync = (ms: number) => Atomics.wait(sleepBuf, 0, 0, ms);

function pidAlive(pid: number | null): boolean {
  if (!pid) return false;
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

export class RunStore {
  private db: Db;
  private seqs = new Map<string, number>();

  constructor(public readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    const { Database } = requireHere('node-sqlite3-wasm') as typeof import('node-sqlite3-wasm');
    this.clearStaleLock();
    this.db = new Database(path);
    try {
      this.retry(() => this.db.exec('PRAGMA synchronous = FULL'));
      this.migrate();
      this.markInterrupted();
    } catch (err) {
      this.db.close();
      // Never "repair" by recreating: the file may hold a user's runs.
      throw new Error(`the run store ${path} cannot be opened (${(err as Error).message}); it was left untouched: move it aside to start a new one`);
    }
  }

  /** The VFS locks with a directory; one left by a killed process would block us forever. */
  private clearStaleLock(): void {
    const lock = `${this.path}.lock`;
    try {
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
    } catch { /* raced with its owner: fine */ }
  }

  private retry<T>(fn: () => T): T {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try { return fn(); } catch (err) {
        const msg = (err as Error).message;
        if (!/locked|busy/i.test(msg) || Date.now() > deadline) throw err;
        this.clearStaleLock();
        sleepSync(5 + Math.random() * 20);
      }
    }
  }

  private tx(fn: () => void): void {
    this.retry(() => {
      this.db.exec('BEGIN IMMEDIATE');
      try { fn(); this.db.exec('COMMIT'); } catch (err) { try { this.db.exec('ROLLBACK'); } catch { /* already rolled back */ } throw err; }
    });
  }

  get schemaVersion(): number {
    return (this.db.get('PRAGMA user_version') as { user_version: number }).user_version;
  }

  private migrate(): void {
    const from = this.retry(() => this.schemaVersion);
    for (let v = from; v < MIGRATIONS.length; v++) {
      this.tx(() => {
        // Re-check inside the lock: another process may have migrated meanwhile.
        if (this.schemaVersion > v) return;
        this.db.exec(MIGRATIONS[v]);
        this.db.exec(`PRAGMA user_version = ${v + 1}`);
      });
    }
  }

  /** Runs left queued/running by a process that no longer exists were interrupted. */
  markInterrupted(): number {
    const rows = this.retry(() => this.db.all(`SELECT id, owner_pid FROM runs WHERE status IN ('queued', 'running')`)) as { id: string; owner_pid: number | null }[];
    const dead = rows.filter((r) => r.owner_pid !== process.pid && !pidAlive(r.owner_pid));
    if (dead.length) this.tx(() => {
      for (const r of dead) this.db.run(`UPDATE runs SET status = 'interrupted', finished_at = ? WHERE id = ?`, [Date.now(), r.id]);
    });
    return dead.length;
  }

  createRun(r: { id: string; lab: string; preset: string; seed: number; params: Record<string, unknown>; host: string; runDir: string }): void {
    this.tx(() => {
      this.db.run(`INSERT INTO runs (id, lab, preset, seed, status, params, host, owner_pid, run_dir, created_at) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)`,
        [r.id, r.lab, r.preset, r.seed, JSON.stringify(r.params), r.host, process.pid, r.runDir, Date.now()]);
      for (const [name, value] of Object.entries(r.params)) this.db.run(`INSERT INTO params (run_id, name, value) VALUES (?, ?, ?)`, [r.id, name, JSON.stringify(value)]);
    });
    this.seqs.set(r.id, 0);
  }

  setStatus(id: string, status: RunStatus, extra: { backend?: unknown; provenance?: unknown; summary?: unknown; error?: string } = {}): void {
    const now = Date.now();
    this.tx(() => {
      this.db.run(`UPDATE runs SET status = ?,
          started_at = CASE WHEN ? = 'running' AND started_at IS NULL THEN ? ELSE started_at END,
          finished_at = CASE WHEN ? IN ('succeeded', 'failed', 'cancelled', 'interrupted') THEN ? ELSE finished_at END,
          backend = COALESCE(?, backend), provenance = COALESCE(?, provenance), summary = COALESCE(?, summary), error = COALESCE(?, error)
        WHERE id = ?`,
        [status, status, now, status, now,
          extra.backend === undefined ? null : JSON.stringify(extra.backend),
          extra.provenance === undefined ? null : JSON.stringify(extra.provenance),
          extra.summary === undefined ? null : JSON.stringify(extra.summary),
          extra.error ?? null, id]);
    });
  }

  private nextSeq(id: string): number {
    let s = this.seqs.get(id);
    if (s === undefined) {
      const row = this.db.get(`SELECT MAX(seq) AS m FROM (SELECT seq FROM metrics WHERE run_id = ?1 UNION ALL SELECT seq FROM samples WHERE run_id = ?1 UNION ALL SELECT seq FROM logs WHERE run_id = ?1)`, [id]) as { m: number | null };
      s = (row?.m ?? 0);
    }
    s += 1;
    this.seqs.set(id, s);
    return s;
  }

  /** Writes a batch of events in one transaction; returns them numbered. */
  appendEvents(id: string, events: LabEvent[]): StoredEvent[] {
    const at = Date.now();
    const stored: StoredEvent[] = [];
    this.tx(() => {
      let lastProgress: LabEvent | undefined;
      for (const e of events) {
        const seq = this.nextSeq(id);
        stored.push({ ...e, seq, at });
        if (e.type === 'metric') this.db.run(`INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)`, [id, seq, e.step, e.name, Number.isFinite(e.value) ? e.value : null, at]);
        else if (e.type === 'sample') this.db.run(`INSERT INTO samples VALUES (?, ?, ?, ?, ?)`, [id, seq, e.kind, JSON.stringify(e.data), at]);
        else if (e.type === 'artifact') this.db.run(`INSERT OR REPLACE INTO artifacts VALUES (?, ?, ?, ?, ?)`, [id, e.name, e.mime, e.path, at]);
        else if (e.type === 'log') this.db.run(`INSERT INTO logs VALUES (?, ?, ?, ?, ?)`, [id, seq, e.level, e.message, at]);
        else if (e.type === 'progress') lastProgress = e;
      }
      if (lastProgress) this.db.run(`UPDATE runs SET progress = ? WHERE id = ?`, [JSON.stringify(lastProgress), id]);
    });
    return stored;
  }

  private toRecord(row: Record<string, unknown>): RunRecord {
    const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : null);
    return {
      id: row.id as string, lab: row.lab as string, preset: row.preset as RunRecord['preset'], seed: row.seed as number,
      status: row.status as RunStatus, params: parse(row.params), backend: parse(row.backend), provenance: parse(row.provenance),
      summary: parse(row.summary), error: (row.error as string) ?? null, progress: parse(row.progress), host: row.host as string,
      runDir: row.run_dir as string, createdAt: row.created_at as number, startedAt: (row.started_at as number) ?? null,
      finishedAt: (row.finished_at as number) ?? null,
    };
  }

  getRun(id: string): RunRecord | undefined {
    const row = this.retry(() => this.db.get(`SELECT * FROM runs WHERE id = ?`, [id])) as Record<string, unknown> | null;
    return row ? this.toRecord(row) : undefined;
  }

  listRuns(opts: { lab?: string; limit?: number } = {}): RunRecord[] {
    const rows = this.retry(() => opts.lab
      ? this.db.all(`SELECT * FROM runs WHERE lab = ? ORDER BY created_at DESC LIMIT ?`, [opts.lab, opts.limit ?? 500])
      : this.db.all(`SELECT * FROM runs ORDER BY created_at DESC LIMIT ?`, [opts.limit ?? 500])) as Record<string, unknown>[];
    return rows.map((r) => this.toRecord(r));
  }

  getDetail(id: string): RunDetail | undefined {
    const run = this.getRun(id);
    if (!run) return undefined;
    return this.retry(() => {
      const metrics: Record<string, MetricPoint[]> = {};
      for (const m of this.db.all(`SELECT step, name, value FROM metrics WHERE run_id = ? ORDER BY seq`, [id]) as { step: number; name: string; value: number | null }[]) {
        (metrics[m.name] ??= []).push({ step: m.step, value: m.value ?? NaN });
      }
      const samples = (this.db.all(`SELECT seq, kind, data FROM samples WHERE run_id = ? ORDER BY seq`, [id]) as { seq: number; kind: string; data: string }[])
        .map((s) => ({ seq: s.seq, kind: s.kind, data: JSON.parse(s.data) }));
      const artifacts = this.db.all(`SELECT name, mime, path FROM artifacts WHERE run_id = ? ORDER BY name`, [id]) as { name: string; mime: string; path: string }[];
      const logs = this.db.all(`SELECT seq, level, message, at FROM logs WHERE run_id = ? ORDER BY seq`, [id]) as RunDetail['logs'];
      const last = this.db.get(`SELECT MAX(seq) AS m FROM (SELECT seq FROM metrics WHERE run_id = ?1 UNION ALL SELECT seq FROM samples WHERE run_id = ?1 UNION ALL SELECT seq FROM logs WHERE run_id = ?1)`, [id]) as { m: number | null };
      return { run, metrics, samples, artifacts, logs, lastSeq: last?.m ?? 0 };
    });
  }

  deleteRun(id: string): void {
    this.tx(() => {
      for (const t of ['metrics', 'samples', 'artifacts', 'logs', 'params']) this.db.run(`DELETE FROM ${t} WHERE run_id = ?`, [id]);
      this.db.run(`DELETE FROM runs WHERE id = ?`, [id]);
    });
  }

  close(): void { if (this.db.isOpen) this.db.close(); }
}
