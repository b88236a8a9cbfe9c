// Checks a lab run against the contract its spec declares: every sample payload matches
// its kind's schema, every declared kind was emitted, every declared query was asked and
// answered with a result its schema accepts.
import { expect } from 'vitest';
import type { LabEvent } from '../../common/events';
import type { LabDefinition } from '../../workers/runtime/context';
import { answerQuery } from '../../workers/runtime/query';

/** Progress of a shared part's training (the judge, a codec) or of waiting for another run to train it. */
const SHARED_PART_PHASE = /^(waiting for |train judge:|train codec |train prior:|train lm:|train mm15:)/;

export function contractChecker(lab: LabDefinition) {
  const asked = new Set<string>();
  const spec = lab.spec;
  return {
    /** A query as the worker answers it (arguments parsed by their schema), result checked. */
    async query(name: string, args: unknown, model: unknown): Promise<unknown> {
      const result = await answerQuery(lab, name, args, model);
      const parsed = spec.queries?.[name]?.result.safeParse(result);
      if (parsed && !parsed.success) throw new Error(`query ${name}: result does not match its schema: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      asked.add(name);
      return result;
    },
    /** Every sample matches its declared kind's schema; returns the kinds seen. */
    expectSamplesValid(events: readonly LabEvent[]): Set<string> {
      const seen = new Set<string>();
      for (const e of events) {
        if (e.type !== 'sample') continue;
        const schema = spec.samples?.[e.kind];
        expect(schema, `sample kind "${e.kind}" is not declared in the ${spec.id} spec`).toBeDefined();
        const parsed = schema!.safeParse(e.data);
        expect(parsed.success ? [] : parsed.error.issues.slice(0, 3).map((i) => `${e.kind}: ${i.path.join('.')}: ${i.message}`)).toEqual([]);
        seen.add(e.kind);
      }
      return seen;
    },
    /**
     * Every progress phase of the lab's own is in the plan it declared (ctx.plan), in plan
     * order; phases of a shared part trained on a miss are its own.
     */
    expectPlanFollowed(events: readonly LabEvent[]): void {
      const progress = events.filter((e): e is Extract<LabEvent, { type: 'progress' }> => e.type === 'progress' && !SHARED_PART_PHASE.test(e.phase));
      expect(progress.length, 'progress events').toBeGreaterThan(0);
      expect([...new Set(progress.filter((e) => e.step === undefined).map((e) => e.phase))], 'phases missing from the plan').toEqual([]);
      const steps = progress.map((e) => e.step!);
      expect(steps, 'phases in plan order').toEqual([...steps].sort((a, b) => a - b));
    },
    /** Every sample matches its schema; every declared sample kind and query was exercised. */
    expectFulfilled(events: readonly LabEvent[]): void {
      const seen = this.expectSamplesValid(events);
      expect([...seen].sort(), 'sample kinds emitted').toEqual(Object.keys(spec.samples ?? {}).sort());
      expect([...asked].sort(), 'queries exercised').toEqual(Object.keys(spec.queries ?? {}).sort());
    },
  };
}
