// The generated params form's conversions: list fields (arrays) are typed as
// comma-separated items, numbers or options, and refused item by item.
import { describe, expect, it } from 'vitest';
import type { LabInfo } from '../common/api';
import { describeParams, resolveParams } from '../common/lab';
import { LAB_SPECS } from '../common/labs';
import { byzMomentumSpec } from '../common/labs/byz-momentum';
import { fieldError, formToParams, presetValues } from '../renderer/src/components/ParamsForm';

const lab = { id: byzMomentumSpec.id, fields: describeParams(byzMomentumSpec.params), presets: byzMomentumSpec.presets } as unknown as LabInfo;
const field = (name: string) => lab.fields.find((f) => f.name === name)!;

describe('params form lists', () => {
  it('shows a list default as comma-separated items and converts it back', () => {
    const values = presetValues(lab, 'default');
    expect(values.gammas).toBe('0.5, 0.05, 0.005');
    expect(values.gridMethods).toBe('ef21sgdm, ef21, brcsgd');
    const r = formToParams(lab, { ...values, gammas: '0.1, 0.01,', gridAttacks: 'alie ,ipm' });
    expect('params' in r && r.params.gammas).toEqual([0.1, 0.01]);
    expect('params' in r && r.params.gridAttacks).toEqual(['alie', 'ipm']);
  });
  it('every lab\'s preset values go through the form and back unchanged (tuples and lists included)', () => {
    for (const spec of LAB_SPECS) {
      const info = { id: spec.id, fields: describeParams(spec.params), presets: spec.presets } as unknown as LabInfo;
      for (const preset of ['smoke', 'default', 'paper'] as const) {
        const r = formToParams(info, presetValues(info, preset));
        if ('error' in r) throw new Error(`${spec.id} ${preset}: ${r.error}`);
        expect(() => resolveParams(spec, preset, r.params), `${spec.id} ${preset}`).not.toThrow();
        expect(resolveParams(spec, preset, r.params)).toEqual(resolveParams(spec, preset));
      }
    }
  });
  it('names the bad item', () => {
    expect(fieldError(field('gammas'), '0.5, fast')).toBe('"fast" is not a number');
    expect(fieldError(field('gridAggregators'), 'cwtm, median')).toMatch(/^"median" is not one of mean, cm, cwtm/);
    expect(fieldError(field('gammas'), ' ')).toBe('give at least 1 item'); // gammas needs one step size at least
  });
  it('lets a string whose default is empty (no file) stay empty, and requires any other', () => {
    const afm = describeParams(LAB_SPECS.find((l) => l.id === 'afm-ondevice')!.params).find((f) => f.name === 'textFile')!;
    expect(fieldError(afm, '')).toBeUndefined();
    expect(fieldError({ ...afm, default: 'stories.txt' }, ' ')).toBe('required');
  });
});
