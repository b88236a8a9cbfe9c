// The run store: SQLite (node-sqlite3-wasm, which writes the file directly through its own
// VFS: no native addon to rebuild for Electron, no in-memory copy to lose on a crash).
// One RunStore per process does all writes; processes (the app, a CLI run) share the file
// through the VFS's lock directory, taken per transaction. Events are written as they
// arrive, one transaction per batch, so a killed process loses only the events in flight.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import type { LabEvent, RunStatus, StoredEvent } from '../../common/events';
import type { RunRecord, RunDetail, MetricPoint } from '../../common/api';
import { parseJson, stringifyJson } from '../../common/json';

const requireHere = createRequire(__filename);

/** A new run's id: its start time to the second, then 6 random hex digits. */
export const newRunId = () => `${new Date().toISOString().replace(/[-:T.Z]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
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
  // A NaN metric is stored as NULL (SQLite has no NaN), so value may be NULL; the owner's
  // heartbeat and another process's cancel request live on the run.
  `CREATE TABLE metrics_v3 (run_id TEXT NOT NULL, seq INTEGER NOT NULL, step REAL NOT NULL, name TEXT NOT NULL, value REAL, at INTEGER NOT NULL);
   INSERT INTO metrics_v3 SELECT run_id, seq, step, name, value, at FROM metrics;
   DROP TABLE metrics;
   ALTER TABLE metrics_v3 RENAME TO metrics;
   CREATE INDEX metrics_run ON metrics (run_id, name, seq);
   ALTER TABLE runs ADD COLUMN heartbeat_at INTEGER;
   ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;`,
  // The researcher's name, tags and note for a run, and the sweep it belongs to.
  `ALTER TABLE runs ADD COLUMN name TEXT;
   ALTER TABLE runs ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
   ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT '';
   ALTER TABLE runs ADD COLUMN sweep TEXT;`,
];

/** A run whose owner has written no heartbeat for this long is taken as dead (killed, or hung). */
export const SILENT_RUN_MS = 10_000;

const STALE_LOCK_MS = 5000;
const sleepBuf = new Int32Array(new SharedArrayBuffer(4));
const sleepSync = (ms: number) => Atomics.wait(sleepBuf, 0, 0, ms);

function pidAlive(pid: number | null): boolean {
  if (!pid) return false;
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/**
 * Who holds the store's lock: the pid a writer leaves in the VFS's lock directory for the
 * length of its transaction, whether that process lives, and its command line (Linux /proc).
 */
export function lockOwner(path: string): { pid: number; alive: boolean; command?: string } | undefined {
  let pid: number;
  try { pid = Number(readFileSync(join(`${path}.lock`, 'owner'), 'utf8')); } catch { return undefined; }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let command: string | undefined;
  try { command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' '); } catch { /* not Linux, or gone */ }
  return { pid, alive: pidAlive(pid), command };
}

/** Why a store file cannot be opened before SQLite tries (SQLite would only say "Could not open the database"). */
function unusableStorePath(path: string): string | undefined {
  const dir = dirname(path);
  try { mkdirSync(dir, { recursive: true }); } catch (err) {
    return `its folder ${dir} cannot be created (${(err as NodeJS.ErrnoException).code === 'EEXIST' || (err as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'a file is in the way' : (err as Error).message})`;
  }
  if (existsSync(path) && statSync(path).isDirectory()) return 'that path is a folder, not a database file';
  try { accessSync(existsSync(path) ? path : dir, constants.R_OK | constants.W_OK); } catch {
    return existsSync(path) ? 'the file is not readable and writable by this user' : `its folder ${dir} is not writable by this user`;
  }
  return undefined;
}

export class RunStore {
  private db: Db;
  private seqs = new Map<string, number>();

  constructor(public readonly path: string) {
    const unusable = unusableStorePath(path);
    if (unusable) throw new Error(`the run store ${path} cannot be opened: ${unusable}. Point BENCHTOP_HOME (or --out) at a folder you can write`);
    const { Database } = requireHere('node-sqlite3-wasm') as typeof import('node-sqlite3-wasm');
    this.clearStaleLock();
    try { this.db = new Database(path); } catch (err) {
      throw new Error(`the run store ${path} cannot be opened (${(err as Error).message}); it was left untouched`);
    }
    try {
      this.retry(() => this.db.exec('PRAGMA synchronous = FULL'));
      this.migrate();
      this.markInterrupted();
    } catch (err) {
      this.db.close();
      const msg = (err as Error).message;
      if (/locked|busy/i.test(msg)) throw new Error(this.lockHeldMessage());
      // Never "repair" by recreating: the file may hold a user's runs.
      throw new Error(`the run store ${path} cannot be opened (${msg}); it was left untouched: if it is damaged, move it aside (keep it) to start a new one`);
    }
  }

  private lockHeldMessage(): string {
    const owner = lockOwner(this.path);
    const who = owner?.alive ? `another Benchtop process holds its lock (pid ${owner.pid}${owner.command ? `: ${owner.command.slice(0, 120)}` : ''})` : 'another process holds its lock';
    return `the run store ${this.path} is busy: ${who}. Your runs are safe: nothing was changed. Let that process finish, or stop it, then try again`;
  }

  /**
   * The VFS locks with a directory; one left by a killed process would block us forever. A
   * writer leaves its pid in it (see tx): the lock is stale once that process is gone. A lock
   * without a pid (a read, or an older version) is stale after STALE_LOCK_MS. A live holder,
   * even a stopped one, keeps its lock.
   */
  private clearStaleLock(): void {
    const lock = `${this.path}.lock`;
    try {
      if (!existsSync(lock)) return;
      const owner = lockOwner(this.path);
      if (owner ? owner.alive : Date.now() - statSync(lock).mtimeMs <= STALE_LOCK_MS) return;
      rmSync(lock, { recursive: true, force: true });
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
    // The VFS unlocks with rmdir, so the pid file must be gone before COMMIT or ROLLBACK.
    const owner = join(`${this.path}.lock`, 'owner');
    const disown = () => { try { rmSync(owner, { force: true }); } catch { /* unlock reports it */ } };
    this.retry(() => {
      this.db.exec('BEGIN IMMEDIATE');
      try { writeFileSync(owner, String(process.pid)); } catch { /* the age rule still applies */ }
      try { fn(); disown(); this.db.exec('COMMIT'); } catch (err) {
        disown();
        try { this.db.exec('ROLLBACK'); } catch { /* already rolled back */ }
        throw err;
      }
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

  /** The owner's heartbeat for its live runs; returns those another process asked to cancel. */
  heartbeat(ids: readonly string[]): string[] {
    if (!ids.length) return [];
    const marks = ids.map(() => '?').join(', ');
    let cancel: string[] = [];
    this.tx(() => {
      this.db.run(`UPDATE runs SET heartbeat_at = ? WHERE id IN (${marks})`, [Date.now(), ...ids]);
      cancel = (this.db.all(`SELECT id FROM runs WHERE cancel_requested = 1 AND id IN (${marks})`, [...ids]) as { id: string }[]).map((r) => r.id);
    });
    return cancel;
  }

  /** Runs that are queued or running, or were created or finished since `sinceMs`: what another process may have changed. */
  recentRuns(sinceMs: number): RunRecord[] {
    const rows = this.retry(() => this.db.all(
      `SELECT * FROM runs WHERE status IN ('queued', 'running') OR created_at >= ?1 OR finished_at >= ?1 ORDER BY created_at DESC LIMIT 200`, [sinceMs])) as Record<string, unknown>[];
    return rows.map((r) => this.toRecord(r));
  }

  /** Asks the process that owns a run to cancel it (it polls with its heartbeat). */
  requestCancel(id: string): void {
    this.tx(() => { this.db.run(`UPDATE runs SET cancel_requested = 1 WHERE id = ? AND status IN ('queued', 'running')`, [id]); });
  }

  /** Queued or running runs, not in `own`, whose owner has been silent for `silentMs`, become interrupted. */
  interruptSilent(own: ReadonlySet<string>, silentMs = SILENT_RUN_MS): string[] {
    const cutoff = Date.now() - silentMs;
    const rows = this.retry(() => this.db.all(
      `SELECT id FROM runs WHERE status IN ('queued', 'running') AND COALESCE(heartbeat_at, started_at, created_at) < ?`, [cutoff])) as { id: string }[];
    const silent = rows.map((r) => r.id).filter((id) => !own.has(id));
    if (silent.length) this.tx(() => {
      for (const id of silent) {
        // It ended when it last showed life, not when the silence was noticed.
        this.db.run(`UPDATE runs SET status = 'interrupted', finished_at = COALESCE(heartbeat_at, ?), error = COALESCE(error, ?) WHERE id = ? AND status IN ('queued', 'running')`,
          [Date.now(), `its process sent no heartbeat for ${Math.round(silentMs / 1000)} s (killed or hung)`, id]);
      }
    });
    return silent;
  }

  createRun(r: { id: string; lab: string; preset: string; seed: number; params: Record<string, unknown>; host: string; runDir: string; sweep?: RunRecord['sweep'] }): void {
    this.tx(() => {
      this.db.run(`INSERT INTO runs (id, lab, preset, seed, status, params, host, owner_pid, run_dir, created_at, heartbeat_at, sweep) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)`,
        [r.id, r.lab, r.preset, r.seed, stringifyJson(r.params), r.host, process.pid, r.runDir, Date.now(), Date.now(), r.sweep ? stringifyJson(r.sweep) : null]);
      for (const [name, value] of Object.entries(r.params)) this.db.run(`INSERT INTO params (run_id, name, value) VALUES (?, ?, ?)`, [r.id, name, stringifyJson(value)]);
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
          extra.backend === undefined ? null : stringifyJson(extra.backend),
          extra.provenance === undefined ? null : stringifyJson(extra.provenance),
          extra.summary === undefined ? null : stringifyJson(extra.summary),
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
        if (e.type === 'metric') this.db.run(`INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)`, [id, seq, e.step, e.name, Number.isNaN(e.value) ? null : e.value, at]);
        else if (e.type === 'sample') this.db.run(`INSERT INTO samples VALUES (?, ?, ?, ?, ?)`, [id, seq, e.kind, stringifyJson(e.data), at]);
        else if (e.type === 'artifact') this.db.run(`INSERT OR REPLACE INTO artifacts VALUES (?, ?, ?, ?, ?)`, [id, e.name, e.mime, e.path, at]);
        else if (e.type === 'log') this.db.run(`INSERT INTO logs VALUES (?, ?, ?, ?, ?)`, [id, seq, e.level, e.message, at]);
        else if (e.type === 'progress') lastProgress = e;
      }
      if (lastProgress) this.db.run(`UPDATE runs SET progress = ? WHERE id = ?`, [stringifyJson(lastProgress), id]);
    });
    return stored;
  }

  private toRecord(row: Record<string, unknown>): RunRecord {
    // Columns this store wrote itself from the typed fields below.
    const parse = <T,>(v: unknown) => (typeof v === 'string' ? parseJson(v) as T : null);
    return {
      id: row.id as string, lab: row.lab as string, preset: row.preset as RunRecord['preset'], seed: row.seed as number,
      status: row.status as RunStatus, params: parse<RunRecord['params']>(row.params) ?? {}, backend: parse<RunRecord['backend']>(row.backend), provenance: parse<RunRecord['provenance']>(row.provenance),
      summary: parse<RunRecord['summary']>(row.summary), error: (row.error as string) ?? null, progress: parse<RunRecord['progress']>(row.progress), host: row.host as string,
      runDir: row.run_dir as string, createdAt: row.created_at as number, startedAt: (row.started_at as number) ?? null,
      finishedAt: (row.finished_at as number) ?? null,
      name: (row.name as string) ?? null, tags: parse<string[]>(row.tags) ?? [], note: (row.note as string) ?? '', sweep: parse<RunRecord['sweep']>(row.sweep),
    };
  }

  /** Sets a run's name, tags and/or note (fields left out stay as they are). */
  annotate(id: string, change: { name?: string | null; tags?: string[]; note?: string }): void {
    this.tx(() => {
      if (change.name !== undefined) this.db.run(`UPDATE runs SET name = ? WHERE id = ?`, [change.name || null, id]);
      if (change.tags !== undefined) this.db.run(`UPDATE runs SET tags = ? WHERE id = ?`, [stringifyJson([...new Set(change.tags)]), id]);
      if (change.note !== undefined) this.db.run(`UPDATE runs SET note = ? WHERE id = ?`, [change.note, id]);
    });
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
        .map((s) => ({ seq: s.seq, kind: s.kind, data: parseJson(s.data) }));
      const artifacts = this.db.all(`SELECT name, mime, path FROM artifacts WHERE run_id = ? ORDER BY name`, [id]) as { name: string; mime: string; path: string }[];
      const logs = this.db.all(`SELECT seq, level, message, at FROM logs WHERE run_id = ? ORDER BY seq`, [id]) as RunDetail['logs'];
      const last = this.db.get(`SELECT MAX(seq) AS m FROM (SELECT seq FROM metrics WHERE run_id = ?1 UNION ALL SELECT seq FROM samples WHERE run_id = ?1 UNION ALL SELECT seq FROM logs WHERE run_id = ?1)`, [id]) as { m: number | null };
      return { run, metrics, samples, artifacts, logs, lastSeq: last?.m ?? 0 };
    });
  }

  /** Writes a run brought in from an archive, with all its events, in one transaction. */
  insertImported(r: RunRecord, events: { metrics: RunDetail['metrics']; samples: RunDetail['samples']; logs: RunDetail['logs']; artifacts: RunDetail['artifacts'] }): void {
    const j = (v: unknown) => (v === null || v === undefined ? null : stringifyJson(v));
    this.tx(() => {
      this.db.run(`INSERT INTO runs (id, lab, preset, seed, status, params, backend, provenance, summary, error, progress, host, owner_pid, run_dir, created_at, started_at, finished_at, name, tags, note)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?)`,
        [r.id, r.lab, r.preset, r.seed, r.status, stringifyJson(r.params), j(r.backend), j(r.provenance), j(r.summary), r.error, j(r.progress), r.host, r.runDir,
          r.createdAt, r.startedAt, r.finishedAt, r.name, stringifyJson(r.tags), r.note]);
      for (const [name, value] of Object.entries(r.params)) this.db.run(`INSERT INTO params (run_id, name, value) VALUES (?, ?, ?)`, [r.id, name, stringifyJson(value)]);
      let seq = Math.max(0, ...events.samples.map((s) => s.seq), ...events.logs.map((l) => l.seq));
      const at = r.finishedAt ?? r.createdAt;
      for (const s of events.samples) this.db.run(`INSERT INTO samples VALUES (?, ?, ?, ?, ?)`, [r.id, s.seq, s.kind, stringifyJson(s.data), at]);
      for (const l of events.logs) this.db.run(`INSERT INTO logs VALUES (?, ?, ?, ?, ?)`, [r.id, l.seq, l.level, l.message, l.at]);
      for (const [name, points] of Object.entries(events.metrics)) {
        for (const p of points) this.db.run(`INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)`, [r.id, ++seq, p.step, name, Number.isNaN(p.value) ? null : p.value, at]);
      }
      for (const a of events.artifacts) this.db.run(`INSERT OR REPLACE INTO artifacts VALUES (?, ?, ?, ?, ?)`, [r.id, a.name, a.mime, a.path, at]);
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
