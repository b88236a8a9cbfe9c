import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeParams, ParamsError, resolveParams, type LabSpec } from '../common/lab';
import { referenceClassifierSpec } from '../common/labs/reference-classifier';
import { LAB_SPECS } from '../common/labs';
import { fieldError } from '../renderer/src/components/ParamsForm';

const spec: LabSpec = {
  id: 't', title: 't', paper: { title: 't', arxiv: '0' }, summary: '', defaultTime: '', metrics: [], checks: [], keyMetrics: [], codeVersion: 1,
  params: z.object({
    lr: z.number().min(0.001).max(1).default(0.1).describe('step'),
    n: z.number().int().min(1).max(10).default(3).describe('count'),
    mode: z.enum(['a', 'b']).default('a').describe('mode'),
  }),
  presets: { smoke: { n: 1 }, default: {}, paper: { n: 10 } },
};

describe('params', () => {
  it('applies preset then overrides, filling defaults', () => {
    expect(resolveParams(spec, 'smoke')).toEqual({ lr: 0.1, n: 1, mode: 'a' });
    expect(resolveParams(spec, 'paper', { lr: 0.5 })).toEqual({ lr: 0.5, n: 10, mode: 'a' });
  });
  it('names the bad field for out-of-range, wrong-type and unknown values', () => {
    const fail = (o: Record<string, unknown>) => { try { resolveParams(spec, 'default', o); } catch (e) { return e as ParamsError; } throw new Error('no error'); };
    expect(fail({ n: 11 }).field).toBe('n');
    expect(fail({ n: 11 }).message).toMatch(/invalid parameter "n"/);
    expect(fail({ n: 2.5 }).field).toBe('n');
    expect(fail({ lr: 'fast' }).field).toBe('lr');
    expect(fail({ mode: 'c' }).field).toBe('mode');
    expect(fail({ bogus: 1 }).message).toMatch(/unknown parameter "bogus"/);
  });
  it('rejects an unknown preset', () => {
    expect(() => resolveParams(spec, 'huge' as never)).toThrow(/unknown preset/);
  });
  it('describes fields with kind, range and default for the generated form', () => {
    const fields = describeParams(spec.params);
    expect(fields).toEqual([
      { name: 'lr', kind: 'number', itemKind: undefined, description: 'step', default: 0.1, min: 0.001, max: 1, options: undefined },
      { name: 'n', kind: 'integer', itemKind: undefined, description: 'count', default: 3, min: 1, max: 10, options: undefined, minItems: undefined },
      { name: 'mode', kind: 'enum', itemKind: undefined, description: 'mode', default: 'a', min: undefined, max: undefined, options: ['a', 'b'], minItems: undefined },
    ]);
  });
  it('describes arrays as lists of numbers or of options (typed comma-separated in the form)', () => {
    const fields = describeParams(z.object({
      steps: z.array(z.number()).default([0.5, 0.05]).describe('steps'),
      models: z.array(z.enum(['ec', 'tc'])).default(['ec']).describe('models'),
      range: z.tuple([z.number(), z.number()]).default([0.25, 0.85]).describe('range'),
    }));
    expect(fields.map((f) => [f.kind, f.itemKind, f.options])).toEqual([['list', 'number', undefined], ['list', 'string', ['ec', 'tc']], ['list', 'number', undefined]]);
  });
  it('an empty list is valid unless the list needs items, and the form says how many', () => {
    const [optional, needed] = describeParams(z.object({
      zetas: z.array(z.number()).max(5).default([]).describe('optional'),
      lambdas: z.array(z.number()).min(2).default([1, 2]).describe('needed'),
    }));
    expect(fieldError(optional, '')).toBeUndefined();
    expect(fieldError(optional, ' , ')).toBeUndefined();
    expect(fieldError(needed, '')).toBe('give at least 2 items');
    expect(fieldError(needed, '1, x')).toBe('"x" is not a number');
  });
  it('every lab: each field has a default, a description and (numbers) a range; presets validate', () => {
    for (const s of LAB_SPECS) {
      for (const f of describeParams(s.params)) {
        expect(f.default, `${s.id}.${f.name} default`).not.toBeUndefined();
        expect(f.description, `${s.id}.${f.name} description`).not.toBe('');
        if (f.kind === 'number' || f.kind === 'integer') { expect(f.min).toBeDefined(); expect(f.max).toBeDefined(); }
      }
      for (const p of ['smoke', 'default', 'paper'] as const) expect(() => resolveParams(s, p)).not.toThrow();
    }
    expect(referenceClassifierSpec.metrics).toContain('testAccuracy');
  });
});
