// Checks a lab run against the contract its spec declares: every sample payload matches
// its kind's schema, every declared kind was emitted, every declared query was asked and
// answered with a result its schema accepts.
import { expect } from 'vitest';
import type { LabEvent } from '../../common/events';
import type { LabDefinition } from '../../workers/runtime/context';
import { answerQuery } from '../../workers/runtime/query';

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
    /** Every sample matches its schema; every declared sample kind and query was exercised. */
    expectFulfilled(events: readonly LabEvent[]): void {
      const seen = this.expectSamplesValid(events);
      expect([...seen].sort(), 'sample kinds emitted').toEqual(Object.keys(spec.samples ?? {}).sort());
      expect([...asked].sort(), 'queries exercised').toEqual(Object.keys(spec.queries ?? {}).sort());
    },
  };
}
