import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { CORE_TURNS_BYTES, CoreTurns } from '../workers/runtime/core-turns';

/**
 * Threads that each take `turns` turns through CoreTurns, busy for a few ms in each, logging
 * who holds a turn (log) and how many hold one at once (peak). CoreTurns' source goes to
 * eval workers as is: it has no imports and names nothing outside itself.
 */
async function race(threads: number, cores: number, turns: number) {
  const shared = new SharedArrayBuffer(CORE_TURNS_BYTES);
  // words: [0] threads inside a turn now, [1] the most at once, [2] log length, [3] threads started, then the log of ids.
  const src = `
    const { workerData: w } = require('node:worker_threads');
    const CoreTurns = (${CoreTurns.toString()});
    const c = new Int32Array(w.counters), t = new CoreTurns(w.shared, w.cores);
    Atomics.add(c, 3, 1);
    while (Atomics.load(c, 3) < w.threads) {} // all start together, so the log shows the queue, not thread start-up
    t.acquire();
    for (let i = 0; i < w.turns; i++) {
      const inside = Atomics.add(c, 0, 1) + 1;
      for (;;) { const p = Atomics.load(c, 1); if (inside <= p || Atomics.compareExchange(c, 1, p, inside) === p) break; }
      const end = Date.now() + 3; while (Date.now() < end) {}
      const at = Atomics.add(c, 2, 1);
      Atomics.store(c, 4 + at, w.id);
      Atomics.sub(c, 0, 1);
      if (i + 1 < w.turns) t.pass();
    }
    t.release();`;
  const words = new Int32Array(new SharedArrayBuffer(4 * (4 + threads * turns)));
  await Promise.all(Array.from({ length: threads }, (_, id) => new Promise<void>((resolve, reject) => {
    const w = new Worker(src, { eval: true, workerData: { shared, counters: words.buffer, cores, turns, id, threads } });
    w.on('error', reject);
    w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`thread ${id} exited with ${code}`))));
  })));
  return { peak: words[1], log: Array.from(words.subarray(4, 4 + words[2])) };
}

describe('core turns', () => {
  it('lets at most `cores` threads compute at once, and every thread finishes', async () => {
    const { peak, log } = await race(3, 2, 12);
    expect(peak).toBe(2);
    expect(log).toHaveLength(36);
    for (const id of [0, 1, 2]) expect(log.filter((x) => x === id)).toHaveLength(12);
  }, 60_000);

  it('serves turns in the order they were asked for: on one core, three threads take turns round-robin', async () => {
    const { peak, log } = await race(3, 1, 10);
    expect(peak).toBe(1);
    expect(log).toHaveLength(30);
    // The OS may start a thread late (its first ticket then comes a turn or two after the others' second);
    // from the first round with all three in it until one thread is done, the queue's order shows.
    const first = log.findIndex((_, i) => new Set(log.slice(i, i + 3)).size === 3);
    const lastRound = Math.min(...[0, 1, 2].map((id) => log.lastIndexOf(id)));
    expect(first, log.join('')).toBeLessThanOrEqual(3);
    expect(lastRound - first, log.join('')).toBeGreaterThanOrEqual(20);
    for (let i = first + 3; i <= lastRound; i++) expect(log[i], `turn ${i} of ${log.join('')}`).toBe(log[i - 3]);
  }, 60_000);

  it('rejects a budget of no cores', () => {
    expect(() => new CoreTurns(new SharedArrayBuffer(CORE_TURNS_BYTES), 0)).toThrow(/at least one core/);
  });
});
