// Shared trained parts (the judge classifier now; the MSE codec and a pretrained decoder
// later): cached under cache/parts/<key>-<hash>, where the hash covers the part's recipe
// and code version, and trained deterministically on a miss. A lock directory keeps two
// workers from training the same part at once.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, writeFileAtomic } from './paths';
import type { RunContext } from './context';

export interface SharedPart<T> {
  key: string;
  /** Everything that changes the trained result. */
  recipe: Record<string, unknown>;
  /** Bump when the training or model code changes in a way the recipe does not show. */
  codeVersion: number;
  build(dir: string, ctx: RunContext): Promise<void>;
  load(dir: string, ctx: RunContext): Promise<T>;
}

export function partHash(part: SharedPart<unknown>): string {
  return createHash('sha256').update(JSON.stringify({ recipe: part.recipe, code: part.codeVersion })).digest('hex').slice(0, 12);
}

export function partDir(part: SharedPart<unknown>, home?: string): string {
  return join(cacheDir(home), 'parts', `${part.key.replace(/[^a-z0-9.-]+/gi, '_')}-${partHash(part)}`);
}

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * The builder touches its lock this often; a lock silent for STALE_MS lost its builder (a
 * worker thread terminated inside a live process cannot clean up). The timer only fires
 * when the builder's training loop yields, which on a loaded machine can take tens of
 * seconds, so the limit is minutes: a lock taken from a live, slow builder had two
 * processes train the same part and delete each other's files.
 */
const HEARTBEAT_MS = 2000;
const STALE_MS = 180_000;

export function partCached(part: SharedPart<unknown>, home?: string): boolean {
  return existsSync(join(partDir(part, home), 'DONE'));
}

export async function obtainPart<T>(part: SharedPart<T>, ctx: RunContext, home?: string): Promise<T> {
  const dir = partDir(part, home);
  const done = join(dir, 'DONE');
  const lock = `${dir}.lock`;
  mkdirSync(join(dir, '..'), { recursive: true });
  while (!existsSync(done)) {
    const me = `${process.pid}:${Date.now()}:${Math.random().toString(36).slice(2)}`;
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'owner'), me);
    } catch {
      // Someone else is building it: wait, unless its owner died (another process) or went
      // silent (a terminated worker thread of a live process cannot clean up after itself).
      let owner = '', beat = Date.now();
      try { owner = readFileSync(join(lock, 'owner'), 'utf8'); beat = statSync(join(lock, 'owner')).mtimeMs; } catch { /* just created */ }
      const pid = Number(owner.split(':')[0]);
      if (owner && ((pid !== process.pid && !pidAlive(pid)) || Date.now() - beat > STALE_MS)) rmSync(lock, { recursive: true, force: true });
      ctx.progress(`waiting for ${part.key}`, 0, 1);
      ctx.throwIfCancelled();
      await sleep(500);
      continue;
    }
    const heartbeat = setInterval(() => { try { const t = new Date(); utimesSync(join(lock, 'owner'), t, t); } catch { /* lock gone */ } }, HEARTBEAT_MS);
    try {
      if (!existsSync(done)) {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        ctx.log(`training shared part ${part.key} (not in cache)`);
        await part.build(dir, ctx);
        writeFileAtomic(done, JSON.stringify({ key: part.key, recipe: part.recipe, codeVersion: part.codeVersion, at: new Date().toISOString() }));
      }
    } finally {
      clearInterval(heartbeat);
      // Only our own lock: had it been judged stale and taken, the new owner keeps it.
      let owner = '';
      try { owner = readFileSync(join(lock, 'owner'), 'utf8'); } catch { /* gone */ }
      if (owner === me) rmSync(lock, { recursive: true, force: true });
    }
  }
  return part.load(dir, ctx);
}
