// Runtime: any thread. Turns on a job's cores for more task threads than cores: a thread
// computes only while it holds a turn and hands it on between steps, first come first
// served (a ticket queue in shared memory). Three trainings on a 2-core job thus all run
// from the start and finish together, instead of two running and the third waiting alone
// on one core while the other idles; the job never uses more cores than it was granted.
// Self-contained (no imports, no outer names): a test sends its source to eval workers.

/** Shared words: [0] the next ticket to hand out, [1] the turns given back so far. */
export const CORE_TURNS_BYTES = 8;

export class CoreTurns {
  private readonly words: Int32Array;
  private held = false;

  /** `cancelled()` is asked while waiting, so a cancelled run never blocks on a turn. */
  constructor(shared: SharedArrayBuffer, private readonly cores: number, private readonly cancelled: () => boolean = () => false) {
    if (!(cores >= 1)) throw new RangeError(`core turns need at least one core, not ${cores}`);
    this.words = new Int32Array(shared, 0, 2);
  }

  /** Waits for a turn (tickets are served in the order taken). False when cancelled while waiting. */
  acquire(): boolean {
    return this.held || this.waitFor(Atomics.add(this.words, 0, 1));
  }

  /** Gives the turn back. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    this.giveBack();
  }

  /**
   * Between two steps: lets every thread queued behind this one have its turn first. The
   * next ticket is taken before the turn is given back, so the queue's order cannot depend
   * on which thread the OS happens to run first.
   */
  pass(): boolean {
    if (!this.held) return this.acquire();
    const ticket = Atomics.add(this.words, 0, 1);
    this.held = false;
    this.giveBack();
    return this.waitFor(ticket);
  }

  private waitFor(ticket: number): boolean {
    for (;;) {
      const returned = Atomics.load(this.words, 1);
      if (ticket < returned + this.cores) { this.held = true; return true; }
      // A ticket given up still counts as served, or the tickets behind it would wait forever.
      if (this.cancelled()) { this.giveBack(); return false; }
      Atomics.wait(this.words, 1, returned, 100);
    }
  }

  private giveBack(): void {
    Atomics.add(this.words, 1, 1);
    Atomics.notify(this.words, 1);
  }
}
