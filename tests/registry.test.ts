// The three registries of labs agree: every spec (common/labs) has its worker definition
// (workers/labs) built on that same spec, and its panel (renderer/src/panels). A lab missing
// from one would otherwise show no panel, or fail only when run.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { LAB_SPECS, findLabSpec } from '../common/labs';
import { LABS } from '../workers/labs';

let PANELS: Record<string, unknown>;
beforeAll(async () => {
  vi.stubGlobal('window', { benchtop: {} }); // the panels' bridge reads window at import
  ({ PANELS } = await import('../renderer/src/panels'));
});

describe('lab registries', () => {
  const ids = LAB_SPECS.map((s) => s.id);
  it('name the same labs, once each', () => {
    expect(new Set(ids).size).toBe(ids.length);
    expect(Object.keys(LABS).sort()).toEqual([...ids].sort());
    expect(Object.keys(PANELS).sort()).toEqual([...ids].sort());
  });
  it('each worker definition runs on the registered spec itself', () => {
    for (const id of ids) {
      expect(LABS[id].spec, id).toBe(findLabSpec(id));
      expect(typeof LABS[id].run, id).toBe('function');
      if (LABS[id].queries) expect(typeof LABS[id].loadModel, `${id} answers queries, so it must reload a finished run`).toBe('function');
    }
  });
  it('each spec names its metrics, and every preset is valid for its params', () => {
    for (const s of LAB_SPECS) {
      expect(s.metrics.length, s.id).toBeGreaterThan(0);
      for (const preset of ['smoke', 'default', 'paper'] as const) expect(s.params.safeParse(s.presets[preset]).success, `${s.id} ${preset}`).toBe(true);
    }
  });
});
